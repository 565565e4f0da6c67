using Npgsql;
using NpgsqlTypes;
using Relay.Storage.Accounts;

namespace Relay.Storage.Postgres;

/// <summary>How <see cref="KeyLimits"/> map to the limit columns of <c>api_keys</c>: lists as <c>text[]</c> (an empty
/// list is stored as NULL, "no limit"), instants as Unix milliseconds, the budget period by its name.</summary>
internal static class PostgresKeyLimits
{
    /// <summary>The limit columns of <c>api_keys</c> aliased <c>k</c>, in the order <see cref="Read"/> expects.</summary>
    public const string Columns = "k.expires_at, k.models, k.allowed_ips, k.rpm, k.tpm, k.concurrency, k.budget_nanos, k.budget_period";

    /// <summary>The assignments an UPDATE needs, with the parameters <see cref="Bind"/> sets.</summary>
    public const string Assignments =
        "expires_at = @expires, models = @models, allowed_ips = @ips, rpm = @rpm, tpm = @tpm, concurrency = @concurrency, budget_nanos = @budget, budget_period = @period";

    /// <summary>The parameters of <see cref="Assignments"/>, in column order, for an INSERT.</summary>
    public const string Parameters = "@expires, @models, @ips, @rpm, @tpm, @concurrency, @budget, @period";

    /// <summary>The plain column names, in the order of <see cref="Parameters"/>.</summary>
    public const string ColumnNames = "expires_at, models, allowed_ips, rpm, tpm, concurrency, budget_nanos, budget_period";

    public static void Bind(NpgsqlParameterCollection parameters, KeyLimits limits)
    {
        parameters.Add(new NpgsqlParameter<long?>("expires", NpgsqlDbType.Bigint) { TypedValue = limits.ExpiresAt?.ToUnixTimeMilliseconds() });
        parameters.Add(new NpgsqlParameter<string[]?>("models", NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = List(limits.Models) });
        parameters.Add(new NpgsqlParameter<string[]?>("ips", NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = List(limits.AllowedIps) });
        parameters.Add(new NpgsqlParameter<int?>("rpm", NpgsqlDbType.Integer) { TypedValue = limits.RequestsPerMinute });
        parameters.Add(new NpgsqlParameter<int?>("tpm", NpgsqlDbType.Integer) { TypedValue = limits.TokensPerMinute });
        parameters.Add(new NpgsqlParameter<int?>("concurrency", NpgsqlDbType.Integer) { TypedValue = limits.Concurrency });
        parameters.Add(new NpgsqlParameter<long?>("budget", NpgsqlDbType.Bigint) { TypedValue = limits.BudgetNanos });
        parameters.AddWithValue("period", BudgetPeriods.Name(limits.BudgetPeriod));
    }

    /// <summary>Reads the limits from <see cref="Columns"/>, starting at ordinal <paramref name="first"/>.</summary>
    public static KeyLimits Read(NpgsqlDataReader reader, int first)
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
            Models = reader.IsDBNull(first + 1) ? null : reader.GetFieldValue<string[]>(first + 1),
            AllowedIps = reader.IsDBNull(first + 2) ? null : reader.GetFieldValue<string[]>(first + 2),
            RequestsPerMinute = reader.IsDBNull(first + 3) ? null : reader.GetInt32(first + 3),
            TokensPerMinute = reader.IsDBNull(first + 4) ? null : reader.GetInt32(first + 4),
            Concurrency = reader.IsDBNull(first + 5) ? null : reader.GetInt32(first + 5),
            BudgetNanos = reader.IsDBNull(first + 6) ? null : reader.GetInt64(first + 6),
            BudgetPeriod = period,
        };
    }

    private static string[]? List(IReadOnlyList<string>? items) => items is null || items.Count == 0 ? null : [.. items];
}
