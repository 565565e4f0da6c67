using System.Threading.Channels;

namespace Relay.Hosting;

/// <summary>
/// State that every instance on the same database shares through the store (learned corrections, admin-set prices):
/// read once before Relay listens, so the first request already sees it, then re-read every <see cref="RefreshInterval"/>
/// for changes other instances made, and at once when the change feed says another instance changed it. A store that
/// cannot be read is logged and the state kept as it was.
/// </summary>
internal abstract class StoreRefreshedService : BackgroundService
{
    public static readonly TimeSpan RefreshInterval = TimeSpan.FromSeconds(30);

    private readonly StoreChanges _changes;
    private readonly StoreChange _kind;

    /// <summary>Asks the loop for a refresh now; one waiting is enough, however many changes arrive meanwhile.</summary>
    private readonly Channel<bool> _refreshSoon = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    protected StoreRefreshedService(TimeProvider time, StoreChanges changes, StoreChange kind)
    {
        Time = time;
        _changes = changes;
        _kind = kind;
        changes.Changed += (change, elsewhere) =>
        {
            if (elsewhere && change == kind)
            {
                _refreshSoon.Writer.TryWrite(true);
            }
        };
    }

    protected TimeProvider Time { get; }

    /// <summary>Tells the other instances (through the change feed) that this one changed the state in the store.</summary>
    protected void Announce() => _changes.MadeHere(_kind);

    /// <summary>Reads the state from the store, replacing what this instance holds.</summary>
    public abstract Task RefreshAsync(CancellationToken cancellationToken);

    /// <summary>Logs a failed read; the previous state stays in use.</summary>
    protected abstract void LogRefreshFailed(Exception exception);

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await TryRefreshAsync(cancellationToken);
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(RefreshInterval, Time);
        // Each wait stays pending across rounds until it completes, so neither a tick nor a request is lost.
        var tick = WaitAsync(timer, stoppingToken);
        var soon = _refreshSoon.Reader.WaitToReadAsync(stoppingToken).AsTask();
        while (!stoppingToken.IsCancellationRequested)
        {
            var first = await Task.WhenAny(tick, soon);
            if (stoppingToken.IsCancellationRequested)
            {
                return;
            }

            if (first == tick)
            {
                if (!await tick)
                {
                    return;
                }

                tick = WaitAsync(timer, stoppingToken);
            }
            else
            {
                _refreshSoon.Reader.TryRead(out _);
                soon = _refreshSoon.Reader.WaitToReadAsync(stoppingToken).AsTask();
            }

            await TryRefreshAsync(stoppingToken);
        }
    }

    private async Task TryRefreshAsync(CancellationToken cancellationToken)
    {
        try
        {
            await RefreshAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogRefreshFailed(ex);
        }
    }

    private static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken cancellationToken)
    {
        try
        {
            return await timer.WaitForNextTickAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
