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
        UsageRows.AddConditions(command, where, filter);
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
            items.Add(new UsageEntry(reader.GetInt64(0), UsageRows.ReadRecord(reader)));
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
        UsageRows.AddConditions(command, where, filter);
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
            rows.Add(UsageRows.ReadGroupTotals(reader));
        }

        return rows;
    }
}
