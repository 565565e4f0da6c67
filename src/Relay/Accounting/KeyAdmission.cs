using System.Globalization;
using Relay.Configuration;
using Relay.Errors;
using Relay.Protocol.Anthropic;
using Relay.Protocol.Text;
using Relay.Routing;
using Relay.Storage;
using Relay.Storage.Accounts;

namespace Relay.Accounting;

/// <summary>
/// Takes a request's share of its key's limits before it is dispatched (requests and tokens per minute, a concurrency
/// slot, and its estimated cost from the key's budget and the user's balance) and gives the slot back when it ends.
/// The real cost is settled when the request's usage record is written.
/// </summary>
/// <remarks>
/// Fails closed: when the limits store cannot be read or written, the request is refused, never served unmetered.
/// count_tokens is never limited or billed; a key without rate, concurrency or money limits skips the store entirely.
/// </remarks>
internal sealed class KeyAdmission(IAdmissionStore store, IPriceBook prices, RelayConfig config, TimeProvider time, ILogger<KeyAdmission> logger)
{
    /// <summary>Added to the longest a request can run before its reservation lapses by itself (when the instance
    /// that admitted it died and never reported its end).</summary>
    private static readonly TimeSpan ReservationMargin = TimeSpan.FromMinutes(1);

    /// <summary>The most one request holds ($1,000,000): far above any budget, so admission decides as it would with the
    /// whole estimate (a request is admitted while anything is left), yet the sums of many holds stay within a long.</summary>
    private const long MaxReservationNanos = 1_000_000 * Usd.NanosPerDollar;

    /// <summary>Checks the key's money and rate limits for this request and takes them; null when the request may go
    /// on (with <see cref="Ticket.ReservationId"/> set when something was taken), otherwise the refusal to answer.
    /// Rate-limit headers for the key's limits are added to whatever answer the request gets.</summary>
    /// <param name="pricedModel">The model name the request is priced at: the client's, or a scenario rule's target.</param>
    public async Task<RelayError?> AdmitAsync(HttpContext context, StoredApiKey key, MessagesEndpointKind endpoint, MessagesRequestInfo info,
        ModelEntry model, string pricedModel, Ticket ticket, CancellationToken cancellationToken)
    {
        if (endpoint == MessagesEndpointKind.CountTokens)
        {
            return null; // never billed, never limited
        }

        var limits = key.Limits;
        var metered = limits.BudgetNanos is not null || key.UserPrepaid;
        if (!limits.NeedsAdmission && !metered)
        {
            return null;
        }

        long reserve = 0;
        if (metered)
        {
            // Every route must have a price, or a fallback to an unpriced one would serve the request unmetered.
            foreach (var route in model.Routes)
            {
                if (UsageCost.PriceOf(prices, pricedModel, route, info.Model) is not { } price)
                {
                    return Unpriced(pricedModel);
                }

                var maxOutput = route.MaxTokens is { } cap ? Math.Min(info.MaxTokens, cap) : info.MaxTokens;
                reserve = Math.Max(reserve, price.ReservationNanos(Math.Max(0, info.EstimatedInputTokens), Math.Max(0, maxOutput)));
            }

            reserve = Math.Min(reserve, MaxReservationNanos);
        }

        var now = time.GetUtcNow();
        var request = new AdmissionRequest
        {
            KeyId = key.Id,
            UserId = key.UserId,
            Now = now,
            RequestsPerMinute = limits.RequestsPerMinute,
            TokensPerMinute = limits.TokensPerMinute,
            EstimatedTokens = info.EstimatedInputTokens,
            Concurrency = limits.Concurrency,
            BudgetNanos = limits.BudgetNanos,
            BudgetPeriod = limits.BudgetPeriod,
            ChargeUserBalance = key.UserPrepaid,
            ReserveNanos = reserve,
            ReservationExpires = now + LongestRun(model),
        };

        AdmissionDecision decision;
        try
        {
            decision = await store.AdmitAsync(request, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // Also while Relay stops: a store failure is a 503 then too; only the request's own cancellation goes on up.
            Log.AdmissionFailed(logger, context.TraceIdentifier, ex);
            return new RelayError(503, ErrorTypes.Api,
                "Relay could not check this key's limits (its limits store failed), so the request was not served; retry shortly.", true);
        }

        RateLimitHeaders.Add(context.Response, limits, decision);
        ticket.ReservationId = decision.Admitted ? decision.ReservationId : null;
        // Ending the request early frees a concurrency slot and corrects the token bucket; the money it reserved
        // waits for the usage record's settlement either way. A key with neither limit has nothing to free early.
        ticket.ReleaseAtEnd = limits.Concurrency is not null || limits.TokensPerMinute is not null;
        return decision.Refusal switch
        {
            AdmissionRefusal.None => null,
            AdmissionRefusal.Requests => RateLimited($"This key's limit of {limits.RequestsPerMinute} requests per minute is used up", decision.RetryAfter),
            AdmissionRefusal.Tokens => RateLimited($"This key's limit of {limits.TokensPerMinute} tokens per minute is used up", decision.RetryAfter),
            AdmissionRefusal.Concurrency => RateLimited($"This key already has {limits.Concurrency} requests running, its concurrency limit", decision.RetryAfter),
            AdmissionRefusal.Budget => BudgetUsedUp(limits, now),
            _ => new RelayError(402, ErrorTypes.Billing,
                $"User '{key.UserName}' has no balance left for this request (requests still running count against it); ask the operator to top it up.", false),
        };
    }

    /// <summary>The request ended (however it ended): frees its concurrency slot and corrects the token allowance by
    /// what it really used. A failure is logged; the record's settlement or the reservation's expiry frees the slot.</summary>
    public async Task ReleaseAsync(HttpContext context, Ticket ticket, TokenUsage usage)
    {
        if (ticket.ReservationId is not { } reservation || !ticket.ReleaseAtEnd)
        {
            return;
        }

        try
        {
            await store.ReleaseAsync(reservation, usage.InputTokens + usage.CacheCreationInputTokens + usage.OutputTokens, time.GetUtcNow(), CancellationToken.None);
        }
        catch (Exception ex)
        {
            Log.AdmissionReleaseFailed(logger, context.TraceIdentifier, ex);
        }
    }

    /// <summary>The longest the model's request can run: every attempt at the slowest route's total timeout, the
    /// retry budget, and the drain after a stop.</summary>
    private TimeSpan LongestRun(ModelEntry model)
    {
        var slowest = model.Routes.Max(r => config.Providers.TryGetValue(r.Provider, out var provider) ? provider.TotalTimeoutSeconds ?? RelayDefaults.TotalTimeoutSeconds : RelayDefaults.TotalTimeoutSeconds);
        return TimeSpan.FromSeconds((double)slowest * model.MaxAttempts + config.ShutdownDrainSeconds) + model.RetryBudget + ReservationMargin;
    }

    private static RelayError Unpriced(string model) => new(403, ErrorTypes.Permission,
        $"Model {ClientText.Shorten(model)} has no price in Relay, so a key with a budget or a prepaid balance cannot use it; ask the operator to set its price.", false);

    /// <summary>A 429 with retry-after; a wait longer than clients retry by themselves is said and not retried.</summary>
    private static RelayError RateLimited(string what, TimeSpan? retryAfter)
    {
        var wait = retryAfter ?? TimeSpan.FromSeconds(1);
        var longWait = RetryAdvice.IsTooLong(wait);
        return new RelayError(429, ErrorTypes.RateLimit, $"{what}; retry in {RetryAdvice.Seconds(wait)} s.", !longWait) { RetryAfter = wait };
    }

    private static RelayError BudgetUsedUp(KeyLimits limits, DateTimeOffset now)
    {
        var budget = Usd.Format(limits.BudgetNanos!.Value);
        var message = BudgetPeriods.End(limits.BudgetPeriod, now) is { } reset
            ? $"This key has used up its budget of {budget} per {BudgetPeriods.Name(limits.BudgetPeriod)} (requests still running count against it); "
              + $"it resets at {reset.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)} UTC."
            : $"This key has used up its budget of {budget} (requests still running count against it); ask the operator to raise it.";
        return new RelayError(402, ErrorTypes.Billing, message, false);
    }

    /// <summary>What a request took at admission, to give back when it ends.</summary>
    internal sealed class Ticket
    {
        public long? ReservationId { get; set; }

        /// <summary>Whether the reservation holds something to give back when the request ends, before settlement.</summary>
        public bool ReleaseAtEnd { get; set; }
    }
}
