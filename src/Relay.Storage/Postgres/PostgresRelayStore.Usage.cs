using Npgsql;
using Relay.Storage.Accounts;

namespace Relay.Storage.Postgres;

// Writing usage records in batches, and settling what they cost in the same transaction.
public sealed partial class PostgresRelayStore
{
    /// <summary>Periodic spend rows are kept this long: long enough for the current and the previous month.</summary>
    private static readonly TimeSpan KeySpendKept = TimeSpan.FromDays(62);

    private static readonly TimeSpan KeySpendPruneInterval = TimeSpan.FromHours(1);

    private static readonly (BudgetPeriod Period, string Name)[] SpendPeriods =
        [.. new[] { BudgetPeriod.Day, BudgetPeriod.Week, BudgetPeriod.Month }.Select(p => (p, BudgetPeriods.Name(p)))];

    private long _keySpendPrunedAtMs;

    /// <summary>Inserts the batch in one statement; a record whose request id is already stored is skipped, and only
    /// the records inserted are settled. So a batch written again after its commit's acknowledgment was lost (the
    /// connection broke) charges nothing twice.</summary>
    public async Task AppendUsageAsync(IReadOnlyList<UsageRecord> records, CancellationToken cancellationToken)
    {
        if (records.Count == 0)
        {
            return;
        }

        await InTransactionAsync(async (connection, transaction) =>
        {
            var inserted = await InsertUsageAsync(connection, transaction, records, cancellationToken);
            await SettleAsync(connection, transaction, inserted, cancellationToken);
            return true;
        }, cancellationToken);
    }

    /// <summary>The records of the batch that were new, each request id once.</summary>
    private static async Task<List<UsageRecord>> InsertUsageAsync(NpgsqlConnection connection, NpgsqlTransaction transaction,
        IReadOnlyList<UsageRecord> records, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("""
            INSERT INTO usage (ts, request_id, key_id, key_name, endpoint, requested_model, provider, upstream_model,
                               status, error_type, input_tokens, output_tokens, cache_creation_tokens, cache_read_tokens,
                               first_byte_ms, duration_ms, streamed, attempts, attempt_log, route_rule,
                               session_id, agent_id, parent_agent_id, request_class,
                               cache_write_1h_tokens, server_tool_uses, cost_nanos, user_id, user_name)
            SELECT ts, rid, kid, kname, endpoint, model, provider, upstream, status, error, input, output, cw, cr,
                   ttfb, duration, streamed, attempts, attempt_log, rule, session, agent, parent_agent, request_class,
                   cw1h, server_tools, cost, uid, uname
            FROM unnest(@ts, @rid, @kid, @kname, @endpoint, @model, @provider, @upstream, @status, @error, @in, @out, @cw, @cr,
                        @ttfb, @duration, @streamed, @attempts, @attemptLog, @rule, @session, @agent, @parentAgent, @requestClass,
                        @cw1h, @serverTools, @cost, @uid, @uname)
                 WITH ORDINALITY AS t(ts, rid, kid, kname, endpoint, model, provider, upstream, status, error, input, output, cw, cr,
                                      ttfb, duration, streamed, attempts, attempt_log, rule, session, agent, parent_agent, request_class,
                                      cw1h, server_tools, cost, uid, uname, ord)
            ORDER BY ord
            ON CONFLICT (request_id) DO NOTHING
            RETURNING request_id;
            """, connection, transaction);
        // Ids follow the batch's order (ORDER BY ord), so pages list the records as they were written.
        var p = command.Parameters;
        p.AddWithValue("ts", records.Select(r => r.Timestamp.ToUnixTimeMilliseconds()).ToArray());
        p.AddWithValue("rid", records.Select(r => r.RequestId).ToArray());
        p.AddWithValue("kid", records.Select(r => r.KeyId).ToArray());
        p.AddWithValue("kname", Texts(records, r => r.KeyName));
        p.AddWithValue("endpoint", records.Select(r => r.Endpoint).ToArray());
        p.AddWithValue("model", Texts(records, r => r.RequestedModel));
        p.AddWithValue("provider", Texts(records, r => r.Provider));
        p.AddWithValue("upstream", Texts(records, r => r.UpstreamModel));
        p.AddWithValue("status", records.Select(r => r.Status).ToArray());
        p.AddWithValue("error", Texts(records, r => r.ErrorType));
        p.AddWithValue("in", records.Select(r => r.InputTokens).ToArray());
        p.AddWithValue("out", records.Select(r => r.OutputTokens).ToArray());
        p.AddWithValue("cw", records.Select(r => r.CacheCreationInputTokens).ToArray());
        p.AddWithValue("cr", records.Select(r => r.CacheReadInputTokens).ToArray());
        p.AddWithValue("ttfb", records.Select(r => r.FirstByteMs).ToArray());
        p.AddWithValue("duration", records.Select(r => r.DurationMs).ToArray());
        p.AddWithValue("streamed", records.Select(r => r.Streamed).ToArray());
        p.AddWithValue("attempts", records.Select(r => r.Attempts).ToArray());
        p.AddWithValue("attemptLog", Texts(records, r => r.AttemptLog));
        p.AddWithValue("rule", Texts(records, r => r.RouteRule));
        p.AddWithValue("session", Texts(records, r => r.SessionId));
        p.AddWithValue("agent", Texts(records, r => r.AgentId));
        p.AddWithValue("parentAgent", Texts(records, r => r.ParentAgentId));
        p.AddWithValue("requestClass", Texts(records, r => r.RequestClass));
        p.AddWithValue("cw1h", records.Select(r => r.CacheCreation1hInputTokens).ToArray());
        p.AddWithValue("serverTools", records.Select(r => r.ServerToolUses).ToArray());
        p.AddWithValue("cost", records.Select(r => r.CostNanos).ToArray());
        p.AddWithValue("uid", records.Select(r => r.UserId).ToArray());
        p.AddWithValue("uname", Texts(records, r => r.UserName));

        var insertedIds = new HashSet<string>(StringComparer.Ordinal);
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                insertedIds.Add(reader.GetString(0));
            }
        }

        // Remove() keeps a request id that appears twice in one batch from being settled twice.
        return [.. records.Where(r => insertedIds.Remove(r.RequestId))];
    }

    /// <summary>Charges what each record cost to its key (lifetime and per period) and its user (spent, and the balance
    /// of a prepaid user), and drops the reservations the records settle, in one round trip. Charges are summed per
    /// key and per user, and the rows locked keys first, then users, each in ascending id order, as admission locks a
    /// key before its user: concurrent settlements and admissions wait for each other instead of deadlocking.</summary>
    private async Task SettleAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, List<UsageRecord> records, CancellationToken cancellationToken)
    {
        var charged = records.Where(r => r.CostNanos is not (null or 0)).ToList();
        var keys = charged.Where(r => r.KeyId is not null).GroupBy(r => r.KeyId!.Value).OrderBy(g => g.Key)
            .Select(g => (Id: g.Key, Cost: g.Sum(r => r.CostNanos!.Value))).ToList();
        var periods = charged.Where(r => r.KeyId is not null)
            .SelectMany(r => SpendPeriods.Select(p => (Key: r.KeyId!.Value, p.Name, Start: BudgetPeriods.Start(p.Period, r.Timestamp).ToUnixTimeMilliseconds(), Cost: r.CostNanos!.Value)))
            .GroupBy(s => (s.Key, s.Name, s.Start)).OrderBy(g => g.Key.Key)
            .Select(g => (g.Key.Key, g.Key.Name, g.Key.Start, Cost: g.Sum(s => s.Cost))).ToList();
        var users = charged.Where(r => r.UserId is not null).GroupBy(r => r.UserId!.Value).OrderBy(g => g.Key)
            .Select(g => (Id: g.Key, Cost: g.Sum(r => r.CostNanos!.Value))).ToList();
        var reservations = records.Where(r => r.ReservationId is not null).Select(r => r.ReservationId!.Value).ToArray();

        await using var batch = new NpgsqlBatch(connection, transaction);
        if (keys.Count > 0)
        {
            var ids = keys.Select(k => k.Id).ToArray();
            Add(batch, "SELECT id FROM api_keys WHERE id = ANY(@ids) ORDER BY id FOR UPDATE;", ("ids", ids));
            Add(batch, """
                UPDATE api_keys k SET spent_nanos = k.spent_nanos + c.cost
                FROM unnest(@ids, @costs) AS c(id, cost) WHERE k.id = c.id;
                """, ("ids", ids), ("costs", keys.Select(k => k.Cost).ToArray()));
            Add(batch, """
                INSERT INTO key_spend (key_id, period, period_start, spent_nanos)
                SELECT * FROM unnest(@keys, @periods, @starts, @costs)
                ON CONFLICT (key_id, period, period_start) DO UPDATE SET spent_nanos = key_spend.spent_nanos + excluded.spent_nanos;
                """, ("keys", periods.Select(s => s.Key).ToArray()), ("periods", periods.Select(s => s.Name).ToArray()),
                ("starts", periods.Select(s => s.Start).ToArray()), ("costs", periods.Select(s => s.Cost).ToArray()));
        }

        if (users.Count > 0)
        {
            var ids = users.Select(u => u.Id).ToArray();
            Add(batch, "SELECT id FROM users WHERE id = ANY(@ids) ORDER BY id FOR UPDATE;", ("ids", ids));
            // A NULL balance (not prepaid) stays NULL.
            Add(batch, """
                UPDATE users u SET spent_nanos = u.spent_nanos + c.cost, balance_nanos = u.balance_nanos - c.cost
                FROM unnest(@ids, @costs) AS c(id, cost) WHERE u.id = c.id;
                """, ("ids", ids), ("costs", users.Select(u => u.Cost).ToArray()));
        }

        if (reservations.Length > 0)
        {
            Add(batch, "DELETE FROM reservations WHERE id = ANY(@ids);", ("ids", reservations));
        }

        if (records.Count > 0 && KeySpendPruneDue(records.Max(r => r.Timestamp)) is { } cutoff)
        {
            Add(batch, "DELETE FROM key_spend WHERE period_start < @cutoff;", ("cutoff", cutoff));
        }

        if (batch.BatchCommands.Count > 0)
        {
            await batch.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    /// <summary>The cutoff below which periodic spend rows no budget can look at any more are dropped (as of
    /// <paramref name="latest"/>, the time of the usage just written); null except once an hour per process.</summary>
    private long? KeySpendPruneDue(DateTimeOffset latest)
    {
        var now = latest.ToUnixTimeMilliseconds();
        var last = Interlocked.Read(ref _keySpendPrunedAtMs);
        if (Math.Abs(now - last) < (long)KeySpendPruneInterval.TotalMilliseconds || Interlocked.CompareExchange(ref _keySpendPrunedAtMs, now, last) != last)
        {
            return null;
        }

        return now - (long)KeySpendKept.TotalMilliseconds;
    }

    private static void Add(NpgsqlBatch batch, string sql, params (string Name, object Value)[] parameters)
    {
        var command = new NpgsqlBatchCommand(sql);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        batch.BatchCommands.Add(command);
    }

    private static string?[] Texts(IReadOnlyList<UsageRecord> records, Func<UsageRecord, string?> field) => [.. records.Select(field)];
}
