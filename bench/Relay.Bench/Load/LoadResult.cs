using System.Text.Json.Serialization;

namespace Relay.Bench.Load;

/// <summary>What one <c>load</c> run measured; written as JSON with <c>--out</c> and read back by <c>report</c>.</summary>
internal sealed record LoadResult
{
    public required string Label { get; init; }

    /// <summary>What was measured, such as <c>direct</c> or <c>relay</c>.</summary>
    public required string Target { get; init; }

    public required string Url { get; init; }

    public required bool Stream { get; init; }

    public required int Concurrency { get; init; }

    public required double WarmupSeconds { get; init; }

    /// <summary>The measured window, which begins after the warm-up.</summary>
    public required double DurationSeconds { get; init; }

    public required string StartedAt { get; init; }

    public required int RequestBodyBytes { get; init; }

    /// <summary>Complete, checked 200 answers that finished inside the window.</summary>
    public required long Requests { get; init; }

    public required double RequestsPerSecond { get; init; }

    /// <summary>Failed requests (wrong status, broken or incomplete body, timeout), warm-up and drain included.</summary>
    public required long Errors { get; init; }

    public required Dictionary<string, long> ErrorKinds { get; init; }

    public required List<string> ErrorSamples { get; init; }

    /// <summary>Requests still running when the harness gave up waiting for them (hangs).</summary>
    public required long Unfinished { get; init; }

    /// <summary>Every request sent, warm-up and drain included.</summary>
    public required long TotalRequests { get; init; }

    public required double MeanResponseBytes { get; init; }

    /// <summary>Send to the last byte of the answer.</summary>
    public required LatencySummary? Latency { get; init; }

    /// <summary>Streams only: send to the first complete SSE event.</summary>
    public LatencySummary? Ttfb { get; init; }

    /// <summary>Streams only: time between consecutive content_block_delta events as the client saw them.</summary>
    public LatencySummary? DeltaGap { get; init; }

    /// <summary>The process named by <c>--watch-pid</c>, over the measured window.</summary>
    public WatchedProcess? Watched { get; init; }

    /// <summary>The machine's 1-minute load average when the run began and ended: how busy everything else was.</summary>
    public double[]? LoadAverage { get; init; }
}

/// <summary>CPU and memory of a watched process over the measured window.</summary>
/// <param name="CpuWaitMsPerSecond">How long per second its threads were ready to run but had no CPU: a direct
/// measure of how much other work on the machine got in its way.</param>
internal sealed record WatchedProcess(int Pid, double CpuMs, double CpuPercent, double CpuUsPerRequest, double CpuWaitMsPerSecond, long RssKb, long PeakRssKb);

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(LoadResult))]
[JsonSerializable(typeof(Relay.Bench.Soak.SoakResult))]
internal sealed partial class BenchJsonContext : JsonSerializerContext;
