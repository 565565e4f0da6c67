using Relay.Storage.Redis;
using StackExchange.Redis;

namespace Relay.Hosting;

/// <summary>
/// Carries store changes between instances over Redis pub/sub: each change this instance makes is published on
/// <c>PREFIX + "changes"</c> (the kind and this instance's id), and each change another instance or the CLI published is
/// raised in <see cref="StoreChanges"/> here, so key caches drop at once and prices and corrections are re-read.
/// </summary>
/// <remarks>Only an acceleration: while pub/sub is down everything works with the cache and refresh times of an
/// instance without Redis (5 s for keys, 30 s for prices and corrections); that is logged once, and when the connection
/// is back every kind is re-read, for the changes missed meanwhile.</remarks>
internal sealed class RedisChangeFeed(IConnectionMultiplexer redis, RedisConnection connection, StoreChanges changes, TimeProvider time,
    ILogger<RedisChangeFeed> logger) : IHostedService
{
    private static readonly TimeSpan SubscribeRetry = TimeSpan.FromSeconds(5);

    private readonly string _instance = Guid.NewGuid().ToString("N");
    private readonly RedisChannel _channel = RedisChangeMessages.Channel(connection.Prefix);
    private readonly CancellationTokenSource _stopping = new();
    private int _down;
    private Task _subscribing = Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        changes.Changed += OnChanged;
        redis.ConnectionFailed += OnConnectionFailed;
        redis.ConnectionRestored += OnConnectionRestored;
        _subscribing = SubscribeAsync(_stopping.Token);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        changes.Changed -= OnChanged;
        redis.ConnectionFailed -= OnConnectionFailed;
        redis.ConnectionRestored -= OnConnectionRestored;
        await _stopping.CancelAsync();
        await _subscribing;
        _stopping.Dispose();
    }

    /// <summary>Subscribes, retrying while Redis is unreachable; StackExchange.Redis then renews the subscription after
    /// every reconnection by itself.</summary>
    private async Task SubscribeAsync(CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                await redis.GetSubscriber().SubscribeAsync(_channel, OnMessage);
                return;
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException)
            {
                FeedDown(ex);
            }

            try
            {
                await Task.Delay(SubscribeRetry, time, stopping);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private void OnChanged(StoreChange change, bool elsewhere)
    {
        if (!elsewhere)
        {
            _ = PublishAsync(change);
        }
    }

    private async Task PublishAsync(StoreChange change)
    {
        try
        {
            await redis.GetSubscriber().PublishAsync(_channel, RedisChangeMessages.Write(change, _instance));
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            FeedDown(ex);
        }
    }

    private void OnMessage(RedisChannel channel, RedisValue message)
    {
        if (RedisChangeMessages.Read(message) is ({ } change, var instance) && instance != _instance)
        {
            changes.MadeElsewhere(change);
        }
    }

    private void OnConnectionFailed(object? sender, ConnectionFailedEventArgs args) => FeedDown(args.Exception);

    private void OnConnectionRestored(object? sender, ConnectionFailedEventArgs args)
    {
        if (Interlocked.Exchange(ref _down, 0) == 1)
        {
            Log.ChangeFeedRestored(logger, connection.Description);
            // Whatever other instances changed meanwhile was not heard: re-read it all.
            foreach (var change in Enum.GetValues<StoreChange>())
            {
                changes.MadeElsewhere(change);
            }
        }
    }

    private void FeedDown(Exception? exception)
    {
        if (Interlocked.Exchange(ref _down, 1) == 0)
        {
            Log.ChangeFeedDown(logger, connection.Description, exception?.Message ?? "connection lost");
        }
    }
}
