using Microsoft.Data.Sqlite;
using Relay.Storage.Accounts;

namespace Relay.Storage.Sqlite;

/// <summary>How <see cref="KeyLimits"/> map to the limit columns of <c>api_keys</c>: lists as comma-separated text,
/// instants as unix milliseconds, the budget period by its name.</summary>
internal static class SqliteKeyLimits
{
    /// <summary>The limit columns of <c>api_keys</c> aliased <c>k</c>, in the order <see cref="Read"/> expects.</summary>
    public const string Columns = "k.expires_at, k.models, k.allowed_ips, k.rpm, k.tpm, k.concurrency, k.budget_nanos, k.budget_period";

    /// <summary>The assignments an UPDATE needs, with the parameters <see cref="Bind"/> sets.</summary>
    public const string Assignments =
        "expires_at = $expires, models = $models, allowed_ips = $ips, rpm = $rpm, tpm = $tpm, concurrency = $concurrency, budget_nanos = $budget, budget_period = $period";

    /// <summary>The parameters of <see cref="Assignments"/>, in column order, for an INSERT.</summary>
    public const string Parameters = "$expires, $models, $ips, $rpm, $tpm, $concurrency, $budget, $period";

    /// <summary>The plain column names, in the order of <see cref="Parameters"/>.</summary>
    public const string ColumnNames = "expires_at, models, allowed_ips, rpm, tpm, concurrency, budget_nanos, budget_period";

    public static void Bind(SqliteParameterCollection parameters, KeyLimits limits)
    {
        parameters.AddWithValue("$expires", (object?)limits.ExpiresAt?.ToUnixTimeMilliseconds() ?? DBNull.Value);
        parameters.AddWithValue("$models", (object?)JoinList(limits.Models) ?? DBNull.Value);
        parameters.AddWithValue("$ips", (object?)JoinList(limits.AllowedIps) ?? DBNull.Value);
        parameters.AddWithValue("$rpm", (object?)limits.RequestsPerMinute ?? DBNull.Value);
        parameters.AddWithValue("$tpm", (object?)limits.TokensPerMinute ?? DBNull.Value);
        parameters.AddWithValue("$concurrency", (object?)limits.Concurrency ?? DBNull.Value);
        parameters.AddWithValue("$budget", (object?)limits.BudgetNanos ?? DBNull.Value);
        parameters.AddWithValue("$period", BudgetPeriods.Name(limits.BudgetPeriod));
    }

    /// <summary>Reads the limits from <see cref="Columns"/>, starting at ordinal <paramref name="first"/>.</summary>
    public static KeyLimits Read(SqliteDataReader reader, int first)
    {
        var periodName = reader.GetString(first + 7);
        if (!BudgetPeriods.TryParse(periodName, out var period))
        {
            // Only Relay writes this column; refusing to guess keeps a damaged row from being enforced as "no budget period".
            throw new InvalidDataException($"api_keys.budget_period holds '{periodName}', which is not a budget period.");
        }

        return new KeyLimits
        {
            ExpiresAt = reader.IsDBNull(first) ? null : DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(first)),
            Models = SplitList(reader.IsDBNull(first + 1) ? null : reader.GetString(first + 1)),
            AllowedIps = SplitList(reader.IsDBNull(first + 2) ? null : reader.GetString(first + 2)),
            RequestsPerMinute = reader.IsDBNull(first + 3) ? null : reader.GetInt32(first + 3),
            TokensPerMinute = reader.IsDBNull(first + 4) ? null : reader.GetInt32(first + 4),
            Concurrency = reader.IsDBNull(first + 5) ? null : reader.GetInt32(first + 5),
            BudgetNanos = reader.IsDBNull(first + 6) ? null : reader.GetInt64(first + 6),
            BudgetPeriod = period,
        };
    }

    private static string? JoinList(IReadOnlyList<string>? items)
    {
        if (items is null || items.Count == 0)
        {
            return null;
        }

        foreach (var item in items)
        {
            // A comma or blank entry would come back as a different list.
            if (string.IsNullOrWhiteSpace(item) || item.Contains(',', StringComparison.Ordinal))
            {
                throw new ArgumentException($"'{item}' cannot be stored in a key's list: entries must be non-empty and contain no comma.", nameof(items));
            }
        }

        return string.Join(',', items);
    }

    private static string[]? SplitList(string? text) =>
        string.IsNullOrEmpty(text) ? null : text.Split(',');
}
