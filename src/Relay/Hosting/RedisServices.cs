using Microsoft.Extensions.DependencyInjection.Extensions;
using Relay.Configuration;
using Relay.Storage;
using Relay.Storage.Accounts;
using Relay.Storage.Redis;
using StackExchange.Redis;

namespace Relay.Hosting;

/// <summary>With <c>redis</c> set: one shared connection, admission through <see cref="RedisAdmissionStore"/> over the
/// store, and the change feed between instances. Without it nothing changes.</summary>
internal static class RedisServices
{
    public static void AddRedis(this IServiceCollection services, RelayConfig config, IRelayStore store)
    {
        if (config.Redis is null)
        {
            return;
        }

        var connection = RedisConnection.Parse(config.Redis, config.RedisPrefix);
        services.AddSingleton(connection);
        // Connects on first use (the change feed starts it); the container disposes it when the host is disposed.
        services.AddSingleton<IConnectionMultiplexer>(_ => ConnectionMultiplexer.Connect(connection.Options));
        services.Replace(ServiceDescriptor.Singleton<IAdmissionStore>(provider =>
            new RedisAdmissionStore(provider.GetRequiredService<IConnectionMultiplexer>(), connection.Prefix, store)));
        services.AddHostedService<RedisChangeFeed>();
    }
}
