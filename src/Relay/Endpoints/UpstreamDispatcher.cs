using System.Diagnostics;
using System.Globalization;
using System.Text;
using Relay.Buffers;
using Relay.Errors;
using Relay.Protocol.Anthropic;
using Relay.Routing;
using Relay.Upstreams;

namespace Relay.Endpoints;

/// <summary>What the dispatcher did, for the usage record.</summary>
internal sealed record DispatchOutcome(int Status, TokenUsage Usage, string? ErrorType, RouteTarget? LastRoute, int Attempts, string? AttemptLog);

/// <summary>
/// Sends one request along a model's routes: the fallback chain in order (weighted tiers least-loaded first),
/// skipping routes whose circuit is open or whose provider is down, retrying retryable failures on the next route
/// and then in rounds with backoff, within the model's attempt and time budget. Nothing is retried once a byte has
/// reached the client. If every attempt fails, the last upstream answer is forwarded unchanged.
/// </summary>
internal sealed class UpstreamDispatcher(UpstreamRegistry upstreams, RouteHealthRegistry health, RoutePlanner planner, TimeProvider time)
{
    public async Task<DispatchOutcome> DispatchAsync(HttpContext context, MessagesEndpointKind endpoint, ReadOnlyMemory<byte> body,
        MessagesRequestInfo info, ModelEntry entry, bool clientUsedRelayKey, RequestTiming timing, CancellationToken cancellationToken)
    {
        var order = planner.Order(entry);
        var deadline = time.GetUtcNow() + entry.RetryBudget;
        var attemptsLeft = entry.MaxAttempts;
        var attempts = 0;
        var log = new StringBuilder();
        UpstreamResult? last = null;
        RouteTarget? lastRoute = null;
        var skippedInARow = 0;

        for (var next = 0; attemptsLeft > 0 && skippedInARow < order.Count; next++)
        {
            var route = order[next % order.Count];
            var round = next / order.Count;
            if (round > 0 && next % order.Count == 0 && attempts > 0)
            {
                // A new round over routes that all failed: back off, honouring retry-after, within the budget.
                var delay = Backoff.ForRound(round, last?.Held?.RetryAfter ?? last?.Unsent?.RetryAfter);
                if (time.GetUtcNow() + delay > deadline)
                {
                    break;
                }

                await Task.Delay(delay, time, cancellationToken);
            }

            var routeHealth = health.For(route);
            if (!health.IsProviderUp(route.Provider) || !routeHealth.TryAcquire())
            {
                skippedInARow++;
                continue;
            }

            skippedInARow = 0;
            attemptsLeft--;
            attempts++;
            lastRoute = route;
            var started = Stopwatch.GetTimestamp();
            UpstreamResult result;
            try
            {
                result = await SendOnceAsync(context, endpoint, body, info, route, clientUsedRelayKey, timing, cancellationToken);
            }
            catch
            {
                routeHealth.Release(null, 0, null);
                throw;
            }

            routeHealth.Release(result.UpstreamFailed, result.HeadersMs ?? Stopwatch.GetElapsedTime(started).TotalMilliseconds,
                result.UpstreamFailed ? $"{result.Status} {result.ErrorType}" : null);
            AppendAttempt(log, route, result, Stopwatch.GetElapsedTime(started));
            last = result;

            if (result.Written || !result.Retryable)
            {
                break;
            }

            if ((result.Held?.RetryAfter ?? result.Unsent?.RetryAfter) is { } wait && attemptsLeft > 0 && order.Count == 1 && time.GetUtcNow() + wait > deadline)
            {
                break; // the only route asks for a longer wait than the budget allows: let the client wait instead
            }
        }

        if (last is not { } final)
        {
            var error = AllRoutesUnavailable(entry);
            await ErrorResponses.WriteAsync(context, error.Error, error.RetryAfter);
            return new DispatchOutcome(error.Error.Status, default, error.Error.Type, null, 0, null);
        }

        if (!final.Written)
        {
            if (final.Held is { } held)
            {
                await WriteHeldAsync(context, held, lastRoute!.Provider);
            }
            else
            {
                await ErrorResponses.WriteAsync(context, final.Unsent!);
            }
        }

        return new DispatchOutcome(final.Status, final.Usage, final.ErrorType, lastRoute, attempts, log.ToString());
    }

    private async Task<UpstreamResult> SendOnceAsync(HttpContext context, MessagesEndpointKind endpoint, ReadOnlyMemory<byte> body,
        MessagesRequestInfo info, RouteTarget route, bool clientUsedRelayKey, RequestTiming timing, CancellationToken cancellationToken)
    {
        // Each route has its own upstream model name, and may cap max_tokens at what that model accepts;
        // provider/* keeps the client's model, and then the client's bytes go as they are.
        var maxTokensToken = route.MaxTokens is { } cap && info.MaxTokens > cap ? ModelNameRewriter.EncodeNumber(cap) : [];
        if (route.PassesModelThrough && maxTokensToken.Length == 0)
        {
            return await upstreams[route.Provider].SendAsync(new UpstreamRequest
            {
                Context = context,
                Endpoint = endpoint,
                Body = body,
                Info = info,
                Target = route,
                ClientUsedRelayKey = clientUsedRelayKey,
                Timing = timing,
            }, cancellationToken);
        }

        var modelToken = route.PassesModelThrough ? body.Span[info.ModelTokenStart..info.ModelTokenEnd].ToArray() : route.UpstreamModelToken;
        using var rewritten = new PooledByteBuffer(ModelNameRewriter.RewrittenLength(body.Length, info, modelToken, maxTokensToken));
        var length = ModelNameRewriter.Rewrite(body.Span, info, modelToken, maxTokensToken, rewritten.GetMemory(0).Span);
        rewritten.Advance(length);

        return await upstreams[route.Provider].SendAsync(new UpstreamRequest
        {
            Context = context,
            Endpoint = endpoint,
            Body = rewritten.Memory,
            Info = info,
            Target = route,
            ClientUsedRelayKey = clientUsedRelayKey,
            Timing = timing,
        }, cancellationToken);
    }

    private (RelayError Error, TimeSpan RetryAfter) AllRoutesUnavailable(ModelEntry entry)
    {
        var now = time.GetUtcNow();
        var soonest = entry.Routes.Select(r => health.For(r).OpenUntil).Where(t => t is not null).Select(t => t!.Value - now).DefaultIfEmpty(TimeSpan.FromSeconds(5)).Min();
        var wait = soonest < TimeSpan.FromSeconds(1) ? TimeSpan.FromSeconds(1) : soonest;
        var error = new RelayError(529, ErrorTypes.Overloaded,
            $"Every route of model '{entry.Name}' is out of rotation after repeated failures (or its provider failed its health check); retry in {Math.Ceiling(wait.TotalSeconds)} s.", true);
        return (error, wait);
    }

    private static async Task WriteHeldAsync(HttpContext context, HeldResponse held, string provider)
    {
        // An upstream error that is not Anthropic-shaped (an HTML page from a proxy, an empty body) is wrapped, so
        // clients always get an error they can parse; an Anthropic one is forwarded byte for byte.
        if (!AnthropicObjectSummary.TryRead(held.Body, out var summary) || summary.Kind != AnthropicObjectKind.Error)
        {
            var snippet = System.Text.Encoding.UTF8.GetString(held.Body.AsSpan(0, Math.Min(held.Body.Length, 200))).ReplaceLineEndings(" ").Trim();
            var error = new RelayError(held.Status, ErrorTypes.ForStatus(held.Status),
                $"Provider '{provider}' answered {held.Status}" + (snippet.Length > 0 ? $": {snippet}" : " with an empty body."), true);
            await ErrorResponses.WriteAsync(context, error, held.RetryAfter);
            return;
        }

        var response = context.Response;
        response.StatusCode = held.Status;
        foreach (var (name, values) in held.Headers)
        {
            if (!name.Equals("content-length", StringComparison.OrdinalIgnoreCase))
            {
                response.Headers[name] = values;
            }
        }

        response.ContentLength = held.Body.Length;
        await response.Body.WriteAsync(held.Body, context.RequestAborted);
    }

    private static void AppendAttempt(StringBuilder log, RouteTarget route, UpstreamResult result, TimeSpan elapsed)
    {
        if (log.Length > 0)
        {
            log.Append("; ");
        }

        log.Append(route.Key).Append(' ').Append(result.Status.ToString(CultureInfo.InvariantCulture));
        if (result.ErrorType is { } error)
        {
            log.Append(' ').Append(error);
        }

        log.Append(' ').Append(elapsed.TotalMilliseconds.ToString("F0", CultureInfo.InvariantCulture)).Append("ms");
    }
}
