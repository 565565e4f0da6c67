using System.Reflection;
using System.Runtime.ExceptionServices;
using Relay.Storage;
using Relay.Storage.Accounts;
using Relay.Storage.Redis;
using StackExchange.Redis;

namespace Relay.Tests.Infrastructure;

/// <summary>A store whose admission goes through <see cref="RedisAdmissionStore"/> on a Redis of its own, as
/// <c>relay serve</c> wires it when <c>redis</c> is set; everything else is the SQL store's. Disposing it stops Redis.</summary>
public class RedisAdmission : DispatchProxy
{
    private IRelayStore _store = null!;
    private IAdmissionStore _admission = null!;
    private IAsyncDisposable[] _owned = [];

    /// <summary>A new Redis server and <paramref name="store"/> with Redis admission over it.</summary>
    public static async Task<IRelayStore> OverAsync(IRelayStore store)
    {
        var server = await RedisServer.StartNewAsync();
        var redis = await ConnectAsync(server.Url);
        return Over(store, new RedisAdmissionStore(redis, RedisConnection.DefaultPrefix, store), redis, server);
    }

    public static IRelayStore Over(IRelayStore store, IAdmissionStore admission, params IAsyncDisposable[] owned)
    {
        var proxy = DispatchProxy.Create<IRelayStore, RedisAdmission>();
        var self = (RedisAdmission)(object)proxy;
        (self._store, self._admission, self._owned) = (store, admission, owned);
        return proxy;
    }

    public static async Task<ConnectionMultiplexer> ConnectAsync(string url) =>
        await ConnectionMultiplexer.ConnectAsync(RedisConnection.Parse(url).Options);

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        ArgumentNullException.ThrowIfNull(targetMethod);
        if (targetMethod.Name == nameof(IAsyncDisposable.DisposeAsync))
        {
            return DisposeAllAsync();
        }

        try
        {
            return targetMethod.Invoke(targetMethod.DeclaringType == typeof(IAdmissionStore) ? _admission : _store, args);
        }
        catch (TargetInvocationException ex) when (ex.InnerException is not null)
        {
            ExceptionDispatchInfo.Throw(ex.InnerException);
            throw;
        }
    }

    private async ValueTask DisposeAllAsync()
    {
        await _store.DisposeAsync();
        foreach (var owned in _owned)
        {
            await owned.DisposeAsync();
        }
    }
}
