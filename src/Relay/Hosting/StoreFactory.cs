using Relay.Configuration;
using Relay.Storage;
using Relay.Storage.Postgres;
using Relay.Storage.Sqlite;

namespace Relay.Hosting;

/// <summary>The one place that turns the <c>database</c> setting into a store: a SQLite file, or a PostgreSQL server
/// several instances share. <c>relay serve</c> and every command that reads or changes the state use it.</summary>
internal static class StoreFactory
{
    /// <summary>The store the config names, not yet opened or migrated (<c>relay doctor --store</c> looks before it touches).</summary>
    public static IRelayStore Create(RelayConfig config) =>
        config.DatabaseIsPostgres ? new PostgresRelayStore(config.Database) : new SqliteRelayStore(config.DatabasePath);

    /// <summary>The store the config names, with its schema migrated to this Relay's version.</summary>
    public static async Task<IRelayStore> OpenAsync(RelayConfig config, CancellationToken cancellationToken)
    {
        var store = Create(config);
        try
        {
            await store.InitializeAsync(cancellationToken);
            return store;
        }
        catch
        {
            await store.DisposeAsync();
            throw;
        }
    }
}
