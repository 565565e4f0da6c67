using Relay.Storage;

namespace Relay.Usage;

/// <summary>Takes queued usage records off in batches and delivers them (<see cref="UsageDelivery"/>: to the store,
/// or to the disk spool while the store does not answer); on shutdown it delivers every record left.</summary>
/// <remarks>A record carries its request's settlement (cost charged, reservation freed), so it is never dropped while
/// Relay runs. With the spool, a stop during an outage puts what is left on disk within moments; only when the store
/// and the spool both refuse does a shutdown that outlasts <see cref="FlushTimeout"/> give records up.</remarks>
internal sealed class UsageWriter(UsageQueue queue, UsageDelivery delivery, ILogger<UsageWriter> logger) : IHostedService, IDisposable
{
    private const int MaxBatch = 512;
    private static readonly TimeSpan BatchWindow = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan FlushTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Cancelled when shutdown's flush has run out of time: stop retrying.</summary>
    private readonly CancellationTokenSource _giveUp = new();
    private Task? _loop;

    /// <summary>Records taken off the queue and not yet delivered.</summary>
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
            Log.UsageWriteFailed(logger, Volatile.Read(ref _inHand) + delivery.InSlowWrite + queue.Reader.Count,
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
            if (await delivery.DeliverAsync([.. batch], _giveUp.Token) is { } lastFailure)
            {
                Log.UsageWriteFailed(logger, batch.Count + delivery.InSlowWrite + reader.Count, lastFailure);
                return;
            }

            Volatile.Write(ref _inHand, 0);
            batch.Clear();
        }

        // A store call that outlived its limit may still hold records: they are in the store or on disk before exit.
        if (await delivery.FinishSlowWriteAsync(_giveUp.Token) is { } failure)
        {
            Log.UsageWriteFailed(logger, delivery.InSlowWrite, failure);
        }
    }
}
