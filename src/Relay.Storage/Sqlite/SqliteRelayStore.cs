using Microsoft.Data.Sqlite;

namespace Relay.Storage.Sqlite;

/// <summary>The default store: one SQLite file in WAL mode, shared safely by the server and the <c>relay</c> CLI.</summary>
public sealed partial class SqliteRelayStore : IRelayStore
{
    private readonly string _connectionString;
    private readonly string _path;

    /// <summary>Writers in this process take turns here, asynchronously. SQLite's own wait for a busy database sleeps
    /// the thread between retries (up to hundreds of ms under contention); with this it only arbitrates between
    /// processes sharing the file (other instances, the CLI).</summary>
    private readonly SemaphoreSlim _writeTurn = new(1, 1);

    public SqliteRelayStore(string path)
    {
        _path = Path.GetFullPath(path);
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = _path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();
    }

    public string Description => _path;

    public event Action? KeysChanged;

    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        var directory = Path.GetDirectoryName(_path);
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }

        await using var connection = await OpenAsync(cancellationToken);
        await ExecuteAsync(connection, "PRAGMA journal_mode=WAL;", cancellationToken);
        await SqliteSchema.MigrateAsync(connection, cancellationToken);
    }

    public async Task<SchemaVersion> GetSchemaVersionAsync(CancellationToken cancellationToken)
    {
        if (!File.Exists(_path))
        {
            return new SchemaVersion(0, SqliteSchema.Latest); // opening it would create it
        }

        await using var connection = await OpenAsync(cancellationToken);
        return new SchemaVersion(await SqliteSchema.ReadVersionAsync(connection, cancellationToken), SqliteSchema.Latest);
    }

    public async Task<bool> RevokeKeyAsync(string name, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "UPDATE api_keys SET revoked_at = $now WHERE name = $name AND revoked_at IS NULL;";
        command.Parameters.AddWithValue("$now", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$name", name);
        var revoked = await command.ExecuteNonQueryAsync(cancellationToken) > 0;
        KeysChanged?.Invoke();
        return revoked;
    }

    public async Task<int> CountActiveKeysAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM api_keys WHERE revoked_at IS NULL;";
        return Convert.ToInt32(await command.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture);
    }

    public async Task AppendUsageAsync(IReadOnlyList<UsageRecord> records, CancellationToken cancellationToken)
    {
        if (records.Count == 0)
        {
            return;
        }

        await _writeTurn.WaitAsync(cancellationToken);
        try
        {
            await AppendUsageLockedAsync(records, cancellationToken);
        }
        finally
        {
            _writeTurn.Release();
        }
    }

    private async Task AppendUsageLockedAsync(IReadOnlyList<UsageRecord> records, CancellationToken cancellationToken)
    {
        await using var connection = await OpenForWritingAsync(cancellationToken);
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = """
            INSERT INTO usage (ts, request_id, key_id, key_name, endpoint, requested_model, provider, upstream_model,
                               status, error_type, input_tokens, output_tokens, cache_creation_tokens, cache_read_tokens,
                               first_byte_ms, duration_ms, streamed, attempts, attempt_log, route_rule,
                               session_id, agent_id, parent_agent_id, request_class,
                               cache_write_1h_tokens, server_tool_uses, cost_nanos, user_id, user_name)
            SELECT $ts, $rid, $kid, $kname, $endpoint, $model, $provider, $upstream, $status, $error, $in, $out, $cw, $cr,
                   $ttfb, $duration, $streamed, $attempts, $attemptLog, $rule, $session, $agent, $parentAgent, $requestClass,
                   $cw1h, $serverTools, $cost, $uid, $uname
            WHERE NOT EXISTS (SELECT 1 FROM usage WHERE request_id = $rid);
            """;
        var p = command.Parameters;
        var ts = p.Add("$ts", SqliteType.Integer);
        var rid = p.Add("$rid", SqliteType.Text);
        var kid = p.Add("$kid", SqliteType.Integer);
        var kname = p.Add("$kname", SqliteType.Text);
        var endpoint = p.Add("$endpoint", SqliteType.Text);
        var model = p.Add("$model", SqliteType.Text);
        var provider = p.Add("$provider", SqliteType.Text);
        var upstream = p.Add("$upstream", SqliteType.Text);
        var status = p.Add("$status", SqliteType.Integer);
        var error = p.Add("$error", SqliteType.Text);
        var input = p.Add("$in", SqliteType.Integer);
        var output = p.Add("$out", SqliteType.Integer);
        var cacheWrite = p.Add("$cw", SqliteType.Integer);
        var cacheRead = p.Add("$cr", SqliteType.Integer);
        var ttfb = p.Add("$ttfb", SqliteType.Real);
        var duration = p.Add("$duration", SqliteType.Real);
        var streamed = p.Add("$streamed", SqliteType.Integer);
        var attempts = p.Add("$attempts", SqliteType.Integer);
        var attemptLog = p.Add("$attemptLog", SqliteType.Text);
        var rule = p.Add("$rule", SqliteType.Text);
        var session = p.Add("$session", SqliteType.Text);
        var agent = p.Add("$agent", SqliteType.Text);
        var parentAgent = p.Add("$parentAgent", SqliteType.Text);
        var requestClass = p.Add("$requestClass", SqliteType.Text);
        var cacheWrite1h = p.Add("$cw1h", SqliteType.Integer);
        var serverTools = p.Add("$serverTools", SqliteType.Integer);
        var cost = p.Add("$cost", SqliteType.Integer);
        var userId = p.Add("$uid", SqliteType.Integer);
        var userName = p.Add("$uname", SqliteType.Text);
        command.Prepare();

        // Only the records stored now are settled: one already stored (a batch written again) was charged then.
        var stored = new List<UsageRecord>(records.Count);
        foreach (var r in records)
        {
            ts.Value = r.Timestamp.ToUnixTimeMilliseconds();
            rid.Value = r.RequestId;
            kid.Value = (object?)r.KeyId ?? DBNull.Value;
            kname.Value = (object?)r.KeyName ?? DBNull.Value;
            endpoint.Value = r.Endpoint;
            model.Value = (object?)r.RequestedModel ?? DBNull.Value;
            provider.Value = (object?)r.Provider ?? DBNull.Value;
            upstream.Value = (object?)r.UpstreamModel ?? DBNull.Value;
            status.Value = r.Status;
            error.Value = (object?)r.ErrorType ?? DBNull.Value;
            input.Value = r.InputTokens;
            output.Value = r.OutputTokens;
            cacheWrite.Value = r.CacheCreationInputTokens;
            cacheRead.Value = r.CacheReadInputTokens;
            ttfb.Value = (object?)r.FirstByteMs ?? DBNull.Value;
            duration.Value = r.DurationMs;
            streamed.Value = r.Streamed ? 1 : 0;
            attempts.Value = r.Attempts;
            attemptLog.Value = (object?)r.AttemptLog ?? DBNull.Value;
            rule.Value = (object?)r.RouteRule ?? DBNull.Value;
            session.Value = (object?)r.SessionId ?? DBNull.Value;
            agent.Value = (object?)r.AgentId ?? DBNull.Value;
            parentAgent.Value = (object?)r.ParentAgentId ?? DBNull.Value;
            requestClass.Value = (object?)r.RequestClass ?? DBNull.Value;
            cacheWrite1h.Value = r.CacheCreation1hInputTokens;
            serverTools.Value = r.ServerToolUses;
            cost.Value = (object?)r.CostNanos ?? DBNull.Value;
            userId.Value = (object?)r.UserId ?? DBNull.Value;
            userName.Value = (object?)r.UserName ?? DBNull.Value;
            if (await command.ExecuteNonQueryAsync(cancellationToken) > 0)
            {
                stored.Add(r);
            }
        }

        if (stored.Count > 0)
        {
            await SettleAsync(connection, transaction, stored, cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
    }

    public async Task<UsageReport> GetUsageReportAsync(DateTimeOffset? since, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        var sinceMs = since?.ToUnixTimeMilliseconds() ?? long.MinValue;
        var byKey = await SumAsync(connection, "COALESCE(key_name, '(no key)')", sinceMs, cancellationToken);
        var byModel = await SumAsync(connection, "COALESCE(requested_model, '(none)')", sinceMs, cancellationToken);
        var total = (await SumAsync(connection, "'total'", sinceMs, cancellationToken)).SingleOrDefault()
            ?? new UsageTotals("total", 0, 0, 0, 0, 0, 0);
        return new UsageReport(byKey, byModel, total);
    }

    public async Task<IReadOnlyList<UsageRecord>> GetRecentUsageAsync(int limit, CancellationToken cancellationToken) =>
        [.. (await GetUsagePageAsync(UsageFilter.All, null, limit, cancellationToken)).Items.Select(e => e.Record)];

    public async Task<IReadOnlyList<SessionUsage>> GetUsageBySessionAsync(DateTimeOffset? since, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT COALESCE(session_id, $none) AS grp, MIN(ts), MAX(ts), COUNT(DISTINCT agent_id), COUNT(*),
                   SUM(CASE WHEN status >= 400 OR error_type IS NOT NULL THEN 1 ELSE 0 END),
                   SUM(input_tokens), SUM(output_tokens), SUM(cache_creation_tokens), SUM(cache_read_tokens)
            FROM usage WHERE ts >= $since GROUP BY grp ORDER BY MAX(ts) DESC, grp LIMIT $limit;
            """;
        command.Parameters.AddWithValue("$none", SessionUsage.NoSession);
        command.Parameters.AddWithValue("$since", since?.ToUnixTimeMilliseconds() ?? long.MinValue);
        command.Parameters.AddWithValue("$limit", limit);
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

    public ValueTask DisposeAsync()
    {
        // Pooled connections keep the file open (and WAL files around) until the pool is cleared.
        SqliteConnection.ClearAllPools();
        return ValueTask.CompletedTask;
    }

    private static async Task<List<UsageTotals>> SumAsync(SqliteConnection connection, string groupExpression, long sinceMs, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = $"""
            SELECT {groupExpression} AS grp, COUNT(*), SUM(CASE WHEN status >= 400 OR error_type IS NOT NULL THEN 1 ELSE 0 END),
                   SUM(input_tokens), SUM(output_tokens), SUM(cache_creation_tokens), SUM(cache_read_tokens)
            FROM usage WHERE ts >= $since GROUP BY grp ORDER BY SUM(input_tokens + output_tokens) DESC, grp;
            """;
        command.Parameters.AddWithValue("$since", sinceMs);
        var rows = new List<UsageTotals>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(new UsageTotals(reader.GetString(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3),
                reader.GetInt64(4), reader.GetInt64(5), reader.GetInt64(6)));
        }

        return rows;
    }

    private async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(cancellationToken);
        return connection;
    }

    /// <summary>A connection for a write transaction on the hot path. In WAL mode synchronous=NORMAL skips the fsync
    /// per commit: a crash of Relay loses nothing, a power cut at most the last commits. The setting belongs to the
    /// connection, and a pooled connection may be new, so it is set on every open (no I/O; microseconds).</summary>
    private async Task<SqliteConnection> OpenForWritingAsync(CancellationToken cancellationToken)
    {
        var connection = await OpenAsync(cancellationToken);
        try
        {
            await ExecuteAsync(connection, "PRAGMA synchronous=NORMAL;", cancellationToken);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    private static async Task ExecuteAsync(SqliteConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
