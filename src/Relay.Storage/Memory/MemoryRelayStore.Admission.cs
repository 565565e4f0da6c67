using Relay.Storage.Accounts;

namespace Relay.Storage.Memory;

// Admission: the limits state and settlement, with the SQLite store's semantics, under the store's lock.
public sealed partial class MemoryRelayStore
{
    private readonly Dictionary<long, Reservation> _reservations = [];
    private readonly Dictionary<(long KeyId, bool Tokens), (double Level, long UpdatedAtMs)> _buckets = [];
    private readonly Dictionary<(long KeyId, BudgetPeriod Period, long StartMs), long> _keyPeriodSpend = [];
    private readonly Dictionary<long, long> _keySpend = [];
    private long _nextReservationId;

    public Task<AdmissionDecision> AdmitAsync(AdmissionRequest request, CancellationToken cancellationToken)
    {
        var now = request.Now.ToUnixTimeMilliseconds();
        lock (_lock)
        {
            foreach (var expired in _reservations.Where(r => r.Value.ExpiresAtMs <= now).Select(r => r.Key).ToList())
            {
                _reservations.Remove(expired);
            }

            var live = _reservations.Values;
            var state = new AdmissionState(
                RequestsLevel: request.RequestsPerMinute is { } rpm ? Level(request.KeyId, tokens: false, now, rpm) : 0,
                TokensLevel: request.TokensPerMinute is { } tpm ? Level(request.KeyId, tokens: true, now, tpm) : 0,
                SlotsInUse: live.Count(r => r.KeyId == request.KeyId && r.HoldsSlot),
                BudgetSpentNanos: request.BudgetNanos is null ? 0 : SpentNanos(request.KeyId, request.BudgetPeriod, request.Now),
                KeyReservedNanos: live.Where(r => r.KeyId == request.KeyId).Sum(r => r.ReservedNanos),
                BalanceNanos: request.ChargeUserBalance && request.UserId is { } user ? UserBalanceNanos(user) : null,
                UserReservedNanos: request.UserId is { } owner ? ReservedNanos(owner) : 0);
            var (decision, requestsLevel, tokensLevel) = AdmissionRules.Decide(request, state);
            if (!decision.Admitted)
            {
                return Task.FromResult(decision);
            }

            if (request.RequestsPerMinute is not null)
            {
                _buckets[(request.KeyId, false)] = (requestsLevel, now);
            }

            if (request.TokensPerMinute is not null)
            {
                _buckets[(request.KeyId, true)] = (tokensLevel, now);
            }

            var id = ++_nextReservationId;
            _reservations[id] = new Reservation(request.KeyId, request.UserId, Math.Max(0, request.ReserveNanos), Math.Max(0, request.EstimatedTokens),
                request.TokensPerMinute, request.ReservationExpires.ToUnixTimeMilliseconds()) { HoldsSlot = true };
            return Task.FromResult(decision with { ReservationId = id });
        }
    }

    public Task ReleaseAsync(long reservationId, long actualTokens, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var nowMs = now.ToUnixTimeMilliseconds();
        lock (_lock)
        {
            if (!_reservations.TryGetValue(reservationId, out var reservation))
            {
                return Task.CompletedTask;
            }

            reservation.HoldsSlot = false;
            if (reservation.TokensPerMinute is { } tpm && _buckets.ContainsKey((reservation.KeyId, true)) && actualTokens != reservation.EstimatedTokens)
            {
                var level = Level(reservation.KeyId, tokens: true, nowMs, tpm);
                _buckets[(reservation.KeyId, true)] = (AdmissionRules.CorrectTokens(level, reservation.EstimatedTokens, actualTokens, tpm), nowMs);
            }
        }

        return Task.CompletedTask;
    }

    /// <summary>What <see cref="AppendUsageAsync"/> does besides keeping the records: charges each record's cost to its
    /// key and user and drops its reservation. Called under the lock.</summary>
    private void Settle(UsageRecord record)
    {
        if (record.ReservationId is { } reservation)
        {
            _reservations.Remove(reservation);
        }

        if (record.CostNanos is not ({ } cost and not 0))
        {
            return;
        }

        if (record.KeyId is { } key)
        {
            _keySpend[key] = _keySpend.GetValueOrDefault(key) + cost;
            foreach (var period in (ReadOnlySpan<BudgetPeriod>)[BudgetPeriod.Day, BudgetPeriod.Week, BudgetPeriod.Month])
            {
                var slot = (key, period, BudgetPeriods.Start(period, record.Timestamp).ToUnixTimeMilliseconds());
                _keyPeriodSpend[slot] = _keyPeriodSpend.GetValueOrDefault(slot) + cost;
            }
        }

        if (record.UserId is { } user)
        {
            ChargeUser(user, cost);
        }
    }

    /// <summary>What the key spent in the budget period that contains <paramref name="now"/> (its whole life for
    /// <see cref="BudgetPeriod.Total"/>). Called under the lock.</summary>
    private long SpentNanos(long keyId, BudgetPeriod period, DateTimeOffset now) =>
        period == BudgetPeriod.Total
            ? _keySpend.GetValueOrDefault(keyId)
            : _keyPeriodSpend.GetValueOrDefault((keyId, period, BudgetPeriods.Start(period, now).ToUnixTimeMilliseconds()));

    /// <summary>Held for the user's requests not yet settled. Called under the lock.</summary>
    private long ReservedNanos(long userId) => _reservations.Values.Where(r => r.UserId == userId).Sum(r => r.ReservedNanos);

    private double Level(long keyId, bool tokens, long nowMs, int limit) =>
        _buckets.TryGetValue((keyId, tokens), out var bucket) ? AdmissionRules.Refill(bucket.Level, bucket.UpdatedAtMs, nowMs, limit) : limit;

    private sealed record Reservation(long KeyId, long? UserId, long ReservedNanos, long EstimatedTokens, int? TokensPerMinute, long ExpiresAtMs)
    {
        public bool HoldsSlot { get; set; }
    }
}
