using Npgsql;

namespace Relay.Storage.Postgres;

/// <summary>
/// The shared store: one PostgreSQL database that several Relay instances (and the <c>relay</c> CLI) use at once.
/// Every admission and every settlement is one transaction that locks the rows it changes, so instances agree.
/// </summary>
public sealed partial class PostgresRelayStore : IRelayStore
{
    /// <summary>Deadlocks and serialization failures roll the whole transaction back; it is then safe to run again.</summary>
    private const int TransactionAttempts = 5;

    /// <summary>Seconds an idle pooled connection waits before Npgsql checks it with an empty query. A restarted server
    /// leaves every pooled connection dead, and Npgsql would hand each out once, to fail; checked, they are dropped
    /// before a request meets them.</summary>
    private const int IdleCheckSeconds = 5;

    private readonly NpgsqlDataSource _dataSource;

    /// <summary>For admission and release: commits that do not wait for the disk. They hold the key's row lock, so
    /// every request of a key waits for the one before; waiting for a flush there cut a busy key to about a hundred
    /// requests a second. What a crash of the server (not of Relay) can forget is the last moment's holds and bucket
    /// levels, which lapse anyway; spend is settled with the usage records, which are durable.</summary>
    private readonly NpgsqlDataSource _limitsDataSource;

    public PostgresRelayStore(PostgresConnection connection)
    {
        Description = connection.Description;
        var builder = new NpgsqlDataSourceBuilder(connection.ConnectionString);
        if (builder.ConnectionStringBuilder.KeepAlive == 0)
        {
            builder.ConnectionStringBuilder.KeepAlive = IdleCheckSeconds;
        }

        _dataSource = builder.Build();
        var options = builder.ConnectionStringBuilder.Options;
        builder.ConnectionStringBuilder.Options = $"{options} -c synchronous_commit=off".TrimStart();
        _limitsDataSource = builder.Build();
    }

    /// <summary>Opens the database a URL or an Npgsql connection string names.</summary>
    /// <exception cref="FormatException">The text cannot be read.</exception>
    public PostgresRelayStore(string database)
        : this(PostgresConnection.Parse(database))
    {
    }

    public string Description { get; }

    public event Action? KeysChanged;

    public Task InitializeAsync(CancellationToken cancellationToken) => PostgresSchema.MigrateAsync(_dataSource, cancellationToken);

    public async Task<SchemaVersion> GetSchemaVersionAsync(CancellationToken cancellationToken) =>
        new(await PostgresSchema.ReadVersionAsync(_dataSource, cancellationToken), PostgresSchema.Latest);

    public async Task<bool> RevokeKeyAsync(string name, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand("UPDATE api_keys SET revoked_at = @now WHERE name = @name AND revoked_at IS NULL;");
        command.Parameters.AddWithValue("now", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("name", name);
        var revoked = await command.ExecuteNonQueryAsync(cancellationToken) > 0;
        KeysChanged?.Invoke();
        return revoked;
    }

    public async Task<int> CountActiveKeysAsync(CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand("SELECT COUNT(*) FROM api_keys WHERE revoked_at IS NULL;");
        return (int)(long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    public async Task<UsageReport> GetUsageReportAsync(DateTimeOffset? since, CancellationToken cancellationToken)
    {
        var sinceMs = since?.ToUnixTimeMilliseconds() ?? long.MinValue;
        var byKey = await SumAsync("COALESCE(key_name, '(no key)')", sinceMs, cancellationToken);
        var byModel = await SumAsync("COALESCE(requested_model, '(none)')", sinceMs, cancellationToken);
        var total = (await SumAsync("'total'::text", sinceMs, cancellationToken)).SingleOrDefault()
            ?? new UsageTotals("total", 0, 0, 0, 0, 0, 0);
        return new UsageReport(byKey, byModel, total);
    }

    public async Task<IReadOnlyList<UsageRecord>> GetRecentUsageAsync(int limit, CancellationToken cancellationToken) =>
        [.. (await GetUsagePageAsync(UsageFilter.All, null, limit, cancellationToken)).Items.Select(e => e.Record)];

    public async Task<IReadOnlyList<SessionUsage>> GetUsageBySessionAsync(DateTimeOffset? since, int limit, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand("""
            SELECT COALESCE(session_id, @none) AS grp, MIN(ts), MAX(ts), COUNT(DISTINCT agent_id), COUNT(*),
                   SUM(CASE WHEN status >= 400 OR error_type IS NOT NULL THEN 1 ELSE 0 END)::bigint,
                   SUM(input_tokens)::bigint, SUM(output_tokens)::bigint, SUM(cache_creation_tokens)::bigint, SUM(cache_read_tokens)::bigint
            FROM usage WHERE ts >= @since GROUP BY grp ORDER BY MAX(ts) DESC, grp LIMIT @limit;
            """);
        command.Parameters.AddWithValue("none", SessionUsage.NoSession);
        command.Parameters.AddWithValue("since", since?.ToUnixTimeMilliseconds() ?? long.MinValue);
        command.Parameters.AddWithValue("limit", limit);
        var rows = new List<SessionUsage>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(new SessionUsage(
                DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(1)),
                DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(2)),
                reader.GetInt64(3),
                new UsageTotals(reader.GetString(0), reader.GetInt64(4), reader.GetInt64(5), reader.GetInt64(6), reader.GetInt64(7),
                    reader.GetInt64(8), reader.GetInt64(9))));
        }

        return rows;
    }

    public async ValueTask DisposeAsync()
    {
        await _dataSource.DisposeAsync();
        await _limitsDataSource.DisposeAsync();
    }

    private async Task<List<UsageTotals>> SumAsync(string groupExpression, long sinceMs, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand($"""
            SELECT {groupExpression} AS grp, COUNT(*), SUM(CASE WHEN status >= 400 OR error_type IS NOT NULL THEN 1 ELSE 0 END)::bigint,
                   SUM(input_tokens)::bigint, SUM(output_tokens)::bigint, SUM(cache_creation_tokens)::bigint, SUM(cache_read_tokens)::bigint
            FROM usage WHERE ts >= @since GROUP BY grp ORDER BY SUM(input_tokens + output_tokens) DESC, grp;
            """);
        command.Parameters.AddWithValue("since", sinceMs);
        var rows = new List<UsageTotals>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(new UsageTotals(reader.GetString(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3),
                reader.GetInt64(4), reader.GetInt64(5), reader.GetInt64(6)));
        }

        return rows;
    }

    /// <summary>Runs <paramref name="work"/> in a transaction of its own, again from the start when PostgreSQL rolled
    /// it back for a deadlock or a serialization failure (nothing of it was kept).</summary>
    private Task<T> InTransactionAsync<T>(Func<NpgsqlConnection, NpgsqlTransaction, Task<T>> work, CancellationToken cancellationToken) =>
        InTransactionAsync(_dataSource, work, cancellationToken);

    private async Task<T> InTransactionAsync<T>(NpgsqlDataSource dataSource, Func<NpgsqlConnection, NpgsqlTransaction, Task<T>> work,
        CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
                await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
                var result = await work(connection, transaction);
                await transaction.CommitAsync(cancellationToken);
                return result;
            }
            catch (PostgresException ex) when (attempt < TransactionAttempts && ex.SqlState is PostgresErrorCodes.DeadlockDetected or PostgresErrorCodes.SerializationFailure)
            {
                // A short, growing, jittered pause, so the transactions that collided do not collide again.
                await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(5, 20) * attempt), cancellationToken);
            }
            catch (Exception ex) when (attempt < TransactionAttempts && IsConnectionLost(ex))
            {
                // The server went away (a restart, a failover) since this pooled connection was last used: the others
                // in the pool are dead too. Drop them and run again on a fresh one. A connection lost during COMMIT
                // leaves it unknown whether the transaction committed: usage records are written once whatever
                // happens (request ids are unique), and an admission run twice only holds a second reservation
                // until it lapses, which can refuse but never overspend.
                dataSource.Clear();
            }
        }
    }

    /// <summary>The server ended the session (shutdown, terminated backend) or the socket broke.</summary>
    private static bool IsConnectionLost(Exception exception) => exception switch
    {
        PostgresException postgres => postgres.SqlState is PostgresErrorCodes.AdminShutdown or PostgresErrorCodes.CrashShutdown
            or PostgresErrorCodes.CannotConnectNow,
        NpgsqlException npgsql => npgsql.InnerException is IOException or System.Net.Sockets.SocketException || npgsql.IsTransient,
        _ => false,
    };
}
