using System.Diagnostics;

namespace Relay.Bench.Load;

/// <summary>Percentiles of a set of durations, in milliseconds (nearest-rank, over every sample).</summary>
internal sealed record LatencySummary(long Count, double Mean, double P50, double P90, double P99, double P999, double Max)
{
    public static LatencySummary? FromTicks(List<long> ticks)
    {
        if (ticks.Count == 0)
        {
            return null;
        }

        ticks.Sort();
        var count = ticks.Count;
        double Ms(long t) => Math.Round(t * 1000.0 / Stopwatch.Frequency, 4);
        double At(double quantile) => Ms(ticks[Math.Clamp((int)Math.Ceiling(quantile * count) - 1, 0, count - 1)]);

        var sum = 0.0;
        foreach (var t in ticks)
        {
            sum += t;
        }

        return new LatencySummary(count, Math.Round(sum * 1000.0 / Stopwatch.Frequency / count, 4),
            At(0.50), At(0.90), At(0.99), At(0.999), Ms(ticks[^1]));
    }
}
