using System.Threading.Channels;
using Relay.Storage;

namespace Relay.Usage;

/// <summary>Carries usage records off the request path to <see cref="UsageWriter"/>.</summary>
/// <remarks>Bounded, and waits rather than drops when full: a record is never lost to back-pressure. After shutdown
/// has closed the queue, late records are written straight to the store (or, if it fails, to the spool).</remarks>
internal sealed class UsageQueue(IUsageStore store, UsageSpool spool, ILogger<UsageQueue> logger)
{
    public const int Capacity = 10_000;

    private readonly Channel<UsageRecord> _channel = Channel.CreateBounded<UsageRecord>(new BoundedChannelOptions(Capacity)
    {
        SingleReader = true,
        SingleWriter = false,
        FullMode = BoundedChannelFullMode.Wait,
    });

    public ChannelReader<UsageRecord> Reader => _channel.Reader;

    public async ValueTask EnqueueAsync(UsageRecord record)
    {
        if (_channel.Writer.TryWrite(record))
        {
            return;
        }

        try
        {
            // Deliberately not tied to the request: the record must outlive a client that went away.
            await _channel.Writer.WriteAsync(record, CancellationToken.None);
        }
        catch (ChannelClosedException)
        {
            try
            {
                await store.AppendUsageAsync([record], CancellationToken.None);
            }
            catch (Exception ex)
            {
                if (!spool.TryAppend([record], out _))
                {
                    Log.UsageWriteFailed(logger, 1, ex);
                }
            }
        }
    }

    /// <summary>No more records will be queued; the writer drains what is left and stops.</summary>
    public void Complete() => _channel.Writer.TryComplete();
}
