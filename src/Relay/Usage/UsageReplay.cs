using Relay.Storage;

namespace Relay.Usage;

/// <summary>Writes spooled usage records back to the store, oldest file first, once it answers; deletes a file only
/// after every record in it was written. Files left by an earlier run, or by another instance sharing the folder,
/// are taken the same way; a file is claimed with an exclusive lock, so two processes never replay one file.</summary>
/// <remarks>A batch may be written again when a write committed but the progress note after it was not saved (a
/// crash in between, or a write whose answer was lost); every store skips a record whose request id it already has,
/// with its charge, so that is harmless.</remarks>
internal sealed class UsageReplay(UsageSpool spool, IUsageStore store, ILogger<UsageReplay> logger) : IHostedService, IDisposable
{
    public const int MaxBatch = 512;

    /// <summary>How often the folder is looked at when nothing was appended here (files from crashed instances).</summary>
    private static readonly TimeSpan IdleScan = TimeSpan.FromSeconds(30);

    /// <summary>While this process has a backlog, the store is probed at most this long apart.</summary>
    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(5);

    private static readonly TimeSpan FirstRetryDelay = TimeSpan.FromMilliseconds(250);

    /// <summary>One store call; a database that hangs is given up on (and retried) after this.</summary>
    private static readonly TimeSpan StoreCallLimit = TimeSpan.FromSeconds(30);

    private static readonly TimeSpan RetryLogInterval = TimeSpan.FromSeconds(30);

    private readonly CancellationTokenSource _stopping = new();
    private Task? _loop;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (!spool.Replays)
        {
            return Task.CompletedTask;
        }

        var (files, bytes) = spool.Measure();
        if (files > 0)
        {
            Log.UsageSpoolWaiting(logger, files, bytes / 1048576.0, spool.FolderPath);
        }

        _loop = Task.Run(RunAsync, CancellationToken.None);
        return Task.CompletedTask;
    }

    /// <summary>Stops between batches (the usage writer, which stops first, has put its last records in the store or
    /// the spool by now); what is left stays on disk for the next start.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        if (_loop is not null)
        {
            try
            {
                // A SQLite write in progress does not see cancellation; its busy wait ends within 30 s.
                await _loop.WaitAsync(StoreCallLimit + TimeSpan.FromSeconds(5), CancellationToken.None);
            }
            catch (TimeoutException)
            {
            }
        }

        spool.Seal();
        var (files, bytes) = spool.Measure();
        if (files > 0)
        {
            Log.UsageSpoolLeftForNextStart(logger, bytes / 1048576.0, spool.FolderPath);
        }
    }

    public void Dispose() => _stopping.Dispose();

    private async Task RunAsync()
    {
        var token = _stopping.Token;
        long replayed = 0;
        var files = 0;
        while (!token.IsCancellationRequested)
        {
            try
            {
                using var file = spool.ClaimNext();
                if (file is null)
                {
                    if (replayed > 0)
                    {
                        Log.UsageReplayFinished(logger, replayed, files);
                        (replayed, files) = (0, 0);
                    }

                    await spool.WaitForAppendAsync(IdleScan, token);
                    continue;
                }

                // Progress must be recordable before anything is written, or a folder that refuses writes would
                // have the same records written again on every attempt.
                file.SaveProgress(file.Replayed);
                foreach (var (records, end) in file.ReadBatches(MaxBatch))
                {
                    await WriteUntilStoredAsync(file, records, token);
                    file.SaveProgress(end);
                    replayed += records.Count;
                }

                if (file.CorruptAt is { } offset)
                {
                    Log.UsageSpoolFileCorrupt(logger, file.Path, offset, file.SetAside());
                }
                else
                {
                    file.Finish();
                }

                files++;
                spool.Done(file);
            }
            catch (Exception) when (token.IsCancellationRequested)
            {
                // Stopping: a batch whose write was cut short is written again by the next replay of its file.
                return;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // The folder itself failed (removed, unreadable): try again later rather than spin.
                Log.UsageReplayRetry(logger, spool.FolderPath, 0, ex);
                try
                {
                    await Task.Delay(MaxRetryDelay, token);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private async Task WriteUntilStoredAsync(ClaimedSpoolFile file, List<UsageRecord> records, CancellationToken token)
    {
        var delay = FirstRetryDelay;
        long lastLogged = 0;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                using var limit = CancellationTokenSource.CreateLinkedTokenSource(token);
                limit.CancelAfter(StoreCallLimit);
                await store.AppendUsageAsync(records, limit.Token);
                return;
            }
            catch (Exception ex) when (!token.IsCancellationRequested)
            {
                if (attempt == 1 || Environment.TickCount64 - lastLogged >= (long)RetryLogInterval.TotalMilliseconds)
                {
                    lastLogged = Environment.TickCount64;
                    Log.UsageReplayRetry(logger, file.Name, attempt, ex);
                }
            }

            await Task.Delay(delay, token);
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxRetryDelay.Ticks));
        }
    }
}
