using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Relay.Bench.Load;

namespace Relay.Bench.Report;

/// <summary><c>report</c>: pairs <c>load</c> results by scenario (direct against relay) into Markdown tables.</summary>
internal static class ReportCommand
{
    /// <summary>The project's aims: pass-through keeps at least this share of direct throughput...</summary>
    public const double MinThroughputRatio = 0.5;

    /// <summary>...and adds less than this at p50.</summary>
    public const double MaxAddedP50Ms = 1.0;

    public static Command Create()
    {
        var files = new Argument<string[]>("results") { Description = "JSON files written by load --out, in the order to report them.", Arity = ArgumentArity.OneOrMore };
        var output = new Option<string?>("--out") { Description = "Also write the tables to this file." };
        var command = new Command("report", "Compare direct and through-Relay load results as Markdown tables.") { files, output };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var results = new List<LoadResult>();
            foreach (var file in parse.GetValue(files)!)
            {
                await using var stream = File.OpenRead(file);
                var result = await JsonSerializer.DeserializeAsync(stream, BenchJsonContext.Default.LoadResult, cancellationToken);
                if (result is null)
                {
                    await Console.Error.WriteLineAsync($"report: {file} holds no result.");
                    return 2;
                }

                results.Add(result);
            }

            var text = Render(results);
            Console.Write(text);
            if (parse.GetValue(output) is { } path)
            {
                await File.WriteAllTextAsync(path, text, cancellationToken);
            }

            return 0;
        });
        return command;
    }

    public static string Render(IReadOnlyList<LoadResult> results)
    {
        var pairs = results
            .GroupBy(r => r.Label, StringComparer.Ordinal)
            .Select(g => new Pair(g.Key, g.FirstOrDefault(r => r.Target == "direct"), g.FirstOrDefault(r => r.Target == "relay")))
            .ToList();

        var text = new StringBuilder();
        text.AppendLine("| scenario | direct req/s | Relay req/s | Relay ÷ direct | direct p50 / p99 ms | Relay p50 / p99 ms | added p50 ms | errors direct / Relay | aims (≥ 0.50×, < 1 ms) |");
        text.AppendLine("|---|--:|--:|--:|--:|--:|--:|--:|---|");
        foreach (var (label, direct, relay) in pairs)
        {
            var ratio = direct is { RequestsPerSecond: > 0 } && relay is not null ? relay.RequestsPerSecond / direct.RequestsPerSecond : (double?)null;
            var added = Added(direct?.Latency, relay?.Latency);
            text.AppendLine(Row(
                label,
                direct is null ? "–" : Rate(direct.RequestsPerSecond),
                relay is null ? "–" : Rate(relay.RequestsPerSecond),
                ratio is { } q ? Inv($"{q:F2}") : "–",
                P50P99(direct?.Latency),
                P50P99(relay?.Latency),
                added is { } a ? Signed(a.P50) : "–",
                $"{Errors(direct)} / {Errors(relay)}",
                Aims(ratio, added?.P50, relay?.Stream == true ? Added(direct?.Ttfb, relay.Ttfb)?.P50 : null)));
        }

        var streams = pairs.Where(p => p.Direct?.Stream == true || p.Relay?.Stream == true).ToList();
        if (streams.Count > 0)
        {
            text.AppendLine();
            text.AppendLine("| streaming scenario | direct TTFB p50 / p99 ms | Relay TTFB p50 / p99 ms | TTFB added p50 / p99 ms | delta gap p50 / p99 ms, direct | delta gap p50 / p99 ms, Relay |");
            text.AppendLine("|---|--:|--:|--:|--:|--:|");
            foreach (var (label, direct, relay) in streams)
            {
                var added = Added(direct?.Ttfb, relay?.Ttfb);
                text.AppendLine(Row(
                    label,
                    P50P99(direct?.Ttfb),
                    P50P99(relay?.Ttfb),
                    added is { } a ? $"{Signed(a.P50)} / {Signed(a.P99)}" : "–",
                    P50P99(direct?.DeltaGap),
                    P50P99(relay?.DeltaGap)));
            }
        }

        text.AppendLine();
        text.AppendLine("| scenario | CPU µs/request: upstream (direct run) / Relay | Relay CPU, % of one core | Relay RSS at end | machine load avg (1 min), direct run / Relay run |");
        text.AppendLine("|---|--:|--:|--:|--:|");
        foreach (var (label, direct, relay) in pairs)
        {
            text.AppendLine(Row(
                label,
                $"{CpuPerRequest(direct)} / {CpuPerRequest(relay)}",
                relay?.Watched is { } w ? Inv($"{w.CpuPercent:F0} %") : "–",
                relay?.Watched is { } m ? Inv($"{m.RssKb / 1024.0:F0} MiB") : "–",
                $"{Load(direct)} / {Load(relay)}"));
        }

        return text.ToString();
    }

    private sealed record Pair(string Label, LoadResult? Direct, LoadResult? Relay);

    private static string CpuPerRequest(LoadResult? r) => r?.Watched is { } w ? Inv($"{w.CpuUsPerRequest:F0}") : "–";

    private static string Load(LoadResult? r) => r?.LoadAverage is [var start, var end] ? Inv($"{start:F1}→{end:F1}") : "–";

    private static string Aims(double? ratio, double? addedP50, double? ttfbAddedP50)
    {
        if (ratio is null || addedP50 is null)
        {
            return "–";
        }

        var misses = new List<string>();
        if (ratio < MinThroughputRatio)
        {
            misses.Add(Inv($"throughput {ratio:F2} < {MinThroughputRatio:F2}"));
        }

        if (addedP50 >= MaxAddedP50Ms)
        {
            misses.Add(Inv($"p50 +{addedP50:F2} ms"));
        }

        if (ttfbAddedP50 >= MaxAddedP50Ms)
        {
            misses.Add(Inv($"TTFB p50 +{ttfbAddedP50:F2} ms"));
        }

        return misses.Count == 0 ? "met" : "missed: " + string.Join("; ", misses);
    }

    private static (double P50, double P99)? Added(LatencySummary? direct, LatencySummary? relay) =>
        direct is null || relay is null ? null : (relay.P50 - direct.P50, relay.P99 - direct.P99);

    private static string Errors(LoadResult? r) =>
        r is null ? "–" : r.Unfinished > 0 ? Inv($"{r.Errors} (+{r.Unfinished} hung)") : Inv($"{r.Errors}");

    private static string P50P99(LatencySummary? s) => s is null ? "–" : $"{Ms(s.P50)} / {Ms(s.P99)}";

    private static string Rate(double perSecond) => perSecond >= 100 ? Inv($"{perSecond:N0}") : Inv($"{perSecond:F1}");

    private static string Ms(double ms) => ms < 1 ? Inv($"{ms:F3}") : ms < 100 ? Inv($"{ms:F2}") : Inv($"{ms:F1}");

    private static string Signed(double ms) => (ms < 0 ? "−" : "+") + Ms(Math.Abs(ms));

    private static string Row(params string[] cells) => "| " + string.Join(" | ", cells) + " |";

    private static string Inv(FormattableString value) => value.ToString(CultureInfo.InvariantCulture);
}
