using System.Data;
using Microsoft.Data.Sqlite;
using Relay.Storage.Accounts;

namespace Relay.Storage.Sqlite;

// Admission: the shared limits state (rate buckets, reservations) and the settlement of costs with usage records.
public sealed partial class SqliteRelayStore
{
    private const string RequestsBucket = "rpm";
    private const string TokensBucket = "tpm";

    /// <summary>Periodic spend rows are kept this long: long enough for the current and the previous month.</summary>
    private static readonly TimeSpan KeySpendKept = TimeSpan.FromDays(62);

    private static readonly TimeSpan KeySpendPruneInterval = TimeSpan.FromHours(1);

    private static readonly (BudgetPeriod Period, string Name)[] SpendPeriods =
        [.. new[] { BudgetPeriod.Day, BudgetPeriod.Week, BudgetPeriod.Month }.Select(p => (p, BudgetPeriods.Name(p)))];

    private long _keySpendPrunedAtMs;

    public async Task<AdmissionDecision> AdmitAsync(AdmissionRequest request, CancellationToken cancellationToken)
    {
        await _writeTurn.WaitAsync(cancellationToken);
        try
        {
            return await AdmitLockedAsync(request, cancellationToken);
        }
        finally
        {
            _writeTurn.Release();
        }
    }

    public async Task ReleaseAsync(long reservationId, long actualTokens, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await _writeTurn.WaitAsync(cancellationToken);
        try
        {
            await ReleaseLockedAsync(reservationId, actualTokens, now, cancellationToken);
        }
        finally
        {
            _writeTurn.Release();
        }
    }

    private async Task<AdmissionDecision> AdmitLockedAsync(AdmissionRequest request, CancellationToken cancellationToken)
    {
        var now = request.Now.ToUnixTimeMilliseconds();
        await using var connection = await OpenForWritingAsync(cancellationToken);
        // BEGIN IMMEDIATE: the write lock is taken before anything is read, so every process sharing the file
        // (other instances, the CLI) waits its turn and no two admissions see the same state.
        await using var transaction = connection.BeginTransaction(IsolationLevel.Serializable, deferred: false);
        await using (var expire = Command(connection, transaction, "DELETE FROM reservations WHERE expires_at <= $now;"))
        {
            expire.Parameters.AddWithValue("$now", now);
            await expire.ExecuteNonQueryAsync(cancellationToken);
        }

        var state = await ReadAdmissionStateAsync(connection, transaction, request, now, cancellationToken);
        var (decision, requestsLevel, tokensLevel) = AdmissionRules.Decide(request, state);
        if (!decision.Admitted)
        {
            await transaction.CommitAsync(cancellationToken);
            return decision;
        }

        // One prepared statement for both buckets.
        await using var bucket = BucketWriter(connection, transaction);
        if (request.RequestsPerMinute is not null)
        {
            await WriteBucketAsync(bucket, request.KeyId, RequestsBucket, requestsLevel, now, cancellationToken);
        }

        if (request.TokensPerMinute is not null)
        {
            await WriteBucketAsync(bucket, request.KeyId, TokensBucket, tokensLevel, now, cancellationToken);
        }

        await using var reserve = Command(connection, transaction, """
            INSERT INTO reservations (key_id, user_id, reserved_nanos, estimated_tokens, holds_slot, expires_at)
            VALUES ($key, $user, $reserved, $tokens, 1, $expires) RETURNING id;
            """);
        reserve.Parameters.AddWithValue("$key", request.KeyId);
        reserve.Parameters.AddWithValue("$user", (object?)request.UserId ?? DBNull.Value);
        reserve.Parameters.AddWithValue("$reserved", Math.Max(0, request.ReserveNanos));
        reserve.Parameters.AddWithValue("$tokens", Math.Max(0, request.EstimatedTokens));
        reserve.Parameters.AddWithValue("$expires", request.ReservationExpires.ToUnixTimeMilliseconds());
        var id = (long)(await reserve.ExecuteScalarAsync(cancellationToken))!;
        await transaction.CommitAsync(cancellationToken);
        return decision with { ReservationId = id };
    }

    private async Task ReleaseLockedAsync(long reservationId, long actualTokens, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var nowMs = now.ToUnixTimeMilliseconds();
        await using var connection = await OpenForWritingAsync(cancellationToken);
        await using var transaction = connection.BeginTransaction(IsolationLevel.Serializable, deferred: false);
        long keyId, estimated;
        int? limit;
        double? level;
        long updatedAt;
        await using (var read = Command(connection, transaction, """
            SELECT r.key_id, r.estimated_tokens, k.tpm, b.level, b.updated_at
            FROM reservations r
            LEFT JOIN api_keys k ON k.id = r.key_id
            LEFT JOIN rate_buckets b ON b.key_id = r.key_id AND b.kind = 'tpm'
            WHERE r.id = $id;
            """))
        {
            read.Parameters.AddWithValue("$id", reservationId);
            await using var reader = await read.ExecuteReaderAsync(cancellationToken);
            if (!await reader.ReadAsync(cancellationToken))
            {
                return; // expired, or already settled
            }

            keyId = reader.GetInt64(0);
            estimated = reader.GetInt64(1);
            limit = reader.IsDBNull(2) ? null : reader.GetInt32(2);
            level = reader.IsDBNull(3) ? null : reader.GetDouble(3);
            updatedAt = reader.IsDBNull(4) ? 0 : reader.GetInt64(4);
        }

        await using (var free = Command(connection, transaction, "UPDATE reservations SET holds_slot = 0 WHERE id = $id;"))
        {
            free.Parameters.AddWithValue("$id", reservationId);
            await free.ExecuteNonQueryAsync(cancellationToken);
        }

        // The token bucket took the estimate at admission; now it gives back or takes the difference to the real count.
        if (limit is { } tpm && level is not null && actualTokens != estimated)
        {
            var corrected = AdmissionRules.CorrectTokens(AdmissionRules.Refill(level, updatedAt, nowMs, tpm), estimated, actualTokens, tpm);
            await using var bucket = BucketWriter(connection, transaction);
            await WriteBucketAsync(bucket, keyId, TokensBucket, corrected, nowMs, cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>Charges what each record cost to its key (lifetime and per period) and its user (spent, and the balance
    /// of a prepaid user), and drops the reservation it settles. Runs inside the transaction that inserts the records,
    /// so a cost is charged exactly when its record is written.</summary>
    private async Task SettleAsync(SqliteConnection connection, SqliteTransaction transaction, IReadOnlyList<UsageRecord> records,
        CancellationToken cancellationToken)
    {
        SqliteCommand? drop = null, chargeKey = null, chargePeriod = null, chargeUser = null;
        try
        {
            foreach (var record in records)
            {
                if (record.ReservationId is { } reservation)
                {
                    drop ??= Command(connection, transaction, "DELETE FROM reservations WHERE id = $id;", ("$id", SqliteType.Integer));
                    drop.Parameters[0].Value = reservation;
                    await drop.ExecuteNonQueryAsync(cancellationToken);
                }

                if (record.CostNanos is not ({ } cost and not 0))
                {
                    continue;
                }

                if (record.KeyId is { } key)
                {
                    chargeKey ??= Command(connection, transaction, "UPDATE api_keys SET spent_nanos = spent_nanos + $cost WHERE id = $key;",
                        ("$cost", SqliteType.Integer), ("$key", SqliteType.Integer));
                    chargeKey.Parameters[0].Value = cost;
                    chargeKey.Parameters[1].Value = key;
                    await chargeKey.ExecuteNonQueryAsync(cancellationToken);

                    chargePeriod ??= Command(connection, transaction, """
                        INSERT INTO key_spend (key_id, period, period_start, spent_nanos) VALUES ($key, $period, $start, $cost)
                        ON CONFLICT (key_id, period, period_start) DO UPDATE SET spent_nanos = spent_nanos + excluded.spent_nanos;
                        """, ("$key", SqliteType.Integer), ("$period", SqliteType.Text), ("$start", SqliteType.Integer), ("$cost", SqliteType.Integer));
                    foreach (var (period, name) in SpendPeriods)
                    {
                        chargePeriod.Parameters[0].Value = key;
                        chargePeriod.Parameters[1].Value = name;
                        chargePeriod.Parameters[2].Value = BudgetPeriods.Start(period, record.Timestamp).ToUnixTimeMilliseconds();
                        chargePeriod.Parameters[3].Value = cost;
                        await chargePeriod.ExecuteNonQueryAsync(cancellationToken);
                    }
                }

                if (record.UserId is { } user)
                {
                    // A NULL balance (not prepaid) stays NULL.
                    chargeUser ??= Command(connection, transaction,
                        "UPDATE users SET spent_nanos = spent_nanos + $cost, balance_nanos = balance_nanos - $cost WHERE id = $user;",
                        ("$cost", SqliteType.Integer), ("$user", SqliteType.Integer));
                    chargeUser.Parameters[0].Value = cost;
                    chargeUser.Parameters[1].Value = user;
                    await chargeUser.ExecuteNonQueryAsync(cancellationToken);
                }
            }

            await PruneKeySpendAsync(connection, transaction, records.Max(r => r.Timestamp), cancellationToken);
        }
        finally
        {
            foreach (var command in new[] { drop, chargeKey, chargePeriod, chargeUser })
            {
                if (command is not null)
                {
                    await command.DisposeAsync();
                }
            }
        }
    }

    /// <summary>Drops periodic spend rows no budget can look at any more (as of <paramref name="latest"/>, the time of
    /// the usage just written), at most once an hour per process.</summary>
    private async Task PruneKeySpendAsync(SqliteConnection connection, SqliteTransaction transaction, DateTimeOffset latest, CancellationToken cancellationToken)
    {
        var now = latest.ToUnixTimeMilliseconds();
        var last = Interlocked.Read(ref _keySpendPrunedAtMs);
        if (Math.Abs(now - last) < (long)KeySpendPruneInterval.TotalMilliseconds || Interlocked.CompareExchange(ref _keySpendPrunedAtMs, now, last) != last)
        {
            return;
        }

        await using var prune = Command(connection, transaction, "DELETE FROM key_spend WHERE period_start < $cutoff;");
        prune.Parameters.AddWithValue("$cutoff", now - (long)KeySpendKept.TotalMilliseconds);
        await prune.ExecuteNonQueryAsync(cancellationToken);
    }

    private static async Task<AdmissionState> ReadAdmissionStateAsync(SqliteConnection connection, SqliteTransaction transaction,
        AdmissionRequest request, long now, CancellationToken cancellationToken)
    {
        // One statement: only the parts of the state this request's limits look at are computed.
        await using var read = Command(connection, transaction, $"""
            SELECT
              (SELECT level FROM rate_buckets WHERE key_id = $key AND kind = 'rpm'),
              (SELECT updated_at FROM rate_buckets WHERE key_id = $key AND kind = 'rpm'),
              (SELECT level FROM rate_buckets WHERE key_id = $key AND kind = 'tpm'),
              (SELECT updated_at FROM rate_buckets WHERE key_id = $key AND kind = 'tpm'),
              {(request.Concurrency is null ? "0" : "(SELECT COUNT(*) FROM reservations WHERE key_id = $key AND holds_slot = 1 AND expires_at > $now)")},
              {(request.BudgetNanos is null ? "0" : "(SELECT COALESCE(SUM(reserved_nanos), 0) FROM reservations WHERE key_id = $key AND expires_at > $now)")},
              {(request.BudgetNanos is null ? "0"
                : request.BudgetPeriod == BudgetPeriod.Total ? "(SELECT spent_nanos FROM api_keys WHERE id = $key)"
                : "(SELECT spent_nanos FROM key_spend WHERE key_id = $key AND period = $period AND period_start = $start)")},
              {(request.ChargeUserBalance ? "(SELECT balance_nanos FROM users WHERE id = $user)" : "NULL")},
              {(request.ChargeUserBalance ? "(SELECT COALESCE(SUM(reserved_nanos), 0) FROM reservations WHERE user_id = $user AND expires_at > $now)" : "0")};
            """);
        read.Parameters.AddWithValue("$key", request.KeyId);
        read.Parameters.AddWithValue("$now", now);
        read.Parameters.AddWithValue("$user", (object?)request.UserId ?? DBNull.Value);
        read.Parameters.AddWithValue("$period", BudgetPeriods.Name(request.BudgetPeriod));
        read.Parameters.AddWithValue("$start", BudgetPeriods.Start(request.BudgetPeriod, request.Now).ToUnixTimeMilliseconds());
        await using var reader = await read.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        double? Level(int i) => reader.IsDBNull(i) ? null : reader.GetDouble(i);
        long Long(int i) => reader.IsDBNull(i) ? 0 : reader.GetInt64(i);
        return new AdmissionState(
            RequestsLevel: request.RequestsPerMinute is { } rpm ? AdmissionRules.Refill(Level(0), Long(1), now, rpm) : 0,
            TokensLevel: request.TokensPerMinute is { } tpm ? AdmissionRules.Refill(Level(2), Long(3), now, tpm) : 0,
            SlotsInUse: (int)Long(4),
            KeyReservedNanos: Long(5),
            BudgetSpentNanos: Long(6),
            BalanceNanos: reader.IsDBNull(7) ? null : reader.GetInt64(7),
            UserReservedNanos: Long(8));
    }

    private static SqliteCommand BucketWriter(SqliteConnection connection, SqliteTransaction transaction) =>
        Command(connection, transaction, """
            INSERT INTO rate_buckets (key_id, kind, level, updated_at) VALUES ($key, $kind, $level, $now)
            ON CONFLICT (key_id, kind) DO UPDATE SET level = excluded.level, updated_at = excluded.updated_at;
            """, ("$key", SqliteType.Integer), ("$kind", SqliteType.Text), ("$level", SqliteType.Real), ("$now", SqliteType.Integer));

    private static async Task WriteBucketAsync(SqliteCommand write, long keyId, string kind, double level, long now, CancellationToken cancellationToken)
    {
        write.Parameters[0].Value = keyId;
        write.Parameters[1].Value = kind;
        write.Parameters[2].Value = level;
        write.Parameters[3].Value = now;
        await write.ExecuteNonQueryAsync(cancellationToken);
    }

    private static SqliteCommand Command(SqliteConnection connection, SqliteTransaction transaction, string sql, params (string Name, SqliteType Type)[] parameters)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        foreach (var (name, type) in parameters)
        {
            command.Parameters.Add(name, type);
        }

        return command;
    }
}
