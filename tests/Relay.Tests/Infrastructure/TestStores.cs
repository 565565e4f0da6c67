using Relay.Storage;
using Relay.Storage.Memory;
using Relay.Storage.Postgres;
using Relay.Storage.Sqlite;

namespace Relay.Tests.Infrastructure;

/// <summary>
/// Opens the store kinds the contract tests run over: a real SQLite file, memory, and a real PostgreSQL database (a
/// fresh one per test, on the run's <see cref="SharedPostgres"/> server). Within one test, every store of a kind
/// opened here shares its data, like two instances on one file or database (memory excepted: each is its own).
/// </summary>
public sealed class TestStores(TempDirectory directory, SharedPostgres postgres)
{
    private string? _database;

    public static TheoryData<string> Kinds => ["sqlite", "memory", "postgres"];

    /// <summary>A store of <paramref name="kind"/>, migrated.</summary>
    public async Task<IRelayStore> OpenAsync(string kind)
    {
        IRelayStore store = kind switch
        {
            "sqlite" => new SqliteRelayStore(directory.File("relay.db")),
            "memory" => new MemoryRelayStore(),
            "postgres" => new PostgresRelayStore(await DatabaseAsync()),
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "not a store kind"),
        };
        await store.InitializeAsync(TestContext.Current.CancellationToken);
        return store;
    }

    /// <summary>This test's PostgreSQL database, as an Npgsql connection string; created on first use.</summary>
    public async Task<string> DatabaseAsync() => _database ??= await postgres.CreateDatabaseAsync();
}
