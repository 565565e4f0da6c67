using System.Diagnostics;

namespace Relay.Upstreams;

/// <summary>When a request started and when its first byte went back to the client.</summary>
internal sealed class RequestTiming
{
    private long _firstByte;

    public long Started { get; } = Stopwatch.GetTimestamp();

    public void MarkFirstByte()
    {
        if (_firstByte == 0)
        {
            _firstByte = Stopwatch.GetTimestamp();
        }
    }

    public double? FirstByteMs => _firstByte == 0 ? null : Stopwatch.GetElapsedTime(Started, _firstByte).TotalMilliseconds;

    public double ElapsedMs => Stopwatch.GetElapsedTime(Started).TotalMilliseconds;
}
