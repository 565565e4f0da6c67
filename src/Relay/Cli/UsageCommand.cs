using System.CommandLine;
using System.Globalization;
using Relay.Storage;
using Spectre.Console;

namespace Relay.Cli;

/// <summary><c>relay usage</c>: requests and tokens per key and per model, with totals.</summary>
internal static class UsageCommand
{
    public static Command Create()
    {
        var config = CliOptions.Config();
        var since = new Option<string?>("--since") { Description = "Only the last period, such as 24h, 7d or 30m." };
        var command = new Command("usage", "Show usage per key and per model.") { config, since };
        command.SetAction((parse, ct) => CliOptions.GuardAsync(parse, async output =>
        {
            DateTimeOffset? from = null;
            if (parse.GetValue(since) is { } period)
            {
                if (!TryParsePeriod(period, out var span))
                {
                    await parse.InvocationConfiguration.Error.WriteLineAsync($"relay: --since '{period}' is not a period such as 30m, 24h or 7d.");
                    return 2;
                }

                from = DateTimeOffset.UtcNow - span;
            }

            await using var store = await CliOptions.OpenStoreAsync(CliOptions.LoadForManagement(parse.GetValue(config)!), ct);
            var report = await store.GetUsageReportAsync(from, ct);
            var console = TableOutput.For(output);
            if (report.Total.Requests == 0)
            {
                await output.WriteLineAsync(from is null ? "No requests recorded yet." : "No requests in that period.");
                return 0;
            }

            console.Write(BuildTable("Key", report.ByKey, report.Total));
            console.Write(BuildTable("Model", report.ByModel, report.Total));
            return 0;
        }));
        return command;
    }

    private static Table BuildTable(string groupTitle, IReadOnlyList<UsageTotals> rows, UsageTotals total)
    {
        var table = new Table().AddColumns(groupTitle, "Requests", "Errors", "Input", "Output", "Cache write", "Cache read");
        foreach (var column in table.Columns.Skip(1))
        {
            column.RightAligned();
        }

        foreach (var row in rows)
        {
            AddRow(table, Markup.Escape(row.Group), row);
        }

        AddRow(table, "[bold]Total[/]", total);
        return table;
    }

    private static void AddRow(Table table, string label, UsageTotals t) =>
        table.AddRow(label, N(t.Requests), N(t.Errors), N(t.InputTokens), N(t.OutputTokens), N(t.CacheCreationInputTokens), N(t.CacheReadInputTokens));

    private static string N(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    public static bool TryParsePeriod(string text, out TimeSpan span)
    {
        span = default;
        if (text.Length < 2 || !int.TryParse(text[..^1], NumberStyles.None, CultureInfo.InvariantCulture, out var amount) || amount <= 0)
        {
            return false;
        }

        span = char.ToLowerInvariant(text[^1]) switch
        {
            'm' => TimeSpan.FromMinutes(amount),
            'h' => TimeSpan.FromHours(amount),
            'd' => TimeSpan.FromDays(amount),
            _ => TimeSpan.Zero,
        };
        return span > TimeSpan.Zero;
    }
}
