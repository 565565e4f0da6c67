using System.Diagnostics;

namespace Relay.Upstreams;

/// <summary>When a request started, when Relay began its first upstream attempt, and when its first byte went back to
/// the client.</summary>
internal sealed class RequestTiming
{
    private long _firstByte;
    private long _upstreamStarted;

    public long Started { get; } = Stopwatch.GetTimestamp();

    public void MarkFirstByte()
    {
        if (_firstByte == 0)
        {
            _firstByte = Stopwatch.GetTimestamp();
        }
    }

    /// <summary>Marks the start of an upstream attempt; only the first counts.</summary>
    public void MarkUpstreamStarted()
    {
        if (_upstreamStarted == 0)
        {
            _upstreamStarted = Stopwatch.GetTimestamp();
        }
    }

    /// <summary>Relay's own time before the upstream: auth, body, admission and routing.</summary>
    public double? BeforeUpstreamMs => _upstreamStarted == 0 ? null : Stopwatch.GetElapsedTime(Started, _upstreamStarted).TotalMilliseconds;

    public double? FirstByteMs => _firstByte == 0 ? null : Stopwatch.GetElapsedTime(Started, _firstByte).TotalMilliseconds;

    public double ElapsedMs => Stopwatch.GetElapsedTime(Started).TotalMilliseconds;
}
