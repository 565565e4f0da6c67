using System.Diagnostics.Metrics;

namespace Relay.Telemetry;

/// <summary>This host's <c>Relay</c> meter, known before its instruments exist, so this host's exporter can tell its
/// own instruments from those of another host in the same process.</summary>
internal sealed class OwnMeter
{
    private Meter? _meter;

    public void Set(Meter meter) => _meter = meter;

    public bool Is(Meter meter) => ReferenceEquals(meter, _meter);
}
