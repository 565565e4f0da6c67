using Microsoft.Data.Sqlite;
using Relay.Storage.Accounts;

namespace Relay.Storage.Sqlite;

// Client keys: creating them with a user and limits, looking them up, changing them.
public sealed partial class SqliteRelayStore
{
    /// <summary>One key as people see it, from <c>api_keys k</c> joined to <c>users u</c>; the period spend comes from
    /// the key_spend row of the key's budget period that contains now (the <c>@day</c>, <c>@week</c>, <c>@month</c> starts).</summary>
    private const string KeyInfoSelect = $"""
        SELECT k.id, k.name, k.display_prefix, k.created_at, k.revoked_at,
               (SELECT MAX(usage.ts) FROM usage WHERE usage.key_id = k.id),
               u.name, k.disabled_at, k.spent_nanos,
               CASE k.budget_period
                   WHEN 'total' THEN k.spent_nanos
                   ELSE COALESCE((SELECT s.spent_nanos FROM key_spend s
                                  WHERE s.key_id = k.id AND s.period = k.budget_period
                                    AND s.period_start = CASE k.budget_period WHEN 'day' THEN @day WHEN 'week' THEN @week ELSE @month END), 0)
               END,
               {SqliteKeyLimits.Columns}
        FROM api_keys k LEFT JOIN users u ON u.id = k.user_id
        """;

    public async Task<ApiKeyInfo> CreateKeyAsync(NewApiKey key, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        var userId = await UserIdAsync(connection, key.UserName, cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = $"""
            INSERT INTO api_keys (name, key_hash, display_prefix, created_at, user_id, {SqliteKeyLimits.ColumnNames})
            VALUES ($name, $hash, $prefix, $created, $user, {SqliteKeyLimits.Parameters})
            RETURNING id;
            """;
        var createdAt = DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$name", key.Name);
        command.Parameters.AddWithValue("$hash", key.KeyHash);
        command.Parameters.AddWithValue("$prefix", key.DisplayPrefix);
        command.Parameters.AddWithValue("$created", createdAt.ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$user", (object?)userId ?? DBNull.Value);
        SqliteKeyLimits.Bind(command.Parameters, key.Limits);
        long id;
        try
        {
            id = (long)(await command.ExecuteScalarAsync(cancellationToken))!;
        }
        catch (SqliteException ex) when (ex.SqliteErrorCode == 19 /* SQLITE_CONSTRAINT */)
        {
            throw new DuplicateKeyNameException(key.Name);
        }

        KeysChanged?.Invoke();
        return new ApiKeyInfo(id, key.Name, key.DisplayPrefix, createdAt, null, null)
        {
            UserName = userId is null ? null : key.UserName,
            Limits = key.Limits,
        };
    }

    public async Task<StoredApiKey?> FindActiveKeyAsync(byte[] keyHash, CancellationToken cancellationToken)
    {
        // The hot path (behind a short cache): one lookup through the unique index on key_hash.
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = $"""
            SELECT k.id, k.name, k.key_hash, k.user_id, u.name, u.balance_nanos IS NOT NULL, k.disabled_at, {SqliteKeyLimits.Columns}
            FROM api_keys k LEFT JOIN users u ON u.id = k.user_id
            WHERE k.key_hash = $hash AND k.revoked_at IS NULL;
            """;
        command.Parameters.AddWithValue("$hash", keyHash);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }

        return new StoredApiKey(reader.GetInt64(0), reader.GetString(1), (byte[])reader.GetValue(2))
        {
            UserId = reader.IsDBNull(3) ? null : reader.GetInt64(3),
            UserName = reader.IsDBNull(4) ? null : reader.GetString(4),
            UserPrepaid = !reader.IsDBNull(5) && reader.GetInt64(5) != 0,
            DisabledAt = reader.IsDBNull(6) ? null : DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(6)),
            Limits = SqliteKeyLimits.Read(reader, 7),
        };
    }

    public async Task<IReadOnlyList<ApiKeyInfo>> ListKeysAsync(bool includeRevoked, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = $"""
            {KeyInfoSelect}
            {(includeRevoked ? "" : "WHERE k.revoked_at IS NULL")}
            ORDER BY k.created_at, k.id;
            """;
        return await ReadKeyInfosAsync(command, cancellationToken);
    }

    public async Task<ApiKeyInfo?> FindKeyAsync(string name, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        return await FindKeyAsync(connection, name, cancellationToken);
    }

    public async Task<ApiKeyInfo?> UpdateKeyAsync(string name, KeyLimits limits, string? userName, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        var userId = await UserIdAsync(connection, userName, cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = $"UPDATE api_keys SET user_id = $user, {SqliteKeyLimits.Assignments} WHERE name = $name AND revoked_at IS NULL;";
        command.Parameters.AddWithValue("$name", name);
        command.Parameters.AddWithValue("$user", (object?)userId ?? DBNull.Value);
        SqliteKeyLimits.Bind(command.Parameters, limits);
        if (await command.ExecuteNonQueryAsync(cancellationToken) == 0)
        {
            return null;
        }

        KeysChanged?.Invoke();
        return await FindKeyAsync(connection, name, cancellationToken);
    }

    public async Task<bool> SetKeyDisabledAsync(string name, bool disabled, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        // Disabling a disabled key keeps the first instant it was disabled.
        command.CommandText = disabled
            ? "UPDATE api_keys SET disabled_at = COALESCE(disabled_at, $now) WHERE name = $name AND revoked_at IS NULL;"
            : "UPDATE api_keys SET disabled_at = NULL WHERE name = $name AND revoked_at IS NULL;";
        command.Parameters.AddWithValue("$now", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$name", name);
        var changed = await command.ExecuteNonQueryAsync(cancellationToken) > 0;
        if (changed)
        {
            KeysChanged?.Invoke();
        }

        return changed;
    }

    private static async Task<ApiKeyInfo?> FindKeyAsync(SqliteConnection connection, string name, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = $"""
            {KeyInfoSelect}
            WHERE k.name = $name AND k.revoked_at IS NULL;
            """;
        command.Parameters.AddWithValue("$name", name);
        var keys = await ReadKeyInfosAsync(command, cancellationToken);
        return keys.Count == 0 ? null : keys[0];
    }

    private static Task<List<ApiKeyInfo>> ReadKeyInfosAsync(SqliteCommand command, CancellationToken cancellationToken) =>
        KeyRows.ReadAllAsync<SqliteDataReader>(command, SqliteKeyLimits.Read, cancellationToken);

    /// <summary>The id of the user with this name; null for no user.</summary>
    /// <exception cref="UnknownUserException">No user has this name.</exception>
    private static async Task<long?> UserIdAsync(SqliteConnection connection, string? userName, CancellationToken cancellationToken)
    {
        if (userName is null)
        {
            return null;
        }

        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT id FROM users WHERE name = $name;";
        command.Parameters.AddWithValue("$name", userName);
        return await command.ExecuteScalarAsync(cancellationToken) as long? ?? throw new UnknownUserException(userName);
    }
}
