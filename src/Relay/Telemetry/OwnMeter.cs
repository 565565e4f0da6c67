using System.Diagnostics.Metrics;

namespace Relay.Telemetry;

/// <summary>
/// This host's <see cref="IMeterFactory"/>, known before its instruments are published. OpenTelemetry listens to meters
/// by name across the whole process, so without this a host would also count another host's <c>Relay</c> and ASP.NET
/// Core meters (tests run several hosts in one process; so does the <c>metricsListen</c> server).
/// </summary>
internal sealed class OwnMeter
{
    private IMeterFactory? _factory;

    public void Set(IMeterFactory factory) => _factory = factory;

    /// <summary>Whether <paramref name="meter"/> was made by another host's factory.</summary>
    public bool IsForeign(Meter meter) => meter.Scope is IMeterFactory factory && !ReferenceEquals(factory, _factory);
}
