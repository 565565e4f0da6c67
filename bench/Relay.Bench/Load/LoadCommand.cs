using System.CommandLine;
using System.Globalization;
using System.Text.Json;

namespace Relay.Bench.Load;

/// <summary><c>load</c>: drives a Messages endpoint (the fake upstream directly, or Relay) and writes what it measured.</summary>
internal static class LoadCommand
{
    public static Command Create()
    {
        var url = new Option<string[]>("--url")
        {
            Description = "Base URL; requests go to {url}/v1/messages?beta=true. Repeat it to split the connections evenly across several.",
            Required = true,
        };
        var key = new Option<string[]>("--key") { Description = "Sent as x-api-key. Repeat it to spread the connections over several keys.", Required = true };
        var stream = new Option<bool>("--stream") { Description = "Ask for SSE streams (\"stream\": true) and time the first event." };
        var concurrency = new Option<int>("--concurrency") { Description = "Connections, each sending requests back to back.", Required = true };
        var duration = new Option<double>("--duration") { Description = "Measured seconds.", DefaultValueFactory = _ => 10 };
        var warmup = new Option<double>("--warmup") { Description = "Seconds of load before measuring starts.", DefaultValueFactory = _ => 2 };
        var output = new Option<string>("--out") { Description = "Write the results here as JSON.", Required = true };
        var label = new Option<string?>("--label") { Description = "Scenario name for the report (default: from the settings)." };
        var target = new Option<string>("--target") { Description = "What is being measured, e.g. direct or relay.", DefaultValueFactory = _ => "direct" };
        var expect = new Option<int>("--expect-events") { Description = "Streams must carry exactly this many content_block_delta events (default: at least one).", DefaultValueFactory = _ => -1 };
        var timeout = new Option<double>("--timeout") { Description = "Per-request timeout in seconds.", DefaultValueFactory = _ => 30 };
        var watchPid = new Option<int?>("--watch-pid") { Description = "Also record this process's CPU time and RSS over the measured window." };
        var perConnection = new Option<int>("--per-connection") { Description = "Requests each connection sends at most (default: no limit).", DefaultValueFactory = _ => 0 };
        var command = new Command("load", "Send Claude Code-like /v1/messages requests at a fixed concurrency and measure throughput and latency.")
        {
            url, key, stream, concurrency, duration, warmup, output, label, target, expect, timeout, watchPid, perConnection,
        };

        command.SetAction(async (parse, cancellationToken) =>
        {
            var baseUrls = new List<Uri>();
            foreach (var text in parse.GetValue(url) ?? [])
            {
                if (!Uri.TryCreate(text, UriKind.Absolute, out var baseUrl))
                {
                    await Console.Error.WriteLineAsync("load: --url must be an absolute http:// URL.");
                    return 2;
                }

                baseUrls.Add(baseUrl);
            }

            var streamed = parse.GetValue(stream);
            var connections = parse.GetValue(concurrency);
            var options = new LoadOptions
            {
                Urls = baseUrls,
                Keys = parse.GetValue(key) ?? [],
                Stream = streamed,
                Concurrency = connections,
                Duration = TimeSpan.FromSeconds(parse.GetValue(duration)),
                Warmup = TimeSpan.FromSeconds(parse.GetValue(warmup)),
                RequestTimeout = TimeSpan.FromSeconds(parse.GetValue(timeout)),
                ExpectDeltas = parse.GetValue(expect),
                Label = parse.GetValue(label) ?? $"{(streamed ? "streaming" : "non-streaming")}, c={connections}",
                Target = parse.GetValue(target)!,
                WatchPid = parse.GetValue(watchPid),
                PerConnection = parse.GetValue(perConnection),
            };
            if (options.Validate() is { } problem)
            {
                await Console.Error.WriteLineAsync($"load: {problem}");
                return 2;
            }

            var result = await LoadRunner.RunAsync(options, cancellationToken);
            var path = Path.GetFullPath(parse.GetValue(output)!);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            await File.WriteAllBytesAsync(path, JsonSerializer.SerializeToUtf8Bytes(result, BenchJsonContext.Default.LoadResult), CancellationToken.None);
            Console.WriteLine(Describe(result));
            foreach (var sample in result.ErrorSamples)
            {
                Console.WriteLine($"  error: {sample}");
            }

            // Results are written either way; a non-zero exit tells a script that something failed or hung.
            return result.Errors == 0 && result.Unfinished == 0 && result.Requests > 0 ? 0 : 3;
        });
        return command;
    }

    private static string Describe(LoadResult r)
    {
        var text = string.Create(CultureInfo.InvariantCulture,
            $"{r.Target,-6} {r.Label}: {r.RequestsPerSecond:F1} req/s, latency p50 {r.Latency?.P50:F3} p99 {r.Latency?.P99:F3} ms");
        if (r.Ttfb is { } ttfb)
        {
            text += string.Create(CultureInfo.InvariantCulture, $", TTFB p50 {ttfb.P50:F3} p99 {ttfb.P99:F3} ms");
        }

        text += string.Create(CultureInfo.InvariantCulture, $", errors {r.Errors}, unfinished {r.Unfinished}");
        if (r.Watched is { } w)
        {
            text += string.Create(CultureInfo.InvariantCulture, $"; pid {w.Pid}: CPU {w.CpuPercent:F0} %, {w.CpuUsPerRequest:F0} µs/request, waited for CPU {w.CpuWaitMsPerSecond:F0} ms/s, RSS {w.RssKb / 1024.0:F0} MiB");
        }

        return text;
    }
}
