using Npgsql;

namespace Relay.Storage.Postgres;

// Corrections learned from providers' refusals, shared so every instance applies them from the start.
public sealed partial class PostgresRelayStore
{
    public async Task<IReadOnlyList<ProviderCorrection>> ListCorrectionsAsync(CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand(
            "SELECT provider, upstream_model, kind, name, value, evidence, learned_at FROM provider_corrections ORDER BY provider, upstream_model, kind, name;");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var list = new List<ProviderCorrection>();
        while (await reader.ReadAsync(cancellationToken))
        {
            list.Add(new ProviderCorrection(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetInt64(4),
                reader.IsDBNull(5) ? null : reader.GetString(5), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(6))));
        }

        return list;
    }

    public async Task SaveCorrectionAsync(ProviderCorrection correction, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand("""
            INSERT INTO provider_corrections (provider, upstream_model, kind, name, value, evidence, learned_at)
            VALUES (@provider, @model, @kind, @name, @value, @evidence, @learned)
            ON CONFLICT (provider, upstream_model, kind, name) DO UPDATE SET value = excluded.value, evidence = excluded.evidence, learned_at = excluded.learned_at;
            """);
        command.Parameters.AddWithValue("provider", correction.Provider);
        command.Parameters.AddWithValue("model", correction.UpstreamModel);
        command.Parameters.AddWithValue("kind", correction.Kind);
        command.Parameters.AddWithValue("name", correction.Name);
        command.Parameters.AddWithValue("value", correction.Value);
        command.Parameters.Add(new NpgsqlParameter<string?>("evidence", NpgsqlTypes.NpgsqlDbType.Text) { TypedValue = correction.Evidence });
        command.Parameters.AddWithValue("learned", correction.LearnedAt.ToUnixTimeMilliseconds());
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<bool> DeleteCorrectionAsync(string provider, string upstreamModel, string kind, string name, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand(
            "DELETE FROM provider_corrections WHERE provider = @provider AND upstream_model = @model AND kind = @kind AND name = @name;");
        command.Parameters.AddWithValue("provider", provider);
        command.Parameters.AddWithValue("model", upstreamModel);
        command.Parameters.AddWithValue("kind", kind);
        command.Parameters.AddWithValue("name", name);
        return await command.ExecuteNonQueryAsync(cancellationToken) > 0;
    }
}
