using Relay.Configuration;

namespace Relay.Hosting;

/// <summary>
/// A graceful stop lets open requests finish for <c>shutdownDrainSeconds</c>; at that deadline the ones still open are
/// ended by Relay itself (an error the client's protocol can read, and a usage record that says Relay stopped them),
/// instead of being reset when the host gives up on them.
/// </summary>
internal sealed class ShutdownDrain : IDisposable
{
    private readonly CancellationTokenSource _deadline;
    private readonly CancellationTokenRegistration _stopping;

    public ShutdownDrain(IHostApplicationLifetime lifetime, RelayConfig config, TimeProvider time)
    {
        _deadline = new CancellationTokenSource(Timeout.InfiniteTimeSpan, time);
        var drain = TimeSpan.FromSeconds(config.ShutdownDrainSeconds);
        _stopping = lifetime.ApplicationStopping.Register(() =>
        {
            IsStopping = true;
            _deadline.CancelAfter(drain);
        });
    }

    /// <summary>True once a stop has begun.</summary>
    public bool IsStopping { get; private set; }

    /// <summary>Cancelled when the drain time after a stop has run out.</summary>
    public CancellationToken Deadline => _deadline.Token;

    /// <summary>How long the host itself waits on a stop: the drain, then time to end the rest and write their records.</summary>
    public static TimeSpan HostShutdownTimeout(RelayConfig config) => TimeSpan.FromSeconds(config.ShutdownDrainSeconds + 15);

    public void Dispose()
    {
        _stopping.Dispose();
        _deadline.Dispose();
    }
}
