using Npgsql;
using NpgsqlTypes;
using Relay.Storage.Accounts;

namespace Relay.Storage.Postgres;

// Admission: the shared limits state (rate buckets, reservations), one transaction per call that holds the key's
// advisory lock (and its user's), so instances take turns per key and never both take the last of a limit.
//
// Advisory locks, not the rows' own: settlement updates the key's and the user's rows (spend, balance) in the
// transaction that writes usage records, and waits for the disk to commit it. Admission need not wait for that: it
// reads spend and holds in one statement, and settlement turns a hold into spend in one commit, so either snapshot
// (before or after) sums to the same or less. Only admissions (and releases) of one key must take turns.
public sealed partial class PostgresRelayStore
{
    private const string RequestsBucket = "rpm";
    private const string TokensBucket = "tpm";

    public Task<AdmissionDecision> AdmitAsync(AdmissionRequest request, CancellationToken cancellationToken) =>
        InTransactionAsync(_limitsDataSource, (connection, transaction) => AdmitAsync(connection, transaction, request, cancellationToken), cancellationToken);

    public Task ReleaseAsync(long reservationId, long actualTokens, DateTimeOffset now, CancellationToken cancellationToken) =>
        InTransactionAsync(_limitsDataSource, (connection, transaction) => ReleaseAsync(connection, transaction, reservationId, actualTokens, now, cancellationToken), cancellationToken);

    private static async Task<AdmissionDecision> AdmitAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, AdmissionRequest request,
        CancellationToken cancellationToken)
    {
        var now = request.Now.ToUnixTimeMilliseconds();
        AdmissionState state;
        // One round trip: lock the key (then the user whose balance is charged, always in this order), read the state as it is once the locks are held (each statement reads the latest commits), drop lapsed holds.
        // Only this key's lapsed holds are dropped (their rows are under its lock); every read ignores lapsed holds, so
        // another key's wait until that key is admitted again.
        await using (var read = new NpgsqlBatch(connection, transaction))
        {
            Add(read, "SELECT pg_advisory_xact_lock(@lock);", ("lock", KeyLock(request.KeyId)));
            var lockUser = request.ChargeUserBalance && request.UserId is not null;
            if (lockUser)
            {
                Add(read, "SELECT pg_advisory_xact_lock(@lock);", ("lock", UserLock(request.UserId!.Value)));
            }

            read.BatchCommands.Add(StateQuery(request, now));
            Add(read, "DELETE FROM reservations WHERE key_id = @key AND expires_at <= @now;", ("key", request.KeyId), ("now", now));
            await using var reader = await read.ExecuteReaderAsync(cancellationToken);
            await reader.NextResultAsync(cancellationToken);
            if (lockUser)
            {
                await reader.NextResultAsync(cancellationToken);
            }

            await reader.ReadAsync(cancellationToken);
            state = ReadState(reader, request, now);
        }

        var (decision, requestsLevel, tokensLevel) = AdmissionRules.Decide(request, state);
        if (!decision.Admitted)
        {
            return decision;
        }

        await using var write = new NpgsqlBatch(connection, transaction);
        Add(write, """
            INSERT INTO reservations (key_id, user_id, reserved_nanos, estimated_tokens, holds_slot, expires_at)
            VALUES (@key, @user, @reserved, @tokens, true, @expires) RETURNING id;
            """, ("key", request.KeyId), ("user", (object?)request.UserId ?? DBNull.Value), ("reserved", Math.Max(0, request.ReserveNanos)),
            ("tokens", Math.Max(0, request.EstimatedTokens)), ("expires", request.ReservationExpires.ToUnixTimeMilliseconds()));
        write.BatchCommands[0].Parameters["user"].NpgsqlDbType = NpgsqlDbType.Bigint;
        if (request.RequestsPerMinute is not null)
        {
            write.BatchCommands.Add(BucketWriter(request.KeyId, RequestsBucket, requestsLevel, now));
        }

        if (request.TokensPerMinute is not null)
        {
            write.BatchCommands.Add(BucketWriter(request.KeyId, TokensBucket, tokensLevel, now));
        }

        var id = (long)(await write.ExecuteScalarAsync(cancellationToken))!;
        return decision with { ReservationId = id };
    }

    private static async Task<bool> ReleaseAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, long reservationId, long actualTokens,
        DateTimeOffset now, CancellationToken cancellationToken)
    {
        var nowMs = now.ToUnixTimeMilliseconds();
        long keyId, estimated;
        int? limit;
        double? level;
        long updatedAt;
        await using (var read = new NpgsqlBatch(connection, transaction))
        {
            // The key's lock (KeyLock) first, as admission takes it: the token bucket is read and written by one at a time.
            Add(read, "SELECT pg_advisory_xact_lock(-key_id) FROM reservations WHERE id = @id;", ("id", reservationId));
            Add(read, """
                SELECT r.key_id, r.estimated_tokens, k.tpm, b.level, b.updated_at
                FROM reservations r
                LEFT JOIN api_keys k ON k.id = r.key_id
                LEFT JOIN rate_buckets b ON b.key_id = r.key_id AND b.kind = 'tpm'
                WHERE r.id = @id;
                """, ("id", reservationId));
            Add(read, "UPDATE reservations SET holds_slot = false WHERE id = @id;", ("id", reservationId));
            await using var reader = await read.ExecuteReaderAsync(cancellationToken);
            await reader.NextResultAsync(cancellationToken);
            if (!await reader.ReadAsync(cancellationToken))
            {
                return false; // expired, or already settled
            }

            keyId = reader.GetInt64(0);
            estimated = reader.GetInt64(1);
            limit = reader.IsDBNull(2) ? null : reader.GetInt32(2);
            level = reader.IsDBNull(3) ? null : reader.GetDouble(3);
            updatedAt = reader.IsDBNull(4) ? 0 : reader.GetInt64(4);
        }

        // The token bucket took the estimate at admission; now it gives back or takes the difference to the real count.
        if (limit is { } tpm && level is not null && actualTokens != estimated)
        {
            var corrected = AdmissionRules.CorrectTokens(AdmissionRules.Refill(level, updatedAt, nowMs, tpm), estimated, actualTokens, tpm);
            await using var write = new NpgsqlBatch(connection, transaction) { BatchCommands = { BucketWriter(keyId, TokensBucket, corrected, nowMs) } };
            await write.ExecuteNonQueryAsync(cancellationToken);
        }

        return true;
    }

    /// <summary>One statement: only the parts of the state this request's limits look at are computed.</summary>
    private static NpgsqlBatchCommand StateQuery(AdmissionRequest request, long now)
    {
        var command = new NpgsqlBatchCommand($"""
            SELECT
              (SELECT level FROM rate_buckets WHERE key_id = @key AND kind = 'rpm'),
              (SELECT updated_at FROM rate_buckets WHERE key_id = @key AND kind = 'rpm'),
              (SELECT level FROM rate_buckets WHERE key_id = @key AND kind = 'tpm'),
              (SELECT updated_at FROM rate_buckets WHERE key_id = @key AND kind = 'tpm'),
              {(request.Concurrency is null ? "0::bigint" : "(SELECT COUNT(*) FROM reservations WHERE key_id = @key AND holds_slot AND expires_at > @now)")},
              {(request.BudgetNanos is null ? "0::bigint" : "(SELECT COALESCE(SUM(reserved_nanos), 0)::bigint FROM reservations WHERE key_id = @key AND expires_at > @now)")},
              {(request.BudgetNanos is null ? "0::bigint"
                : request.BudgetPeriod == BudgetPeriod.Total ? "(SELECT spent_nanos FROM api_keys WHERE id = @key)"
                : "(SELECT spent_nanos FROM key_spend WHERE key_id = @key AND period = @period AND period_start = @start)")},
              {(request.ChargeUserBalance ? "(SELECT balance_nanos FROM users WHERE id = @user)" : "NULL::bigint")},
              {(request.ChargeUserBalance ? "(SELECT COALESCE(SUM(reserved_nanos), 0)::bigint FROM reservations WHERE user_id = @user AND expires_at > @now)" : "0::bigint")};
            """);
        command.Parameters.AddWithValue("key", request.KeyId);
        command.Parameters.AddWithValue("now", now);
        command.Parameters.Add(new NpgsqlParameter<long?>("user", NpgsqlDbType.Bigint) { TypedValue = request.UserId });
        command.Parameters.AddWithValue("period", BudgetPeriods.Name(request.BudgetPeriod));
        command.Parameters.AddWithValue("start", BudgetPeriods.Start(request.BudgetPeriod, request.Now).ToUnixTimeMilliseconds());
        return command;
    }

    private static AdmissionState ReadState(NpgsqlDataReader reader, AdmissionRequest request, long now)
    {
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

    private static NpgsqlBatchCommand BucketWriter(long keyId, string kind, double level, long now)
    {
        var command = new NpgsqlBatchCommand("""
            INSERT INTO rate_buckets (key_id, kind, level, updated_at) VALUES (@key, @kind, @level, @now)
            ON CONFLICT (key_id, kind) DO UPDATE SET level = excluded.level, updated_at = excluded.updated_at;
            """);
        command.Parameters.AddWithValue("key", keyId);
        command.Parameters.AddWithValue("kind", kind);
        command.Parameters.AddWithValue("level", level);
        command.Parameters.AddWithValue("now", now);
        return command;
    }

    /// <summary>The advisory lock of a key's limits: its negated id (the migrations' lock is a large positive constant).</summary>
    private static long KeyLock(long keyId) => -keyId;

    /// <summary>The advisory lock of a user's balance, apart from every key's.</summary>
    private static long UserLock(long userId) => long.MinValue / 2 - userId;
}
