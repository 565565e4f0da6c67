using System.Text.Json;
using NpgsqlTypes;
using Relay.Storage.Accounts;

namespace Relay.Storage.Postgres;

// Prices an operator set at run time: table prices (model, rates as jsonb, updated_at).
public sealed partial class PostgresRelayStore
{
    public async Task<IReadOnlyList<StoredPrice>> ListPricesAsync(CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand("SELECT model, rates::text, updated_at FROM prices ORDER BY model;");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var list = new List<StoredPrice>();
        while (await reader.ReadAsync(cancellationToken))
        {
            var model = reader.GetString(0);
            PriceRates rates;
            try
            {
                rates = PriceRatesJson.Deserialize(reader.GetString(1));
            }
            catch (JsonException ex)
            {
                // Only Relay writes this table; a row it cannot read must not quietly fall back to a cheaper price.
                throw new InvalidDataException($"The stored price of '{model}' cannot be read: {ex.Message}", ex);
            }

            list.Add(new StoredPrice(model, rates, DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(2))));
        }

        return list;
    }

    public async Task SetPriceAsync(string model, PriceRates rates, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand("""
            INSERT INTO prices (model, rates, updated_at) VALUES (@model, @rates, @now)
            ON CONFLICT (model) DO UPDATE SET rates = excluded.rates, updated_at = excluded.updated_at;
            """);
        command.Parameters.AddWithValue("model", model);
        command.Parameters.AddWithValue("rates", NpgsqlDbType.Jsonb, PriceRatesJson.Serialize(rates));
        command.Parameters.AddWithValue("now", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<bool> DeletePriceAsync(string model, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand("DELETE FROM prices WHERE model = @model;");
        command.Parameters.AddWithValue("model", model);
        return await command.ExecuteNonQueryAsync(cancellationToken) > 0;
    }
}
