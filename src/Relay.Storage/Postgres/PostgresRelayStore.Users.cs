using Npgsql;
using Relay.Storage.Accounts;

namespace Relay.Storage.Postgres;

// Users: creating them, topping up their balance, reading them.
public sealed partial class PostgresRelayStore
{
    /// <summary>One user from <c>users u</c>, with the count of active keys and the money still held (as of <c>@now</c>).</summary>
    private const string UserInfoSelect = """
        SELECT u.id, u.name, u.balance_nanos, u.spent_nanos, u.created_at,
               (SELECT COUNT(*) FROM api_keys k WHERE k.user_id = u.id AND k.revoked_at IS NULL),
               (SELECT COALESCE(SUM(r.reserved_nanos), 0)::bigint FROM reservations r WHERE r.user_id = u.id AND r.expires_at > @now)
        FROM users u
        """;

    public async Task<UserInfo> CreateUserAsync(string name, long? balanceNanos, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand("INSERT INTO users (name, balance_nanos, created_at) VALUES (@name, @balance, @created) RETURNING id;");
        var createdAt = DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("name", name);
        command.Parameters.Add(new NpgsqlParameter<long?>("balance", NpgsqlTypes.NpgsqlDbType.Bigint) { TypedValue = balanceNanos });
        command.Parameters.AddWithValue("created", createdAt.ToUnixTimeMilliseconds());
        try
        {
            var id = (long)(await command.ExecuteScalarAsync(cancellationToken))!;
            return new UserInfo(id, name, balanceNanos, 0, 0, createdAt, 0);
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            throw new DuplicateUserNameException(name);
        }
    }

    public async Task<UserInfo?> TopUpAsync(string name, long nanos, CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand(
            // One statement, so concurrent top-ups (and charges) never overwrite each other.
            "UPDATE users SET balance_nanos = COALESCE(balance_nanos, 0) + @amount WHERE name = @name RETURNING id;", connection);
        command.Parameters.AddWithValue("amount", nanos);
        command.Parameters.AddWithValue("name", name);
        if (await command.ExecuteScalarAsync(cancellationToken) is null)
        {
            return null;
        }

        // A user without a balance becomes prepaid: cached keys must learn it now, not when their cache time runs out.
        KeysChanged?.Invoke();
        return await FindUserAsync(connection, name, cancellationToken);
    }

    public async Task<UserInfo?> FindUserAsync(string name, CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        return await FindUserAsync(connection, name, cancellationToken);
    }

    public async Task<IReadOnlyList<UserInfo>> ListUsersAsync(CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand($"{UserInfoSelect} ORDER BY u.name;", connection);
        return await ReadUserInfosAsync(command, cancellationToken);
    }

    private static async Task<UserInfo?> FindUserAsync(NpgsqlConnection connection, string name, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand($"{UserInfoSelect} WHERE u.name = @name;", connection);
        command.Parameters.AddWithValue("name", name);
        var users = await ReadUserInfosAsync(command, cancellationToken);
        return users.Count == 0 ? null : users[0];
    }

    private static async Task<List<UserInfo>> ReadUserInfosAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        command.Parameters.AddWithValue("now", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        var users = new List<UserInfo>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            users.Add(new UserInfo(
                reader.GetInt64(0),
                reader.GetString(1),
                reader.IsDBNull(2) ? null : reader.GetInt64(2),
                reader.GetInt64(3),
                reader.GetInt64(6),
                DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(4)),
                (int)reader.GetInt64(5)));
        }

        return users;
    }
}
