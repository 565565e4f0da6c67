namespace Relay.Hosting;

/// <summary>
/// State that every instance on the same database shares through the store (learned corrections, admin-set prices):
/// read once before Relay listens, so the first request already sees it, then re-read every <see cref="RefreshInterval"/>
/// for changes other instances made. A store that cannot be read is logged and the state kept as it was.
/// </summary>
internal abstract class StoreRefreshedService(TimeProvider time) : BackgroundService
{
    public static readonly TimeSpan RefreshInterval = TimeSpan.FromSeconds(30);

    protected TimeProvider Time { get; } = time;

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
        while (await WaitAsync(timer, stoppingToken))
        {
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
