using Npgsql;

namespace Relay.Storage.Postgres;

/// <summary>
/// The PostgreSQL schema as an ordered list of migrations; <c>relay_schema_version</c> holds one row per migration
/// applied. Migrations run in one transaction under an advisory lock, so instances starting together apply each once.
/// </summary>
/// <remarks>
/// <para>Instants are <c>bigint</c> Unix milliseconds, as in the SQLite store: the admission rules compute in
/// milliseconds, values round-trip exactly, and no session time zone can change what is read. Money is <c>bigint</c>
/// nanodollars (<see cref="Accounts.Usd"/>), so sums are exact.</para>
/// <para>Names, models and providers are <c>COLLATE "C"</c>: byte order, so lists and reports sort as in the other
/// stores, whatever the database's locale.</para>
/// </remarks>
internal static class PostgresSchema
{
    /// <summary>The advisory lock key migrations hold (any constant shared by every Relay version: "RELAYMIG").</summary>
    private const long MigrationLock = 0x52454C41594D4947;

    private static readonly string[] Migrations =
    [
        """
        CREATE TABLE users (
            id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            name          text COLLATE "C" NOT NULL UNIQUE,
            balance_nanos bigint,
            spent_nanos   bigint NOT NULL DEFAULT 0,
            created_at    bigint NOT NULL
        );
        CREATE TABLE api_keys (
            id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            name           text COLLATE "C" NOT NULL,
            key_hash       bytea  NOT NULL UNIQUE,
            display_prefix text   NOT NULL,
            created_at     bigint NOT NULL,
            revoked_at     bigint,
            user_id        bigint REFERENCES users (id),
            disabled_at    bigint,
            expires_at     bigint,
            models         text[],
            allowed_ips    text[],
            rpm            integer,
            tpm            integer,
            concurrency    integer,
            budget_nanos   bigint,
            budget_period  text   NOT NULL DEFAULT 'total',
            spent_nanos    bigint NOT NULL DEFAULT 0
        );
        CREATE UNIQUE INDEX api_keys_active_name ON api_keys (name) WHERE revoked_at IS NULL;
        CREATE INDEX api_keys_user ON api_keys (user_id) WHERE revoked_at IS NULL;
        CREATE TABLE key_spend (
            key_id       bigint NOT NULL,
            period       text   NOT NULL,
            period_start bigint NOT NULL,
            spent_nanos  bigint NOT NULL,
            PRIMARY KEY (key_id, period, period_start)
        );
        CREATE INDEX key_spend_start ON key_spend (period_start);
        CREATE TABLE rate_buckets (
            key_id     bigint NOT NULL,
            kind       text   NOT NULL,
            level      double precision NOT NULL,
            updated_at bigint NOT NULL,
            PRIMARY KEY (key_id, kind)
        );
        CREATE TABLE reservations (
            id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            key_id           bigint  NOT NULL,
            user_id          bigint,
            reserved_nanos   bigint  NOT NULL,
            estimated_tokens bigint  NOT NULL,
            holds_slot       boolean NOT NULL,
            expires_at       bigint  NOT NULL
        );
        CREATE INDEX reservations_key ON reservations (key_id, expires_at);
        CREATE INDEX reservations_user ON reservations (user_id, expires_at) WHERE user_id IS NOT NULL;
        CREATE TABLE prices (
            model      text COLLATE "C" PRIMARY KEY,
            rates      jsonb  NOT NULL,
            updated_at bigint NOT NULL
        );
        CREATE TABLE provider_corrections (
            provider       text COLLATE "C" NOT NULL,
            upstream_model text COLLATE "C" NOT NULL,
            kind           text COLLATE "C" NOT NULL,
            name           text COLLATE "C" NOT NULL,
            value          bigint NOT NULL,
            evidence       text,
            learned_at     bigint NOT NULL,
            PRIMARY KEY (provider, upstream_model, kind, name)
        );
        CREATE TABLE usage (
            id                    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            ts                    bigint  NOT NULL,
            request_id            text    NOT NULL UNIQUE,
            key_id                bigint,
            key_name              text COLLATE "C",
            user_id               bigint,
            user_name             text COLLATE "C",
            endpoint              text    NOT NULL,
            requested_model       text COLLATE "C",
            provider              text COLLATE "C",
            upstream_model        text,
            status                integer NOT NULL,
            error_type            text,
            input_tokens          bigint  NOT NULL DEFAULT 0,
            output_tokens         bigint  NOT NULL DEFAULT 0,
            cache_creation_tokens bigint  NOT NULL DEFAULT 0,
            cache_read_tokens     bigint  NOT NULL DEFAULT 0,
            cache_write_1h_tokens bigint  NOT NULL DEFAULT 0,
            server_tool_uses      bigint  NOT NULL DEFAULT 0,
            cost_nanos            bigint,
            first_byte_ms         double precision,
            duration_ms           double precision NOT NULL,
            streamed              boolean NOT NULL,
            attempts              integer NOT NULL DEFAULT 1,
            attempt_log           text,
            route_rule            text,
            session_id            text COLLATE "C",
            agent_id              text,
            parent_agent_id       text,
            request_class         text
        );
        CREATE INDEX usage_ts ON usage (ts);
        CREATE INDEX usage_key_ts ON usage (key_id, ts);
        CREATE INDEX usage_user_ts ON usage (user_id, ts);
        """,
    ];

    /// <summary>The version a fully migrated database has.</summary>
    public static int Latest => Migrations.Length;

    public static async Task MigrateAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        // Held until commit: a second instance waits here, then finds the migrations applied. DDL is transactional in
        // PostgreSQL, so a failed migration leaves the previous version whole.
        await using (var setUp = new NpgsqlCommand($"""
            SELECT pg_advisory_xact_lock({MigrationLock});
            CREATE TABLE IF NOT EXISTS relay_schema_version (
                version    integer PRIMARY KEY,
                applied_at bigint NOT NULL
            );
            """, connection, transaction))
        {
            await setUp.ExecuteNonQueryAsync(cancellationToken);
        }

        var version = await ReadVersionAsync(connection, transaction, cancellationToken);
        for (var i = version; i < Migrations.Length; i++)
        {
            await using var migrate = new NpgsqlCommand(Migrations[i] + "\nINSERT INTO relay_schema_version (version, applied_at) VALUES (@version, @now);",
                connection, transaction);
            migrate.Parameters.AddWithValue("version", i + 1);
            migrate.Parameters.AddWithValue("now", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
            await migrate.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>The version applied; 0 when nothing is (the version table does not exist yet).</summary>
    public static async Task<int> ReadVersionAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await ReadVersionAsync(connection, null, cancellationToken);
    }

    private static async Task<int> ReadVersionAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT to_regclass('relay_schema_version') IS NOT NULL;", connection, transaction);
        if (await command.ExecuteScalarAsync(cancellationToken) is not true)
        {
            return 0;
        }

        command.CommandText = "SELECT COALESCE(MAX(version), 0) FROM relay_schema_version;";
        return Convert.ToInt32(await command.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture);
    }
}
