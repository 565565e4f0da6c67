using Relay.Storage;

namespace Relay.Usage;

/// <summary>Writes queued usage records to the store in batches; on shutdown it writes every record left.</summary>
/// <remarks>A record carries its request's settlement (cost charged, reservation freed), so while Relay runs a failed
/// write is retried until it succeeds; only a shutdown that outlasts <see cref="FlushTimeout"/> gives records up.</remarks>
internal sealed class UsageWriter(UsageQueue queue, IUsageStore store, ILogger<UsageWriter> logger) : IHostedService, IDisposable
{
    private const int MaxBatch = 512;
    private static readonly TimeSpan BatchWindow = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan FlushTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan FirstRetryDelay = TimeSpan.FromMilliseconds(20);
    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(5);

    /// <summary>A store that stays down fails every few seconds; one warning per this long is enough to see it.</summary>
    private static readonly TimeSpan RetryLogInterval = TimeSpan.FromSeconds(30);

    /// <summary>Cancelled when shutdown's flush has run out of time: stop retrying.</summary>
    private readonly CancellationTokenSource _giveUp = new();
    private Task? _loop;

    /// <summary>Records taken off the queue and not yet written.</summary>
    private int _inHand;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _loop = Task.Run(RunAsync, CancellationToken.None);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        // The web server has stopped by now (it stops first), so no request will queue another record.
        queue.Complete();
        if (_loop is null)
        {
            return;
        }

        // Not bounded by the host's stop token: that may be spent by the requests that drained first, and the
        // records they queued are the ones that matter most now. A store that fails or hangs still cannot hold the
        // exit forever: after FlushTimeout the loop stops retrying (and says what it gave up), and a store call that
        // never returns is left behind a moment later.
        _giveUp.CancelAfter(FlushTimeout);
        try
        {
            await _loop.WaitAsync(FlushTimeout + TimeSpan.FromSeconds(1), CancellationToken.None);
        }
        catch (TimeoutException)
        {
            Log.UsageWriteFailed(logger, Volatile.Read(ref _inHand) + queue.Reader.Count,
                new TimeoutException($"The store did not take the last usage records within {FlushTimeout.TotalSeconds} s."));
        }
    }

    public void Dispose() => _giveUp.Dispose();

    private async Task RunAsync()
    {
        var batch = new List<UsageRecord>(MaxBatch);
        var reader = queue.Reader;
        while (await reader.WaitToReadAsync())
        {
            // Let a batch gather: one transaction per 50 ms under load instead of one per request.
            if (!reader.Completion.IsCompleted && reader.Count < MaxBatch)
            {
                await Task.WhenAny(reader.Completion, Task.Delay(BatchWindow));
            }

            while (batch.Count < MaxBatch && reader.TryRead(out var record))
            {
                batch.Add(record);
            }

            Volatile.Write(ref _inHand, batch.Count);
            if (await WriteWithRetryAsync(batch) is { } lastFailure)
            {
                Log.UsageWriteFailed(logger, batch.Count + reader.Count, lastFailure);
                return;
            }

            Volatile.Write(ref _inHand, 0);
            batch.Clear();
        }
    }

    /// <summary>Writes the batch, retrying a locked or unavailable database with backoff. Null once written; the last
    /// failure when shutdown's flush ran out of time first.</summary>
    private async Task<Exception?> WriteWithRetryAsync(List<UsageRecord> batch)
    {
        var delay = FirstRetryDelay;
        long lastLogged = 0;
        Exception lastFailure;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await store.AppendUsageAsync(batch, CancellationToken.None);
                if (attempt > 1)
                {
                    Log.UsageWriteRecovered(logger, batch.Count, attempt);
                }

                return null;
            }
            catch (Exception ex)
            {
                lastFailure = ex;
                if (attempt == 1 || Environment.TickCount64 - lastLogged >= (long)RetryLogInterval.TotalMilliseconds)
                {
                    lastLogged = Environment.TickCount64;
                    Log.UsageWriteRetry(logger, batch.Count, attempt, ex);
                }
            }

            try
            {
                await Task.Delay(delay, _giveUp.Token);
            }
            catch (OperationCanceledException)
            {
                return lastFailure;
            }

            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxRetryDelay.Ticks));
        }
    }
}
