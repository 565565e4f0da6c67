using Relay.Storage.Accounts;

namespace Relay.Storage.Memory;

// Admission: the limits state and settlement, with the SQLite store's semantics, under the store's lock.
public sealed partial class MemoryRelayStore
{
    private static readonly BudgetPeriod[] SpendPeriods = [BudgetPeriod.Day, BudgetPeriod.Week, BudgetPeriod.Month];

    private readonly Dictionary<(long KeyId, bool Tokens), (double Level, long UpdatedAtMs)> _buckets = [];
    private long _lastReservationId;

    public Task<AdmissionDecision> AdmitAsync(AdmissionRequest request, CancellationToken cancellationToken)
    {
        var now = request.Now;
        var nowMs = now.ToUnixTimeMilliseconds();
        lock (_lock)
        {
            foreach (var expired in _reservations.Where(r => r.Value.ExpiresAt <= now).Select(r => r.Key).ToList())
            {
                _reservations.Remove(expired);
            }

            var live = _reservations.Values;
            var key = _keys.Find(k => k.Id == request.KeyId);
            var user = request.UserId is { } userId ? _users.Find(u => u.Id == userId) : null;
            var state = new AdmissionState(
                RequestsLevel: request.RequestsPerMinute is { } rpm ? LevelLocked(request.KeyId, tokens: false, nowMs, rpm) : 0,
                TokensLevel: request.TokensPerMinute is { } tpm ? LevelLocked(request.KeyId, tokens: true, nowMs, tpm) : 0,
                SlotsInUse: live.Count(r => r.KeyId == request.KeyId && r.HoldsSlot),
                BudgetSpentNanos: key is null ? 0
                    : request.BudgetPeriod == BudgetPeriod.Total ? key.SpentNanos
                    : key.PeriodSpent.GetValueOrDefault((request.BudgetPeriod, BudgetPeriods.Start(request.BudgetPeriod, now))),
                KeyReservedNanos: live.Where(r => r.KeyId == request.KeyId).Sum(r => r.ReservedNanos),
                BalanceNanos: request.ChargeUserBalance ? user?.BalanceNanos : null,
                UserReservedNanos: user is null ? 0 : live.Where(r => r.UserId == user.Id).Sum(r => r.ReservedNanos));
            var (decision, requestsLevel, tokensLevel) = AdmissionRules.Decide(request, state);
            if (!decision.Admitted)
            {
                return Task.FromResult(decision);
            }

            if (request.RequestsPerMinute is not null)
            {
                _buckets[(request.KeyId, false)] = (requestsLevel, nowMs);
            }

            if (request.TokensPerMinute is not null)
            {
                _buckets[(request.KeyId, true)] = (tokensLevel, nowMs);
            }

            var id = ++_lastReservationId;
            _reservations[id] = new MemoryReservation(request.KeyId, request.UserId, Math.Max(0, request.ReserveNanos), Math.Max(0, request.EstimatedTokens),
                HoldsSlot: true, request.ReservationExpires);
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
                return Task.CompletedTask; // expired, or already settled
            }

            _reservations[reservationId] = reservation with { HoldsSlot = false };
            var limit = _keys.Find(k => k.Id == reservation.KeyId)?.Limits.TokensPerMinute;
            if (limit is { } tpm && _buckets.ContainsKey((reservation.KeyId, true)) && actualTokens != reservation.EstimatedTokens)
            {
                var level = LevelLocked(reservation.KeyId, tokens: true, nowMs, tpm);
                _buckets[(reservation.KeyId, true)] = (AdmissionRules.CorrectTokens(level, reservation.EstimatedTokens, actualTokens, tpm), nowMs);
            }
        }

        return Task.CompletedTask;
    }

    /// <summary>What <see cref="AppendUsageAsync"/> does besides keeping the record: charges its cost to its key
    /// (lifetime and per period) and its user, and drops its reservation. Only under the lock.</summary>
    private void SettleLocked(UsageRecord record)
    {
        if (record.ReservationId is { } reservation)
        {
            _reservations.Remove(reservation);
        }

        if (record.CostNanos is not ({ } cost and not 0))
        {
            return;
        }

        if (record.KeyId is { } keyId && _keys.Find(k => k.Id == keyId) is { } key)
        {
            key.SpentNanos += cost;
            foreach (var period in SpendPeriods)
            {
                var slot = (period, BudgetPeriods.Start(period, record.Timestamp));
                key.PeriodSpent[slot] = key.PeriodSpent.GetValueOrDefault(slot) + cost;
            }
        }

        if (record.UserId is { } userId && _users.Find(u => u.Id == userId) is { } user)
        {
            user.SpentNanos += cost;
            user.BalanceNanos -= cost; // stays null when the user is not prepaid
        }
    }

    private double LevelLocked(long keyId, bool tokens, long nowMs, int limit) =>
        _buckets.TryGetValue((keyId, tokens), out var bucket) ? AdmissionRules.Refill(bucket.Level, bucket.UpdatedAtMs, nowMs, limit) : limit;
}
