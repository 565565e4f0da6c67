using Relay.Storage;

namespace Relay.Usage;

/// <summary>Writes queued usage records to the store in batches; on shutdown it writes every record left.</summary>
internal sealed class UsageWriter(UsageQueue queue, IUsageStore store, ILogger<UsageWriter> logger) : IHostedService
{
    private const int MaxBatch = 512;
    private static readonly TimeSpan BatchWindow = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan FlushTimeout = TimeSpan.FromSeconds(30);
    private Task? _loop;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _loop = Task.Run(RunAsync, CancellationToken.None);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        // The web server has stopped by now (it stops first), so no request will queue another record.
        queue.Complete();
        if (_loop is not null)
        {
            // Not bounded by the host's stop token: that may be spent by the requests that drained first, and the
            // records they queued are the ones that matter most now. A store that hangs still cannot hold the exit forever.
            try
            {
                await _loop.WaitAsync(FlushTimeout, CancellationToken.None);
            }
            catch (TimeoutException)
            {
                Log.UsageWriteFailed(logger, queue.Reader.Count, new TimeoutException($"The store did not take the last usage records within {FlushTimeout.TotalSeconds} s."));
            }
        }
    }

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

            await WriteWithRetryAsync(batch);
            batch.Clear();
        }
    }

    private async Task WriteWithRetryAsync(List<UsageRecord> batch)
    {
        // A locked or briefly unavailable database must not lose records: retry with backoff, then log loudly.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await store.AppendUsageAsync(batch, CancellationToken.None);
                return;
            }
            catch (Exception ex) when (attempt < 5)
            {
                Log.UsageWriteRetry(logger, batch.Count, attempt, ex);
                await Task.Delay(TimeSpan.FromMilliseconds(200 * attempt));
            }
            catch (Exception ex)
            {
                Log.UsageWriteFailed(logger, batch.Count, ex);
                return;
            }
        }
    }
}
