using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Relay.Bench.Load;

namespace Relay.Bench.Soak;

/// <summary><c>soak</c>: a long mixed load against Relay (usually over a faulty upstream), counting what became of every request.</summary>
internal static class SoakCommand
{
    public static Command Create()
    {
        var url = new Option<string>("--url") { Description = "Base URL; requests go to {url}/v1/messages?beta=true.", Required = true };
        var key = new Option<string>("--key") { Description = "Sent as x-api-key.", Required = true };
        var concurrency = new Option<int>("--concurrency") { Description = "Connections, each sending requests back to back.", DefaultValueFactory = _ => 32 };
        var duration = new Option<double>("--duration") { Description = "Seconds to keep sending.", Required = true };
        var streamShare = new Option<double>("--stream-share") { Description = "Share of requests that ask for a stream (0-1).", DefaultValueFactory = _ => 0.5 };
        var expect = new Option<int>("--expect-events") { Description = "Whole streams must carry exactly this many content_block_delta events (default: at least one).", DefaultValueFactory = _ => -1 };
        var timeout = new Option<double>("--timeout") { Description = "Per-request timeout in seconds.", DefaultValueFactory = _ => 60 };
        var progress = new Option<double>("--progress") { Description = "Print the counts every this many seconds.", DefaultValueFactory = _ => 60 };
        var output = new Option<string>("--out") { Description = "Write the results here as JSON.", Required = true };
        var command = new Command("soak", "Send a mixed streaming and non-streaming load for a long time and count what became of every request.")
        {
            url, key, concurrency, duration, streamShare, expect, timeout, progress, output,
        };

        command.SetAction(async (parse, cancellationToken) =>
        {
            if (!Uri.TryCreate(parse.GetValue(url), UriKind.Absolute, out var baseUrl))
            {
                await Console.Error.WriteLineAsync("soak: --url must be an absolute http:// URL.");
                return 2;
            }

            var options = new SoakOptions
            {
                Url = baseUrl,
                Key = parse.GetValue(key)!,
                Concurrency = parse.GetValue(concurrency),
                Duration = TimeSpan.FromSeconds(parse.GetValue(duration)),
                StreamShare = parse.GetValue(streamShare),
                ExpectDeltas = parse.GetValue(expect),
                RequestTimeout = TimeSpan.FromSeconds(parse.GetValue(timeout)),
                ProgressEvery = TimeSpan.FromSeconds(parse.GetValue(progress)),
            };
            if (options.Validate() is { } problem)
            {
                await Console.Error.WriteLineAsync($"soak: {problem}");
                return 2;
            }

            var result = await SoakRunner.RunAsync(options, cancellationToken);
            var path = Path.GetFullPath(parse.GetValue(output)!);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            await File.WriteAllBytesAsync(path, JsonSerializer.SerializeToUtf8Bytes(result, BenchJsonContext.Default.SoakResult), CancellationToken.None);
            Console.WriteLine(Describe(result));

            // Results are written either way; a non-zero exit tells a script an invariant failed.
            return result.Violations == 0 && result.RelayOwn5xx == 0 ? 0 : 3;
        });
        return command;
    }

    private static string Describe(SoakResult r)
    {
        var lines = new List<string>
        {
            string.Create(CultureInfo.InvariantCulture,
                $"sent {r.Sent} requests ({r.Streams} streams) in {r.ElapsedSeconds:F0} s at c={r.Concurrency}: {r.Reached} reached Relay, "
                + $"{r.Refused} refused while it was down, {r.NoAnswer} with no answer, {r.Unfinished} unfinished"),
            "answers by status:",
        };
        lines.AddRange(r.Statuses.Select(s => string.Create(CultureInfo.InvariantCulture, $"  {s.Key,-36} {s.Value,9}")));
        lines.Add("outcomes:");
        lines.AddRange(r.Outcomes.Select(o => string.Create(CultureInfo.InvariantCulture, $"  {o.Key,-64} {o.Value,9}{(SoakOutcome.IsViolation(o.Key) ? "  <- must be 0" : "")}")));
        lines.Add(string.Create(CultureInfo.InvariantCulture, $"5xx of Relay's own making: {r.RelayOwn5xx}; violations: {r.Violations}"));
        lines.AddRange(r.Samples.Select(s => $"  sample: {s}"));
        return string.Join(Environment.NewLine, lines);
    }
}

/// <summary>One soak run's settings.</summary>
internal sealed record SoakOptions
{
    public required Uri Url { get; init; }

    public required string Key { get; init; }

    public required int Concurrency { get; init; }

    public required TimeSpan Duration { get; init; }

    public required double StreamShare { get; init; }

    /// <summary>The exact number of deltas a whole stream must carry, or -1 for "at least one".</summary>
    public required int ExpectDeltas { get; init; }

    public required TimeSpan RequestTimeout { get; init; }

    public required TimeSpan ProgressEvery { get; init; }

    /// <summary>The pause after a refused connection, so a worker does not spin while Relay restarts.</summary>
    public TimeSpan RefusedPause { get; init; } = TimeSpan.FromMilliseconds(100);

    public string? Validate() =>
        Url.Scheme != Uri.UriSchemeHttp ? "--url must be an http:// URL."
        : Concurrency is < 1 or > 10_000 ? "--concurrency must be between 1 and 10000."
        : Duration <= TimeSpan.Zero ? "--duration must be positive."
        : StreamShare is < 0 or > 1 ? "--stream-share must be between 0 and 1."
        : RequestTimeout <= TimeSpan.Zero ? "--timeout must be positive."
        : ProgressEvery <= TimeSpan.Zero ? "--progress must be positive."
        : null;
}
