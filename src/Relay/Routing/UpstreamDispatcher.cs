using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Relay.Buffers;
using Relay.Doors;
using Relay.Endpoints;
using Relay.Errors;
using Relay.Protocol.Anthropic;
using Relay.Protocol.Corrections;
using Relay.Protocol.Json;
using Relay.Upstreams;

namespace Relay.Routing;

/// <summary>What the dispatcher did, for the usage record.</summary>

/// <summary>
/// Sends one request along a model's routes: the fallback chain in order (weighted tiers least-loaded first),
/// skipping routes whose circuit is open or whose provider is down, retrying retryable failures on the next route
/// and then in rounds with backoff, within the model's attempt and time budget. Nothing is retried once a byte has
/// reached the client. If every attempt fails, the last upstream answer is forwarded unchanged.
/// </summary>
/// <remarks>
/// <para>The breaker alone never takes a model out of service: when every route is out of rotation and nothing was
/// tried, the route whose cool-down ends first is tried anyway, and its answer decides. Work Relay answers itself
/// (count_tokens estimates, the mock) does not consult route health at all.</para>
/// <para>A provider's refusal that Relay can correct without changing what the user asked (an output limit, a
/// parameter or schema keyword it does not accept) is corrected and sent again once, on the same route; a correction
/// that helped is remembered for the provider and model (<see cref="LearnedCorrections"/>), one that did not is dropped.</para>
/// </remarks>
internal sealed class UpstreamDispatcher(UpstreamRegistry upstreams, RouteHealthRegistry health, RoutePlanner planner, LearnedCorrections learned,
    TimeProvider time)
{
    /// <summary>Corrective retries one request may make: each refusal gets at most one, and no correction is tried twice.</summary>
    private const int MaxCorrectionsPerRequest = 3;

    /// <summary>Sends the request along the model's routes and writes the client's answer; <paramref name="result"/>
    /// says what happened, also when this throws because the client left or Relay is stopping.</summary>
    public async Task DispatchAsync(HttpContext context, IFrontDoor door, MessagesEndpointKind endpoint, ReadOnlyMemory<byte> body,
        MessagesRequestInfo info, ModelEntry entry, bool clientUsedRelayKey, RequestTiming timing, DispatchResult result,
        CancellationToken cancellationToken)
    {
        var call = new Call(context, door, endpoint, body, info, clientUsedRelayKey, timing, result, cancellationToken);
        if (upstreams[entry.Routes[0].Provider].AnswersLocally(endpoint))
        {
            await AnswerLocallyAsync(call, entry.Routes[0]);
            return;
        }

        var order = planner.Order(entry);
        var deadline = time.GetUtcNow() + entry.RetryBudget;
        var attemptsLeft = entry.MaxAttempts;
        UpstreamResult? last = null;
        RouteTarget? lastRoute = null;
        var skippedInARow = 0;

        for (var next = 0; attemptsLeft > 0 && skippedInARow < order.Count; next++)
        {
            var route = order[next % order.Count];
            var round = next / order.Count;
            if (round > 0 && next % order.Count == 0 && call.Attempts > 0)
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
            lastRoute = route;
            var attempt = await AttemptAsync(call, route, routeHealth);
            last = attempt;

            if (attempt.Written || !attempt.Retryable)
            {
                break;
            }

            if ((attempt.Held?.RetryAfter ?? attempt.Unsent?.RetryAfter) is { } wait && attemptsLeft > 0 && order.Count == 1 && time.GetUtcNow() + wait > deadline)
            {
                break; // the only route asks for a longer wait than the budget allows: let the client wait instead
            }
        }

        if (last is null)
        {
            // Every route is out of rotation and nothing was tried: the breaker alone must not leave the model with no
            // route, so the one whose cool-down ends first is tried (a half-open probe), and its answer decides.
            lastRoute = LastResort(order);
            var routeHealth = health.For(lastRoute);
            routeHealth.AcquireAsLastResort();
            last = await AttemptAsync(call, lastRoute, routeHealth);
        }

        var final = last.Value;
        if (!final.Written)
        {
            await WriteUnwrittenAsync(call, final, lastRoute!.Provider);
        }

        call.Finish(final, lastRoute!);
    }

    /// <summary>One attempt on a route already reserved in its breaker, with corrective retries for refusals Relay
    /// can correct; releases the route with the outcome.</summary>
    private async Task<UpstreamResult> AttemptAsync(Call call, RouteTarget route, RouteHealth routeHealth)
    {
        var upstream = upstreams[route.Provider];
        var corrections = learned.For(route);
        RequestCorrection? trying = null;
        long? refusedInput = null;
        var started = Stopwatch.GetTimestamp();
        UpstreamResult result;
        try
        {
            for (var corrective = 0; ; corrective++)
            {
                var attemptStarted = Stopwatch.GetTimestamp();
                call.Timing.MarkUpstreamStarted();
                result = await SendOnceAsync(call, route, corrections, refusedInput, routeHealth);
                call.Attempts++;
                AppendAttempt(call.Log, route, result, Stopwatch.GetElapsedTime(attemptStarted), trying);

                var refused = result.Refusal is { } refusal && ProviderRejectionReader.TryRead(refusal.Error, out var read) ? read : (RequestCorrection?)null;
                if (trying is { } tried)
                {
                    if (refused is { } again && SameSlot(again, tried) && !Changes(call, route, upstream, corrections, again, refusedInput))
                    {
                        // Refused for the same thing with the correction applied: it did not help.
                        await learned.ForgetAsync(route, tried, result.Refusal!.Error.Message, call.CancellationToken);
                        break;
                    }

                    await learned.LearnAsync(route, tried, call.Evidence!, call.CancellationToken);
                }
                else if (refused is { } same && corrections.Covers(same) && learned.For(route).Covers(same))
                {
                    // A remembered correction was applied and the provider still refuses the same thing: drop it.
                    await learned.ForgetAsync(route, same, result.Refusal!.Error.Message, call.CancellationToken);
                    break;
                }

                if (result.Written || refused is not { } correction || corrective >= MaxCorrectionsPerRequest
                    || !Changes(call, route, upstream, corrections, correction, refusedInput))
                {
                    break;
                }

                trying = correction;
                call.Evidence = result.Refusal!.Error.Message;
                refusedInput = correction.InputGiven(MaxTokensCap(call.Info, route, corrections, refusedInput) ?? call.Info.MaxTokens) ?? refusedInput;
                corrections = corrections.With(correction);
            }
        }
        catch (OperationCanceledException)
        {
            // Cut short by the client or by Relay stopping: not the provider's doing, but part of what happened.
            AppendStopped(call.Log, route, Stopwatch.GetElapsedTime(started));
            call.Attempts++;
            routeHealth.Release(null, 0, null);
            throw;
        }
        catch
        {
            routeHealth.Release(null, 0, null);
            throw;
        }

        routeHealth.Release(result.UpstreamFailed, result.HeadersMs ?? Stopwatch.GetElapsedTime(started).TotalMilliseconds,
            result.UpstreamFailed ? $"{result.Status} {result.ErrorType}" : null);
        return result;
    }

    /// <summary>Whether applying <paramref name="correction"/> would change what is sent.</summary>
    private static bool Changes(Call call, RouteTarget route, IUpstream upstream, ProviderCorrections applied, RequestCorrection correction, long? refusedInput)
    {
        if (!upstream.CanApply(correction.Kind) || applied.Covers(correction))
        {
            return false;
        }

        if (correction.Kind is not (CorrectionKind.MaxOutputTokens or CorrectionKind.ContextWindow))
        {
            return true;
        }

        // An output limit the operator configured wins over anything learned; otherwise it must lower what is sent.
        if (route.MaxTokens is not null || upstream.ConfiguredMaxTokens(route.UpstreamModel) is not null || call.Info.MaxTokens <= 0)
        {
            return false;
        }

        var sent = MaxTokensCap(call.Info, route, applied, refusedInput) ?? call.Info.MaxTokens;
        var input = correction.InputGiven(sent) ?? refusedInput ?? call.Info.EstimatedInputTokens;
        return applied.With(correction).OutputCap(call.Info.MaxTokens, input) is { } after && after < sent;
    }

    private async Task AnswerLocallyAsync(Call call, RouteTarget route)
    {
        var started = Stopwatch.GetTimestamp();
        var result = await SendOnceAsync(call, route, ProviderCorrections.None, null, null);
        call.Attempts++;
        AppendAttempt(call.Log, route, result, Stopwatch.GetElapsedTime(started), null);
        if (!result.Written)
        {
            await WriteUnwrittenAsync(call, result, route.Provider);
        }

        call.Finish(result, route);
    }

    private async Task<UpstreamResult> SendOnceAsync(Call call, RouteTarget route, ProviderCorrections corrections, long? refusedInput, RouteHealth? routeHealth)
    {
        var info = call.Info;
        var body = call.Body;
        // Each route has its own upstream model name, and may cap max_tokens at what that model accepts (configured,
        // or learned from the provider's refusals); provider/* keeps the client's model, and then the client's bytes
        // go as they are.
        var cap = MaxTokensCap(info, route, corrections, refusedInput);
        var maxTokensToken = cap is { } value && info.MaxTokens > 0 ? ModelNameRewriter.EncodeNumber(value) : [];
        var request = new UpstreamRequest
        {
            Context = call.Context,
            Door = call.Door,
            Endpoint = call.Endpoint,
            Body = body,
            Info = info,
            Target = route,
            ClientUsedRelayKey = call.ClientUsedRelayKey,
            Timing = call.Timing,
            Corrections = corrections,
            AnswerBegan = routeHealth is null ? null : routeHealth.AnswerBegan,
            UsageSoFar = usage => call.Progress.Usage = usage,
            MaxTokensCap = info.MaxTokens > 0 ? cap : null,
        };
        call.Progress.Route = route;
        if (route.PassesModelThrough && maxTokensToken.Length == 0)
        {
            return await upstreams[route.Provider].SendAsync(request, call.CancellationToken);
        }

        var modelToken = route.PassesModelThrough ? body.Span[info.ModelTokenStart..info.ModelTokenEnd].ToArray() : route.UpstreamModelToken;
        using var rewritten = new PooledByteBuffer(ModelNameRewriter.RewrittenLength(body.Length, info, modelToken, maxTokensToken));
        var length = ModelNameRewriter.Rewrite(body.Span, info, modelToken, maxTokensToken, rewritten.GetMemory(0).Span);
        rewritten.Advance(length);
        return await upstreams[route.Provider].SendAsync(new UpstreamRequest
        {
            Context = request.Context,
            Door = request.Door,
            Endpoint = request.Endpoint,
            Body = rewritten.Memory,
            Info = info,
            Target = route,
            ClientUsedRelayKey = request.ClientUsedRelayKey,
            Timing = request.Timing,
            Corrections = corrections,
            AnswerBegan = request.AnswerBegan,
            UsageSoFar = request.UsageSoFar,
            MaxTokensCap = request.MaxTokensCap,
        }, call.CancellationToken);
    }

    /// <summary>The max_tokens to send instead of the client's, or null to keep it: the route's configured cap, else
    /// what learned output limits allow for this input.</summary>
    private static long? MaxTokensCap(in MessagesRequestInfo info, RouteTarget route, ProviderCorrections corrections, long? refusedInput) =>
        route.MaxTokens is { } configured
            ? (info.MaxTokens > configured ? configured : null)
            : corrections.OutputCap(info.MaxTokens, refusedInput ?? info.EstimatedInputTokens);

    /// <summary>The route to try when every route of the model is out of rotation: the one whose cool-down ends first.</summary>
    private RouteTarget LastResort(IReadOnlyList<RouteTarget> order)
    {
        var now = time.GetUtcNow();
        return order
            .OrderBy(r => health.IsProviderUp(r.Provider) ? 0 : 1)
            .ThenBy(r => health.For(r).OpenUntil ?? now)
            .First();
    }

    private static async Task WriteUnwrittenAsync(Call call, UpstreamResult result, string provider)
    {
        if (result.Held is { } held)
        {
            await call.Door.WriteHeldAsync(call.Context, held, provider);
        }
        else
        {
            await call.Door.WriteErrorAsync(call.Context, RetryAdvice.ForClient(result.Unsent!, provider));
        }
    }

    private static bool SameSlot(RequestCorrection a, RequestCorrection b) =>
        a.Kind == b.Kind && string.Equals(a.Name, b.Name, StringComparison.Ordinal)
        || a.Kind is CorrectionKind.MaxOutputTokens or CorrectionKind.ContextWindow && b.Kind is CorrectionKind.MaxOutputTokens or CorrectionKind.ContextWindow;

    /// <summary>One client request as it goes through the chain: what every attempt needs, and what they add up to.</summary>
    private sealed class Call(HttpContext context, IFrontDoor door, MessagesEndpointKind endpoint, ReadOnlyMemory<byte> body, MessagesRequestInfo info,
        bool clientUsedRelayKey, RequestTiming timing, DispatchResult progress, CancellationToken cancellationToken)
    {
        public HttpContext Context => context;

        public IFrontDoor Door => door;

        public MessagesEndpointKind Endpoint => endpoint;

        public ReadOnlyMemory<byte> Body => body;

        public MessagesRequestInfo Info => info;

        public bool ClientUsedRelayKey => clientUsedRelayKey;

        public RequestTiming Timing => timing;

        public DispatchResult Progress => progress;

        /// <summary>The dispatch ended with <paramref name="final"/> from <paramref name="route"/>.</summary>
        public void Finish(UpstreamResult final, RouteTarget route)
        {
            progress.Status = final.Status;
            progress.Usage = final.Usage;
            progress.ErrorType = final.ErrorType;
            progress.Route = route;
        }

        public CancellationToken CancellationToken => cancellationToken;

        public int Attempts
        {
            get => progress.Attempts;
            set => progress.Attempts = value;
        }

        public StringBuilder Log => progress.Log;

        /// <summary>The refusal the correction being tried answers.</summary>
        public string? Evidence { get; set; }
    }

    private static void AppendStopped(StringBuilder log, RouteTarget route, TimeSpan elapsed) =>
        log.Append(log.Length > 0 ? "; " : "").Append(route.Key).Append(" cancelled ")
            .Append(elapsed.TotalMilliseconds.ToString("F0", CultureInfo.InvariantCulture)).Append("ms");

    private static void AppendAttempt(StringBuilder log, RouteTarget route, UpstreamResult result, TimeSpan elapsed, RequestCorrection? correction)
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

        if (correction is { } applied)
        {
            log.Append(" (corrected: ").Append(applied.ToString()).Append(')');
        }

        log.Append(' ').Append(elapsed.TotalMilliseconds.ToString("F0", CultureInfo.InvariantCulture)).Append("ms");
    }
}
