using System.Text;
using Microsoft.Data.Sqlite;

namespace Relay.Storage.Sqlite;

// The usage log as reports and the admin API read it: filtered pages and grouped totals.
public sealed partial class SqliteRelayStore
{
    private const string UsageColumns = """
        id, ts, request_id, key_id, key_name, endpoint, requested_model, provider, upstream_model, status, error_type,
        input_tokens, output_tokens, cache_creation_tokens, cache_read_tokens, first_byte_ms, duration_ms, streamed,
        attempts, attempt_log, route_rule, session_id, agent_id, parent_agent_id, request_class,
        cache_write_1h_tokens, server_tool_uses, cost_nanos, user_id, user_name
        """;

    // A record's one-hour cache writes, never more than all its cache writes (as pricing counts them).
    private const string OneHourWrites = "MIN(cache_write_1h_tokens, cache_creation_tokens)";

    public async Task<UsagePage> GetUsagePageAsync(UsageFilter filter, long? beforeId, int limit, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        var where = new StringBuilder();
        UsageRows.AddConditions(command, where, filter);
        if (beforeId is { } before)
        {
            where.Append(" AND id < $before");
            command.Parameters.AddWithValue("$before", before);
        }

        // One more than asked says whether another page follows.
        command.CommandText = $"SELECT {UsageColumns} FROM usage WHERE 1 = 1{where} ORDER BY id DESC LIMIT $limit;";
        command.Parameters.AddWithValue("$limit", limit + 1);
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
            UsageGrouping.Key => "COALESCE(key_name, $none)",
            UsageGrouping.User => "COALESCE(user_name, $none)",
            UsageGrouping.Model => "COALESCE(requested_model, $none)",
            UsageGrouping.Day => "strftime('%Y-%m-%d', ts / 1000, 'unixepoch')",
            UsageGrouping.Provider => "COALESCE(provider, $none)",
            _ => throw new ArgumentOutOfRangeException(nameof(by)),
        };
        var order = by == UsageGrouping.Day
            ? "grp"
            : "SUM(COALESCE(cost_nanos, 0)) DESC, SUM(input_tokens + output_tokens) DESC, grp";

        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        var where = new StringBuilder();
        UsageRows.AddConditions(command, where, filter);
        command.Parameters.AddWithValue("$none", UsageGroupTotals.None);
        command.CommandText = $"""
            SELECT {group} AS grp, COUNT(*),
                   SUM(CASE WHEN status >= 400 OR error_type IS NOT NULL THEN 1 ELSE 0 END),
                   SUM(input_tokens), SUM(output_tokens),
                   SUM(cache_creation_tokens - {OneHourWrites}), SUM({OneHourWrites}),
                   SUM(cache_read_tokens), SUM(server_tool_uses),
                   SUM(COALESCE(cost_nanos, 0)), SUM(CASE WHEN cost_nanos IS NULL THEN 1 ELSE 0 END)
            FROM usage WHERE 1 = 1{where}
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
