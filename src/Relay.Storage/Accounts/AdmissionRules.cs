namespace Relay.Storage.Accounts;

/// <summary>What admission reads about one key and its user, as of the request's <c>Now</c>: bucket levels already
/// refilled to now, and only the limits the request asks about filled in.</summary>
/// <param name="RequestsLevel">Requests left in the per-minute bucket (a fraction while it refills).</param>
/// <param name="TokensLevel">Tokens left in the per-minute bucket; negative after a request larger than what was left.</param>
/// <param name="SlotsInUse">The key's requests still running.</param>
/// <param name="BudgetSpentNanos">What the key spent in the budget's current period.</param>
/// <param name="KeyReservedNanos">Held for the key's requests not yet settled.</param>
/// <param name="BalanceNanos">The user's balance; null when the user is not prepaid (or gone).</param>
/// <param name="UserReservedNanos">Held for all of the user's requests not yet settled.</param>
internal readonly record struct AdmissionState(
    double RequestsLevel, double TokensLevel, int SlotsInUse, long BudgetSpentNanos, long KeyReservedNanos, long? BalanceNanos, long UserReservedNanos);

/// <summary>
/// The admission rules, shared by every store so they decide alike; a store reads an <see cref="AdmissionState"/> and
/// writes back what <see cref="Decide"/> took, in one atomic step.
/// </summary>
/// <remarks>
/// <para>Rate limits are token buckets, as Anthropic describes its own: capacity is the per-minute limit, refilled
/// continuously at limit/60 per second. A request needs one whole request in the bucket; for tokens it needs anything
/// left (&gt; 0) and then takes its whole estimate, so the level may go negative and later requests wait until it
/// has refilled above zero.</para>
/// <para>Money: a request is admitted while anything is left of the budget (or the balance) after everything already
/// held, and then holds its whole reservation, so concurrent requests cannot pile onto the last cents. The total can
/// end above the budget by less than one reservation: see docs/limits.md.</para>
/// </remarks>
internal static class AdmissionRules
{
    private const double MillisPerMinute = 60_000;

    /// <summary>A concurrency refusal cannot know when a slot frees up; a second is a short, polite wait.</summary>
    private static readonly TimeSpan ConcurrencyRetry = TimeSpan.FromSeconds(1);

    /// <summary>The level of a bucket of <paramref name="limit"/> per minute at <paramref name="nowMs"/>, from the level
    /// stored at <paramref name="updatedAtMs"/>; a bucket never used is full.</summary>
    public static double Refill(double? storedLevel, long updatedAtMs, long nowMs, int limit) =>
        storedLevel is not { } level ? limit : Math.Min(limit, level + (Math.Max(0, nowMs - updatedAtMs) * limit / MillisPerMinute));

    /// <summary>Checks the limits in order (requests, tokens, concurrency, budget, balance); the first that fails is
    /// the refusal, and a refused request takes nothing.</summary>
    /// <returns>The decision (without a reservation id) and the bucket levels to store when admitted.</returns>
    public static (AdmissionDecision Decision, double RequestsLevel, double TokensLevel) Decide(AdmissionRequest request, AdmissionState state)
    {
        var now = request.Now;
        var refusal = AdmissionRefusal.None;
        TimeSpan? retryAfter = null;
        if (request.RequestsPerMinute is { } rpm && state.RequestsLevel < 1)
        {
            refusal = AdmissionRefusal.Requests;
            retryAfter = WholeSeconds(Wait(1 - state.RequestsLevel, rpm), exact: true);
        }
        else if (request.TokensPerMinute is { } tpm && state.TokensLevel <= 0)
        {
            refusal = AdmissionRefusal.Tokens;
            retryAfter = WholeSeconds(Wait(-state.TokensLevel, tpm), exact: false);
        }
        else if (request.Concurrency is { } concurrency && state.SlotsInUse >= concurrency)
        {
            refusal = AdmissionRefusal.Concurrency;
            retryAfter = ConcurrencyRetry;
        }
        else if (request.BudgetNanos is { } budget && state.BudgetSpentNanos + state.KeyReservedNanos >= budget)
        {
            refusal = AdmissionRefusal.Budget;
        }
        else if (request.ChargeUserBalance && state.BalanceNanos is { } balance && balance - state.UserReservedNanos <= 0)
        {
            refusal = AdmissionRefusal.Balance;
        }

        var admitted = refusal == AdmissionRefusal.None;
        var requests = admitted && request.RequestsPerMinute is not null ? state.RequestsLevel - 1 : state.RequestsLevel;
        var tokens = admitted && request.TokensPerMinute is not null ? state.TokensLevel - Math.Max(0, request.EstimatedTokens) : state.TokensLevel;
        var reserved = admitted ? request.ReserveNanos : 0;
        var decision = new AdmissionDecision
        {
            Refusal = refusal,
            RetryAfter = retryAfter,
            RequestsRemaining = request.RequestsPerMinute is null ? null : (long)Math.Floor(Math.Max(0, requests)),
            RequestsReset = request.RequestsPerMinute is { } r ? now + Wait(r - requests, r) : null,
            TokensRemaining = request.TokensPerMinute is null ? null : (long)Math.Floor(Math.Max(0, tokens)),
            TokensReset = request.TokensPerMinute is { } t ? now + Wait(t - tokens, t) : null,
            BudgetRemainingNanos = request.BudgetNanos is { } b ? b - state.BudgetSpentNanos - state.KeyReservedNanos - reserved : null,
            BalanceRemainingNanos = request.ChargeUserBalance && state.BalanceNanos is { } left ? left - state.UserReservedNanos - reserved : null,
        };
        return (decision, requests, tokens);
    }

    /// <summary>The level after a finished request's real token count replaced its estimate, capped at the limit.</summary>
    public static double CorrectTokens(double level, long estimatedTokens, long actualTokens, int limit) =>
        Math.Min(limit, level - (Math.Max(0, actualTokens) - Math.Max(0, estimatedTokens)));

    /// <summary>How long a bucket of <paramref name="limit"/> per minute takes to refill by <paramref name="amount"/>.</summary>
    private static TimeSpan Wait(double amount, int limit) =>
        TimeSpan.FromMilliseconds(Math.Max(0, amount) * MillisPerMinute / Math.Max(1, limit));

    /// <summary>Whole seconds, at least one. <paramref name="exact"/>: reaching the amount is enough (requests need
    /// level ≥ 1); otherwise the level must pass it (tokens need level &gt; 0), so an exact second gets one more.</summary>
    private static TimeSpan WholeSeconds(TimeSpan wait, bool exact)
    {
        var seconds = exact ? Math.Ceiling(wait.TotalSeconds) : Math.Floor(wait.TotalSeconds) + 1;
        return TimeSpan.FromSeconds(Math.Max(1, seconds));
    }
}
