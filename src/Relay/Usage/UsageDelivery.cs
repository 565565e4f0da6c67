using Relay.Storage;

namespace Relay.Usage;

/// <summary>Puts one batch of usage records somewhere safe: the store, or, when the store does not take it (after a
/// short retry), the <see cref="UsageSpool"/>. Only when the spool is off, full or refused by the disk does it keep
/// retrying, so an outage makes requests wait only then.</summary>
internal sealed class UsageDelivery(IUsageStore store, UsageSpool spool, ILogger<UsageWriter> logger)
{
    /// <summary>A busy or briefly unreachable database often answers a moment later: not worth a spool file.</summary>
    private static readonly TimeSpan[] QuickRetryDelays = [TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(250)];

    /// <summary>A store call that has not returned by then no longer holds the writer up: the records after it are
    /// spooled meanwhile. It is cancelled, but not abandoned (SQLite's busy wait ignores cancellation and may still
    /// commit), so its batch is spooled only once the call has failed.</summary>
    private static readonly TimeSpan StoreCallLimit = TimeSpan.FromSeconds(5);

    private static readonly TimeSpan FirstRetryDelay = TimeSpan.FromMilliseconds(20);
    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(5);

    /// <summary>A store that stays down fails every few seconds; one warning per this long is enough to see it.</summary>
    private static readonly TimeSpan RetryLogInterval = TimeSpan.FromSeconds(30);

    /// <summary>A store call that outlived <see cref="StoreCallLimit"/>, and its records.</summary>
    private (Task Write, UsageRecord[] Records)? _slowWrite;

    /// <summary>Null once the records are in the store or on disk; the last failure when <paramref name="giveUp"/>
    /// came first (only when the spool could not take them).</summary>
    public async Task<Exception?> DeliverAsync(UsageRecord[] records, CancellationToken giveUp)
    {
        if (_slowWrite is { Write.IsCompleted: true })
        {
            if (await FinishSlowWriteAsync(giveUp) is { } lost)
            {
                return lost;
            }
        }

        var delay = FirstRetryDelay;
        long lastLogged = 0;
        Exception? lastFailure = null;
        for (var round = 1; ; round++)
        {
            // While this instance has spooled records, or a slow write is still out, new ones go behind them on disk.
            if (!spool.HasBacklog && _slowWrite is null)
            {
                lastFailure = await TryStoreAsync(records, quickRetries: round == 1);
                if (lastFailure is null)
                {
                    return null;
                }

                if (_slowWrite?.Records == records)
                {
                    return null; // in the store's hands until the call ends; spooled then if it failed
                }
            }

            if (spool.TryAppend(records, out var started))
            {
                if (started)
                {
                    Log.UsageSpoolStarted(logger, records.Length, spool.FolderPath,
                        lastFailure ?? new InvalidOperationException("The store is still writing an earlier batch."));
                }

                return null;
            }

            // No room on disk either: the queue behind this batch fills and requests wait, as without a spool.
            lastFailure ??= new InvalidOperationException("The usage spool is full or off.");
            if (round == 1 || Environment.TickCount64 - lastLogged >= (long)RetryLogInterval.TotalMilliseconds)
            {
                lastLogged = Environment.TickCount64;
                Log.UsageWriteRetry(logger, records.Length, round, lastFailure);
            }

            try
            {
                await Task.Delay(delay, giveUp);
            }
            catch (OperationCanceledException)
            {
                return lastFailure;
            }

            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxRetryDelay.Ticks));
            if (_slowWrite is { Write.IsCompleted: true } && await FinishSlowWriteAsync(giveUp) is { } lost)
            {
                return lost;
            }
        }
    }

    /// <summary>Waits for a slow store call still out (at shutdown), and spools its records if it failed.</summary>
    public async Task<Exception?> FinishSlowWriteAsync(CancellationToken giveUp)
    {
        if (_slowWrite is not { } slow)
        {
            return null;
        }

        try
        {
            await slow.Write.WaitAsync(giveUp);
            _slowWrite = null;
            return null;
        }
        catch (OperationCanceledException) when (giveUp.IsCancellationRequested)
        {
            return new TimeoutException("A store call that did not return held usage records.");
        }
        catch (Exception)
        {
            _slowWrite = null;
            return await DeliverAsync(slow.Records, giveUp);
        }
    }

    /// <summary>Records a slow store call still holds (counted as in hand at shutdown).</summary>
    public int InSlowWrite => _slowWrite?.Records.Length ?? 0;

    /// <summary>When a slow write ends, failed, its records go to the spool at once (the writer may have nothing else
    /// to do for a while); only if the spool refuses them too does the write stay failed for the writer to retry.</summary>
    private void SpoolIfFailed(Task write, CancellationTokenSource limit, UsageRecord[] records)
    {
        limit.Dispose();
        if (write.IsCompletedSuccessfully)
        {
            return;
        }

        if (!spool.TryAppend(records, out var started))
        {
            write.GetAwaiter().GetResult();
        }

        if (started)
        {
            Log.UsageSpoolStarted(logger, records.Length, spool.FolderPath, write.Exception?.GetBaseException() ?? new TaskCanceledException());
        }
    }

    private async Task<Exception?> TryStoreAsync(UsageRecord[] records, bool quickRetries)
    {
        var attempts = quickRetries ? QuickRetryDelays.Length + 1 : 1;
        Exception? failure = null;
        for (var attempt = 0; attempt < attempts; attempt++)
        {
            if (attempt > 0)
            {
                await Task.Delay(QuickRetryDelays[attempt - 1]);
            }

            var limit = new CancellationTokenSource(StoreCallLimit);
            Task write = Task.CompletedTask;
            try
            {
                // On a thread of its own: SQLite's "async" calls run synchronously, busy waits included.
                write = Task.Run(() => store.AppendUsageAsync(records, limit.Token), CancellationToken.None);
                await write.WaitAsync(StoreCallLimit + TimeSpan.FromSeconds(1));
                limit.Dispose();
                return null;
            }
            catch (TimeoutException ex)
            {
                _slowWrite = (write.ContinueWith(t => SpoolIfFailed(t, limit, records), TaskScheduler.Default), records);
                return ex;
            }
            catch (Exception ex)
            {
                limit.Dispose();
                failure = ex;
            }
        }

        return failure;
    }
}
