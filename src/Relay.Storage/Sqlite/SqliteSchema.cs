using Microsoft.Data.Sqlite;

namespace Relay.Storage.Sqlite;

/// <summary>The SQLite schema as an ordered list of migrations, tracked in <c>PRAGMA user_version</c>.</summary>
internal static class SqliteSchema
{
    private static readonly string[] Migrations =
    [
        """
        CREATE TABLE api_keys (
            id             INTEGER PRIMARY KEY,
            name           TEXT    NOT NULL,
            key_hash       BLOB    NOT NULL UNIQUE,
            display_prefix TEXT    NOT NULL,
            created_at     INTEGER NOT NULL,
            revoked_at     INTEGER
        );
        CREATE UNIQUE INDEX api_keys_active_name ON api_keys (name) WHERE revoked_at IS NULL;
        CREATE TABLE usage (
            id                    INTEGER PRIMARY KEY,
            ts                    INTEGER NOT NULL,
            request_id            TEXT    NOT NULL,
            key_id                INTEGER,
            key_name              TEXT,
            endpoint              TEXT    NOT NULL,
            requested_model       TEXT,
            provider              TEXT,
            upstream_model        TEXT,
            status                INTEGER NOT NULL,
            error_type            TEXT,
            input_tokens          INTEGER NOT NULL DEFAULT 0,
            output_tokens         INTEGER NOT NULL DEFAULT 0,
            cache_creation_tokens INTEGER NOT NULL DEFAULT 0,
            cache_read_tokens     INTEGER NOT NULL DEFAULT 0,
            first_byte_ms         REAL,
            duration_ms           REAL    NOT NULL,
            streamed              INTEGER NOT NULL
        );
        CREATE INDEX usage_ts ON usage (ts);
        CREATE INDEX usage_key_ts ON usage (key_id, ts);
        """,
        """
        ALTER TABLE usage ADD COLUMN attempts INTEGER NOT NULL DEFAULT 1;
        ALTER TABLE usage ADD COLUMN attempt_log TEXT;
        ALTER TABLE usage ADD COLUMN route_rule TEXT;
        """,
        """
        CREATE TABLE provider_corrections (
            provider       TEXT    NOT NULL,
            upstream_model TEXT    NOT NULL,
            kind           TEXT    NOT NULL,
            name           TEXT    NOT NULL,
            value          INTEGER NOT NULL,
            evidence       TEXT,
            learned_at     INTEGER NOT NULL,
            PRIMARY KEY (provider, upstream_model, kind, name)
        );
        """,
        """
        ALTER TABLE usage ADD COLUMN session_id TEXT;
        ALTER TABLE usage ADD COLUMN agent_id TEXT;
        ALTER TABLE usage ADD COLUMN parent_agent_id TEXT;
        ALTER TABLE usage ADD COLUMN request_class TEXT;
        """,
        // Accounts: users with balances, keys with limits, the shared limits state, prices and cost. Money is in
        // nanodollars (Usd), so sums are exact integers.
        """
        CREATE TABLE users (
            id            INTEGER PRIMARY KEY,
            name          TEXT    NOT NULL UNIQUE,
            balance_nanos INTEGER,
            spent_nanos   INTEGER NOT NULL DEFAULT 0,
            created_at    INTEGER NOT NULL
        );
        ALTER TABLE api_keys ADD COLUMN user_id INTEGER REFERENCES users (id);
        ALTER TABLE api_keys ADD COLUMN disabled_at INTEGER;
        ALTER TABLE api_keys ADD COLUMN expires_at INTEGER;
        ALTER TABLE api_keys ADD COLUMN models TEXT;
        ALTER TABLE api_keys ADD COLUMN allowed_ips TEXT;
        ALTER TABLE api_keys ADD COLUMN rpm INTEGER;
        ALTER TABLE api_keys ADD COLUMN tpm INTEGER;
        ALTER TABLE api_keys ADD COLUMN concurrency INTEGER;
        ALTER TABLE api_keys ADD COLUMN budget_nanos INTEGER;
        ALTER TABLE api_keys ADD COLUMN budget_period TEXT NOT NULL DEFAULT 'total';
        ALTER TABLE api_keys ADD COLUMN spent_nanos INTEGER NOT NULL DEFAULT 0;
        CREATE TABLE key_spend (
            key_id       INTEGER NOT NULL,
            period       TEXT    NOT NULL,
            period_start INTEGER NOT NULL,
            spent_nanos  INTEGER NOT NULL,
            PRIMARY KEY (key_id, period, period_start)
        ) WITHOUT ROWID;
        CREATE TABLE rate_buckets (
            key_id     INTEGER NOT NULL,
            kind       TEXT    NOT NULL,
            level      REAL    NOT NULL,
            updated_at INTEGER NOT NULL,
            PRIMARY KEY (key_id, kind)
        ) WITHOUT ROWID;
        CREATE TABLE reservations (
            id               INTEGER PRIMARY KEY,
            key_id           INTEGER NOT NULL,
            user_id          INTEGER,
            reserved_nanos   INTEGER NOT NULL,
            estimated_tokens INTEGER NOT NULL,
            holds_slot       INTEGER NOT NULL,
            expires_at       INTEGER NOT NULL
        );
        CREATE INDEX reservations_key ON reservations (key_id, expires_at);
        CREATE INDEX reservations_user ON reservations (user_id, expires_at);
        CREATE INDEX reservations_expires ON reservations (expires_at);
        CREATE TABLE prices (
            model      TEXT    PRIMARY KEY,
            rates      TEXT    NOT NULL,
            updated_at INTEGER NOT NULL
        );
        ALTER TABLE usage ADD COLUMN user_id INTEGER;
        ALTER TABLE usage ADD COLUMN user_name TEXT;
        ALTER TABLE usage ADD COLUMN cache_write_1h_tokens INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE usage ADD COLUMN server_tool_uses INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE usage ADD COLUMN cost_nanos INTEGER;
        CREATE INDEX usage_user_ts ON usage (user_id, ts);
        """,
        // A batch written again (a spool replayed after a crash before its progress was noted) must not store or
        // charge a record twice: appends skip a request id already stored. Not UNIQUE, so a database that already
        // holds a repeat from before still migrates.
        """
        CREATE INDEX usage_request_id ON usage (request_id);
        """,
    ];

    /// <summary>The version a fully migrated file has.</summary>
    public static int Latest => Migrations.Length;

    public static async Task<int> ReadVersionAsync(SqliteConnection connection, CancellationToken cancellationToken)
    {
        await using var read = connection.CreateCommand();
        read.CommandText = "PRAGMA user_version;";
        return Convert.ToInt32(await read.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture);
    }

    public static async Task MigrateAsync(SqliteConnection connection, CancellationToken cancellationToken)
    {
        // BEGIN IMMEDIATE takes the write lock first, so two processes starting together cannot both migrate.
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(System.Data.IsolationLevel.Serializable, cancellationToken);
        await using var read = connection.CreateCommand();
        read.Transaction = transaction;
        read.CommandText = "PRAGMA user_version;";
        var version = Convert.ToInt32(await read.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture);
        for (var i = version; i < Migrations.Length; i++)
        {
            await using var migrate = connection.CreateCommand();
            migrate.Transaction = transaction;
            migrate.CommandText = Migrations[i] + $"\nPRAGMA user_version = {i + 1};";
            await migrate.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
    }
}
