using System.Globalization;

namespace Relay.Bench.Load;

/// <summary>One reading of another process's CPU time, time spent waiting for a CPU, and memory from <c>/proc</c> (Linux only).</summary>
/// <param name="CpuMs">User and system CPU time of all its threads.</param>
/// <param name="RunDelayNs">Per live thread (by id): how long it has been ready to run but waited for a CPU.</param>
internal readonly record struct ProcessSample(double CpuMs, IReadOnlyDictionary<int, long> RunDelayNs, long RssKb, long PeakRssKb)
{
    /// <summary>Linux reports utime and stime in USER_HZ ticks, which is 100 per second on every mainstream architecture.</summary>
    private const double MsPerTick = 10.0;

    public static ProcessSample? Read(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");

            // Fields after the ")" that closes the command name: state is field 3, utime field 14, stime field 15.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);

            long rss = 0, peak = 0;
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    rss = Kilobytes(line);
                }
                else if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                {
                    peak = Kilobytes(line);
                }
            }

            return new ProcessSample(ticks * MsPerTick, ReadRunDelays(pid), rss, peak);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return null;
        }
    }

    /// <summary>CPU wait between two readings, counting only threads alive at the second: a thread that ended in
    /// between is left out rather than making the sum go backwards; one that started counts from its start.</summary>
    public static double RunDelayMsBetween(ProcessSample before, ProcessSample after)
    {
        long nanoseconds = 0;
        foreach (var (thread, delay) in after.RunDelayNs)
        {
            nanoseconds += Math.Max(0, delay - before.RunDelayNs.GetValueOrDefault(thread));
        }

        return nanoseconds / 1e6;
    }

    private static Dictionary<int, long> ReadRunDelays(int pid)
    {
        var delays = new Dictionary<int, long>();
        foreach (var task in Directory.EnumerateDirectories($"/proc/{pid}/task"))
        {
            try
            {
                // schedstat: time on CPU, time waiting on a run queue, time slices (ns, ns, count).
                var fields = File.ReadAllText(Path.Combine(task, "schedstat")).Split(' ');
                delays[int.Parse(Path.GetFileName(task), CultureInfo.InvariantCulture)] = long.Parse(fields[1], CultureInfo.InvariantCulture);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
            {
                // The thread ended between listing and reading, or the kernel keeps no schedstat.
            }
        }

        return delays;
    }

    /// <summary>The machine's 1-minute load average, from <c>/proc/loadavg</c>.</summary>
    public static double? LoadAverage()
    {
        try
        {
            var text = File.ReadAllText("/proc/loadavg");
            return double.Parse(text.AsSpan(0, text.IndexOf(' ')), CultureInfo.InvariantCulture);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or ArgumentOutOfRangeException)
        {
            return null;
        }
    }

    private static long Kilobytes(string line) =>
        long.Parse(line.AsSpan(line.IndexOf(':') + 1).Trim().TrimEnd("kB").Trim(), CultureInfo.InvariantCulture);
}
