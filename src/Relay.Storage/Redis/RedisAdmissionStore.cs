using System.Globalization;
using Relay.Storage.Accounts;
using StackExchange.Redis;

namespace Relay.Storage.Redis;

/// <summary>
/// Admission with the fast counters in Redis: the per-minute request and token buckets and the concurrency slots of
/// every key, taken and checked by one script per request, so all instances share them without a database write.
/// Money (budgets, balances and what requests hold of them) stays in the SQL store behind <paramref name="inner"/>.
/// </summary>
/// <remarks>
/// <para>Money is decided under the SQL store's lock, next to the ledger that settles it: a money counter in Redis could
/// be lost with Redis or drift from the ledger, and a budget could then be spent twice.</para>
/// <para>A request with money limits is checked in Redis first (requests, tokens, concurrency: the order of
/// <see cref="AdmissionRules"/>), then by the SQL store for its money alone; when the money is refused, what Redis took is
/// given back. In between, a concurrent request of the same key sees the slot and allowance held, as if the refused
/// request had run for that moment: limits are never exceeded, and such a request may be refused where one at a time it
/// would not have been.</para>
/// <para>Reservation ids: the SQL store's when it holds money for the request (positive; the Redis reservation is renamed
/// to it), otherwise a negative id Redis counts out, which the SQL store's settlement simply does not find.</para>
/// <para>Redis unreachable: <see cref="AdmitAsync"/> throws, and callers refuse the request (fail closed).</para>
/// </remarks>
public sealed class RedisAdmissionStore(IConnectionMultiplexer redis, string prefix, IAdmissionStore inner) : IAdmissionStore
{
    private readonly string _reservationPrefix = prefix + "reservation:";
    private readonly RedisKey _reservationIds = prefix + "reservation-id";

    public async Task<AdmissionDecision> AdmitAsync(AdmissionRequest request, CancellationToken cancellationToken)
    {
        var money = request.BudgetNanos is not null || request.ChargeUserBalance;
        if (request.RequestsPerMinute is null && request.TokensPerMinute is null && request.Concurrency is null)
        {
            return await inner.AdmitAsync(request, cancellationToken);
        }

        var rateOnly = request with { BudgetNanos = null, ChargeUserBalance = false, ReserveNanos = 0 };
        var (state, redisId) = await TakeAsync(rateOnly, keepForGiveBack: money);
        var (decision, _, _) = AdmissionRules.Decide(rateOnly, state);
        if (!decision.Admitted || !money)
        {
            return decision with { ReservationId = redisId };
        }

        AdmissionDecision held;
        try
        {
            held = await inner.AdmitAsync(request with { RequestsPerMinute = null, TokensPerMinute = null, Concurrency = null }, cancellationToken);
        }
        catch
        {
            await TryGiveBackAsync(redisId, request.Now);
            throw;
        }

        if (!held.Admitted)
        {
            await TryGiveBackAsync(redisId, request.Now);
            // Refused for its money, the request took nothing: its rate fields are those of any refusal (a zero budget
            // refuses it after every rate check passed), its money fields the SQL store's.
            var (untaken, _, _) = AdmissionRules.Decide(rateOnly with { BudgetNanos = 0 }, state);
            return untaken with
            {
                Refusal = held.Refusal,
                BudgetRemainingNanos = held.BudgetRemainingNanos,
                BalanceRemainingNanos = held.BalanceRemainingNanos,
            };
        }

        await TryConfirmAsync(redisId, held.ReservationId);
        return decision with
        {
            ReservationId = held.ReservationId,
            BudgetRemainingNanos = held.BudgetRemainingNanos,
            BalanceRemainingNanos = held.BalanceRemainingNanos,
        };
    }

    public async Task ReleaseAsync(long reservationId, long actualTokens, DateTimeOffset now, CancellationToken cancellationToken)
    {
        // The SQL store is not told: its reservation took no slot and no tokens there (those are here), only money,
        // which the usage record settles. A second transaction on the key's row per request would halve what a
        // key with a budget can do.
        await redis.GetDatabase().ScriptEvaluateAsync(RedisAdmissionScripts.Release, [ReservationKey(reservationId)],
            [reservationId, actualTokens, now.ToUnixTimeMilliseconds()]).WaitAsync(cancellationToken);
    }

    /// <summary>Runs the admission script; the state it read, and the Redis reservation id when it took anything.</summary>
    private async Task<(AdmissionState State, long ReservationId)> TakeAsync(AdmissionRequest request, bool keepForGiveBack)
    {
        var key = prefix + "key:" + request.KeyId.ToString(CultureInfo.InvariantCulture) + ":";
        var result = await redis.GetDatabase().ScriptEvaluateAsync(RedisAdmissionScripts.Admit,
            [key + "rpm", key + "tpm", key + "slots", _reservationIds],
            [
                request.Now.ToUnixTimeMilliseconds(),
                Optional(request.RequestsPerMinute),
                Optional(request.TokensPerMinute),
                request.EstimatedTokens,
                Optional(request.Concurrency),
                request.ReservationExpires.ToUnixTimeMilliseconds(),
                _reservationPrefix,
                keepForGiveBack ? "1" : "0",
            ]);
        var values = (RedisResult[])result!;
        var state = new AdmissionState(
            RequestsLevel: Level(values[1]),
            TokensLevel: Level(values[2]),
            SlotsInUse: (int)values[3],
            BudgetSpentNanos: 0,
            KeyReservedNanos: 0,
            BalanceNanos: null,
            UserReservedNanos: 0);
        return (state, (long)values[4]);
    }

    /// <summary>Best effort: a give-back that fails leaves the slot to lapse at its expiry and the buckets to refill.</summary>
    private async Task TryGiveBackAsync(long redisId, DateTimeOffset now)
    {
        try
        {
            await redis.GetDatabase().ScriptEvaluateAsync(RedisAdmissionScripts.GiveBack, [ReservationKey(redisId)], [redisId, now.ToUnixTimeMilliseconds()]);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
        }
    }

    /// <summary>Best effort: the request is admitted either way (everything it takes is counted); if Redis failed just
    /// now, its slot keeps the Redis id and lapses at its expiry instead of at the request's end.</summary>
    private async Task TryConfirmAsync(long redisId, long sqlId)
    {
        try
        {
            await redis.GetDatabase().ScriptEvaluateAsync(RedisAdmissionScripts.Confirm, [ReservationKey(redisId), ReservationKey(sqlId)], [redisId, sqlId]);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
        }
    }

    private RedisKey ReservationKey(long id) => _reservationPrefix + id.ToString(CultureInfo.InvariantCulture);

    private static RedisValue Optional(int? limit) => limit is { } value ? value : RedisValue.EmptyString;

    private static double Level(RedisResult value) => double.Parse((string)value!, NumberStyles.Float, CultureInfo.InvariantCulture);
}
