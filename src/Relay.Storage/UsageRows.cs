using System.Data.Common;
using System.Text;

namespace Relay.Storage;

/// <summary>What the SQL stores share about usage rows: the filter's conditions and reading a row back, in ADO.NET
/// terms both providers speak (<c>@name</c> parameters work in SQLite and PostgreSQL alike).</summary>
internal static class UsageRows
{
    /// <summary>Appends <c> AND …</c> for each filter given, with its value as a parameter.</summary>
    public static void AddConditions(DbCommand command, StringBuilder where, UsageFilter filter)
    {
        void Add(string column, string op, string name, object value)
        {
            where.Append(" AND ").Append(column).Append(' ').Append(op).Append(" @").Append(name);
            var parameter = command.CreateParameter();
            parameter.ParameterName = "@" + name;
            parameter.Value = value;
            command.Parameters.Add(parameter);
        }

        if (filter.Since is { } since)
        {
            Add("ts", ">=", "since", since.ToUnixTimeMilliseconds());
        }

        if (filter.Until is { } until)
        {
            Add("ts", "<", "until", until.ToUnixTimeMilliseconds());
        }

        if (filter.KeyName is { } keyName)
        {
            Add("key_name", "=", "keyName", keyName);
        }

        if (filter.KeyId is { } keyId)
        {
            Add("key_id", "=", "keyId", keyId);
        }

        if (filter.UserName is { } userName)
        {
            Add("user_name", "=", "userName", userName);
        }

        if (filter.Model is { } model)
        {
            Add("requested_model", "=", "model", model);
        }

        if (filter.Endpoint is { } endpoint)
        {
            Add("endpoint", "=", "endpoint", endpoint);
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
                Add("status", "=", "status", code);
                break;
        }
    }

    /// <summary>Reads a group's sums: the group, then requests, errors, input, output, 5-minute and 1-hour cache
    /// writes, cache reads, server tool uses, cost and unpriced requests.</summary>
    public static UsageGroupTotals ReadGroupTotals(DbDataReader reader) => new(reader.GetString(0))
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
    };

    /// <summary>Reads a row selected with the stores' usage columns (column 0, the id, is the caller's).</summary>
    public static UsageRecord ReadRecord(DbDataReader reader) => new()
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
        // A boolean in PostgreSQL, an integer in SQLite: both readers give GetBoolean.
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
