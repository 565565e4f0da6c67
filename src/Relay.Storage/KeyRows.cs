using System.Data.Common;
using Relay.Storage.Accounts;

namespace Relay.Storage;

/// <summary>What the SQL stores share about key rows: the budget-period parameters their key query takes and reading
/// a key back; only how limits are stored differs (arrays in PostgreSQL, text in SQLite).</summary>
internal static class KeyRows
{
    /// <summary>Runs a key query (its <c>@day</c>, <c>@week</c> and <c>@month</c> are the current periods' starts, as
    /// of now) and reads every key, its limits from column 10 on with <paramref name="readLimits"/>.</summary>
    public static async Task<List<ApiKeyInfo>> ReadAllAsync<TReader>(DbCommand command, Func<TReader, int, KeyLimits> readLimits,
        CancellationToken cancellationToken)
        where TReader : DbDataReader
    {
        var now = DateTimeOffset.UtcNow;
        AddParameter(command, "@day", BudgetPeriods.Start(BudgetPeriod.Day, now).ToUnixTimeMilliseconds());
        AddParameter(command, "@week", BudgetPeriods.Start(BudgetPeriod.Week, now).ToUnixTimeMilliseconds());
        AddParameter(command, "@month", BudgetPeriods.Start(BudgetPeriod.Month, now).ToUnixTimeMilliseconds());
        var keys = new List<ApiKeyInfo>();
        await using var reader = (TReader)await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            keys.Add(new ApiKeyInfo(
                reader.GetInt64(0),
                reader.GetString(1),
                reader.GetString(2),
                DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(3)),
                reader.IsDBNull(4) ? null : DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(4)),
                reader.IsDBNull(5) ? null : DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(5)))
            {
                UserName = reader.IsDBNull(6) ? null : reader.GetString(6),
                DisabledAt = reader.IsDBNull(7) ? null : DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(7)),
                SpentNanos = reader.GetInt64(8),
                PeriodSpentNanos = reader.GetInt64(9),
                Limits = readLimits(reader, 10),
            });
        }

        return keys;
    }

    private static void AddParameter(DbCommand command, string name, object value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value;
        command.Parameters.Add(parameter);
    }
}
