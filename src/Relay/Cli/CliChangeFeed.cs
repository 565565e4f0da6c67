using Relay.Configuration;
using Relay.Hosting;
using Relay.Storage;
using Relay.Storage.Redis;
using StackExchange.Redis;

namespace Relay.Cli;

/// <summary>
/// With <c>redis</c> configured, a key or user the CLI changes is announced on the change feed, so running instances
/// drop their key caches at once instead of within their 5 s cache time (a revocation reaches them within a second).
/// </summary>
/// <remarks>Announced synchronously from the store's event, right after the change is written, so the command does not
/// end before it is sent. If Redis cannot be reached the change stands; the instances then apply it within 5 s.</remarks>
internal static class CliChangeFeed
{
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(3);

    /// <summary>The store, as <see cref="CliOptions.OpenStoreAsync"/> opens it, for a command that changes keys or users.</summary>
    public static async Task<IRelayStore> OpenStoreAsync(RelayConfig config, CancellationToken cancellationToken)
    {
        var store = await CliOptions.OpenStoreAsync(config, cancellationToken);
        if (config.Redis is { } redis)
        {
            var connection = RedisConnection.Parse(redis, config.RedisPrefix);
            store.KeysChanged += () => Announce(connection, StoreChange.Keys);
        }

        return store;
    }

    private static void Announce(RedisConnection connection, StoreChange change)
    {
        try
        {
            var options = connection.Options.Clone();
            options.ConnectTimeout = (int)ConnectTimeout.TotalMilliseconds;
            using var redis = ConnectionMultiplexer.Connect(options);
            redis.GetSubscriber().Publish(RedisChangeMessages.Channel(connection.Prefix), RedisChangeMessages.Write(change, "cli-" + Guid.NewGuid().ToString("N")));
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            Console.Error.WriteLine($"relay: the change is saved, but running instances could not be told at once ({connection.Description}: {ex.Message}); they apply it within 5 s.");
        }
    }
}
