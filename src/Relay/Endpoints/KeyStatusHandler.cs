using System.Text.Json;
using Relay.Auth;
using Relay.Configuration;
using Relay.Endpoints.Admin;
using Relay.Errors;
using Relay.Hosting;
using Relay.Storage;
using Relay.Storage.Accounts;
using Relay.Upstreams;

namespace Relay.Endpoints;

/// <summary>
/// <c>GET /v1/key</c>: a key holder reads their own key with the key itself (x-api-key or Bearer): its status,
/// expiry, allowed models and addresses, limits, budget and what is left of it, the user's balance, and the key's last
/// <see cref="RecentRecords"/> requests. It never shows another key or the key itself. A missing, unknown or revoked
/// key gets the usual 401, and a client address outside the key's list the usual 403; a disabled or expired key may
/// still read its status, which is how its holder learns why requests fail.
/// </summary>
internal sealed class KeyStatusHandler(ClientAuthenticator authenticator, UnauthenticatedRequests strangers, KeyAccess access, IApiKeyStore keys,
    IUserStore users, IUsageStore usage, TimeProvider time, RelayConfig config, UpstreamRegistry upstreams)
{
    public const int RecentRecords = 20;

    // A bridge holds no keys: the remote Relay knows the key, so it answers.
    private readonly AnthropicUpstream? _bridge = config.BridgeProvider is { } provider ? upstreams[provider] as AnthropicUpstream : null;

    public async Task GetAsync(HttpContext context)
    {
        if (_bridge is not null)
        {
            await _bridge.ForwardGetAsync(context, "/v1/key", context.RequestAborted);
            return;
        }

        try
        {
            await AnswerAsync(context);
        }
        catch (Exception ex) when (!context.RequestAborted.IsCancellationRequested && !context.Response.HasStarted && ex is not OperationCanceledException)
        {
            // The status is read from the store on every call; without it there is nothing true to show.
            await ErrorResponses.WriteAsync(context, RelayError.KeyStoreUnavailable());
        }
    }

    private async Task AnswerAsync(HttpContext context)
    {
        var auth = await authenticator.AuthenticateAsync(context.Request.Headers, context.RequestAborted);
        var key = auth.Key is { } stored ? await keys.FindKeyAsync(stored.Name, context.RequestAborted) : null;
        if (auth.StoreFailed)
        {
            await ErrorResponses.WriteAsync(context, RelayError.KeyStoreUnavailable());
            return;
        }

        if (key is null || key.Id != auth.Key!.Id)
        {
            await ErrorResponses.WriteAsync(context, strangers.Refuse(context, auth.Presented ? RelayError.InvalidKey() : RelayError.MissingKey()));
            return;
        }

        // A key limited to some addresses shows nothing to others: its status and balance are the holder's business.
        if (access.CheckAddress(context, auth.Key!) is { } refused)
        {
            await ErrorResponses.WriteAsync(context, refused);
            return;
        }

        await WriteAsync(context, await BuildAsync(key, context.RequestAborted));
    }

    /// <summary>The status document of <paramref name="key"/>, as its holder may see it.</summary>
    public async Task<KeyStatus> BuildAsync(ApiKeyInfo key, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var limits = key.Limits;
        var user = key.UserName is { } userName ? await users.FindUserAsync(userName, cancellationToken) : null;
        var recent = await usage.GetUsagePageAsync(new UsageFilter { KeyId = key.Id }, null, RecentRecords, cancellationToken);
        return new KeyStatus
        {
            Name = key.Name,
            Prefix = key.DisplayPrefix,
            Status = KeyView.StatusOf(key, now),
            CreatedAt = key.CreatedAt.ToUniversalTime(),
            ExpiresAt = limits.ExpiresAt?.ToUniversalTime(),
            Models = limits.Models is { Count: > 0 } models ? models : null,
            AllowedIps = limits.AllowedIps is { Count: > 0 } ips ? ips : null,
            Limits = new KeyStatusLimits
            {
                RequestsPerMinute = limits.RequestsPerMinute,
                TokensPerMinute = limits.TokensPerMinute,
                Concurrency = limits.Concurrency,
            },
            Budget = limits.BudgetNanos is { } budget
                ? new KeyStatusBudget
                {
                    Limit = Usd.FromNanos(budget),
                    Period = BudgetPeriods.Name(limits.BudgetPeriod),
                    PeriodSpent = Usd.FromNanos(key.PeriodSpentNanos),
                    Remaining = Usd.FromNanos(Math.Max(0, budget - key.PeriodSpentNanos)),
                    ResetsAt = BudgetPeriods.End(limits.BudgetPeriod, now),
                }
                : null,
            Spent = Usd.FromNanos(key.SpentNanos),
            User = user is null ? null : new KeyStatusUser
            {
                Name = user.Name,
                Balance = user.BalanceNanos is { } balance ? Usd.FromNanos(balance) : null,
            },
            RecentUsage = [.. recent.Items.Select(e => e.Record).Select(r => new KeyStatusUsage
            {
                Time = r.Timestamp.ToUniversalTime(),
                RequestId = r.RequestId,
                Model = r.RequestedModel,
                Endpoint = r.Endpoint,
                Status = r.Status,
                ErrorType = r.ErrorType,
                InputTokens = r.InputTokens,
                OutputTokens = r.OutputTokens,
                CacheWriteTokens = r.CacheCreationInputTokens,
                CacheReadTokens = r.CacheReadInputTokens,
                Cost = r.CostNanos is { } cost ? Usd.FromNanos(cost) : null,
            })],
        };
    }

    public static Task WriteAsync(HttpContext context, KeyStatus status)
    {
        context.Response.ContentType = "application/json";
        return JsonSerializer.SerializeAsync(context.Response.Body, status, RelayJsonContext.Default.KeyStatus, context.RequestAborted);
    }
}
