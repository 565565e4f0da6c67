using System.Text;
using Npgsql;

namespace Relay.Storage.Postgres;

// The usage log as reports and the admin API read it: filtered pages and grouped totals.
public sealed partial class PostgresRelayStore
{
    private const string UsageColumns = """
        id, ts, request_id, key_id, key_name, endpoint, requested_model, provider, upstream_model, status, error_type,
        input_tokens, output_tokens, cache_creation_tokens, cache_read_tokens, first_byte_ms, duration_ms, streamed,
        attempts, attempt_log, route_rule, session_id, agent_id, parent_agent_id, request_class,
        cache_write_1h_tokens, server_tool_uses, cost_nanos, user_id, user_name
        """;

    // A record's one-hour cache writes, never more than all its cache writes (as pricing counts them).
    private const string OneHourWrites = "LEAST(cache_write_1h_tokens, cache_creation_tokens)";

    public async Task<UsagePage> GetUsagePageAsync(UsageFilter filter, long? beforeId, int limit, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        await using var command = _dataSource.CreateCommand();
        var where = new StringBuilder();
        AddConditions(command, where, filter);
        if (beforeId is { } before)
        {
            where.Append(" AND id < @before");
            command.Parameters.AddWithValue("before", before);
        }

        // One more than asked says whether another page follows.
        command.CommandText = $"SELECT {UsageColumns} FROM usage WHERE true{where} ORDER BY id DESC LIMIT @limit;";
        command.Parameters.AddWithValue("limit", limit + 1);
        var items = new List<UsageEntry>(Math.Min(limit + 1, 1024));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            items.Add(new UsageEntry(reader.GetInt64(0), ReadUsageRecord(reader)));
        }

        if (items.Count <= limit)
        {
            return new UsagePage(items, null);
        }

        items.RemoveAt(limit);
        return new UsagePage(items, items[^1].Id);
    }

    public async Task<IReadOnlyList<UsageGroupTotals>> GetUsageTotalsAsync(UsageFilter filter, UsageGrouping by, CancellationToken cancellationToken)
    {
        // Only these fixed expressions are spliced into the SQL; every value the caller gives is a parameter.
        var group = by switch
        {
            UsageGrouping.Key => "COALESCE(key_name, @none)",
            UsageGrouping.User => "COALESCE(user_name, @none)",
            UsageGrouping.Model => "COALESCE(requested_model, @none)",
            UsageGrouping.Day => "to_char(to_timestamp(ts / 1000) AT TIME ZONE 'UTC', 'YYYY-MM-DD')",
            UsageGrouping.Provider => "COALESCE(provider, @none)",
            _ => throw new ArgumentOutOfRangeException(nameof(by)),
        };
        var order = by == UsageGrouping.Day
            ? "grp"
            : "SUM(COALESCE(cost_nanos, 0)) DESC, SUM(input_tokens + output_tokens) DESC, grp";

        await using var command = _dataSource.CreateCommand();
        var where = new StringBuilder();
        AddConditions(command, where, filter);
        command.Parameters.AddWithValue("none", UsageGroupTotals.None);
        command.CommandText = $"""
            SELECT {group} AS grp, COUNT(*),
                   SUM(CASE WHEN status >= 400 OR error_type IS NOT NULL THEN 1 ELSE 0 END)::bigint,
                   SUM(input_tokens)::bigint, SUM(output_tokens)::bigint,
                   SUM(cache_creation_tokens - {OneHourWrites})::bigint, SUM({OneHourWrites})::bigint,
                   SUM(cache_read_tokens)::bigint, SUM(server_tool_uses)::bigint,
                   SUM(COALESCE(cost_nanos, 0))::bigint, SUM(CASE WHEN cost_nanos IS NULL THEN 1 ELSE 0 END)::bigint
            FROM usage WHERE true{where}
            GROUP BY grp ORDER BY {order};
            """;
        var rows = new List<UsageGroupTotals>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(new UsageGroupTotals(reader.GetString(0))
            {
                Requests = reader.GetInt64(1),
                Errors = reader.GetInt64(2),
                InputTokens = reader.GetInt64(3),
                OutputTokens = reader.GetInt64(4),
                CacheWrite5mTokens = reader.GetInt64(5),
                CacheWrite1hTokens = reader.GetInt64(6),
                CacheReadTokens = reader.GetInt64(7),
                ServerToolUses = reader.GetInt64(8),
                CostNanos = reader.GetInt64(9),
                UnpricedRequests = reader.GetInt64(10),
            });
        }

        return rows;
    }

    /// <summary>Appends <c> AND …</c> for each filter given, with its value as a parameter.</summary>
    private static void AddConditions(NpgsqlCommand command, StringBuilder where, UsageFilter filter)
    {
        void Add(string condition, string parameter, object value)
        {
            where.Append(" AND ").Append(condition);
            command.Parameters.AddWithValue(parameter, value);
        }

        if (filter.Since is { } since)
        {
            Add("ts >= @since", "since", since.ToUnixTimeMilliseconds());
        }

        if (filter.Until is { } until)
        {
            Add("ts < @until", "until", until.ToUnixTimeMilliseconds());
        }

        if (filter.KeyName is { } keyName)
        {
            Add("key_name = @keyName", "keyName", keyName);
        }

        if (filter.KeyId is { } keyId)
        {
            Add("key_id = @keyId", "keyId", keyId);
        }

        if (filter.UserName is { } userName)
        {
            Add("user_name = @userName", "userName", userName);
        }

        if (filter.Model is { } model)
        {
            Add("requested_model = @model", "model", model);
        }

        if (filter.Endpoint is { } endpoint)
        {
            Add("endpoint = @endpoint", "endpoint", endpoint);
        }

        switch (filter.Status)
        {
            case { Succeeded: true }:
                where.Append(" AND status < 400 AND error_type IS NULL");
                break;
            case { Succeeded: false }:
                where.Append(" AND (status >= 400 OR error_type IS NOT NULL)");
                break;
            case { Code: { } code }:
                Add("status = @status", "status", code);
                break;
        }
    }

    /// <summary>Reads a row selected with <see cref="UsageColumns"/> (column 0, the id, is the caller's).</summary>
    private static UsageRecord ReadUsageRecord(NpgsqlDataReader reader) => new()
    {
        Timestamp = DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(1)),
        RequestId = reader.GetString(2),
        KeyId = reader.IsDBNull(3) ? null : reader.GetInt64(3),
        KeyName = reader.IsDBNull(4) ? null : reader.GetString(4),
        Endpoint = reader.GetString(5),
        RequestedModel = reader.IsDBNull(6) ? null : reader.GetString(6),
        Provider = reader.IsDBNull(7) ? null : reader.GetString(7),
        UpstreamModel = reader.IsDBNull(8) ? null : reader.GetString(8),
        Status = reader.GetInt32(9),
        ErrorType = reader.IsDBNull(10) ? null : reader.GetString(10),
        InputTokens = reader.GetInt64(11),
        OutputTokens = reader.GetInt64(12),
        CacheCreationInputTokens = reader.GetInt64(13),
        CacheReadInputTokens = reader.GetInt64(14),
        FirstByteMs = reader.IsDBNull(15) ? null : reader.GetDouble(15),
        DurationMs = reader.GetDouble(16),
        Streamed = reader.GetBoolean(17),
        Attempts = reader.GetInt32(18),
        AttemptLog = reader.IsDBNull(19) ? null : reader.GetString(19),
        RouteRule = reader.IsDBNull(20) ? null : reader.GetString(20),
        SessionId = reader.IsDBNull(21) ? null : reader.GetString(21),
        AgentId = reader.IsDBNull(22) ? null : reader.GetString(22),
        ParentAgentId = reader.IsDBNull(23) ? null : reader.GetString(23),
        RequestClass = reader.IsDBNull(24) ? null : reader.GetString(24),
        CacheCreation1hInputTokens = reader.GetInt64(25),
        ServerToolUses = reader.GetInt64(26),
        CostNanos = reader.IsDBNull(27) ? null : reader.GetInt64(27),
        UserId = reader.IsDBNull(28) ? null : reader.GetInt64(28),
        UserName = reader.IsDBNull(29) ? null : reader.GetString(29),
    };
}
