using System.CommandLine;
using System.Globalization;
using Relay.Storage;
using Spectre.Console;

namespace Relay.Cli;

/// <summary><c>relay usage</c>: requests and tokens per key and per model, with totals; or per client session.</summary>
internal static class UsageCommand
{
    private const int MaxSessions = 50;

    public static Command Create()
    {
        var config = CliOptions.Config();
        var since = new Option<string?>("--since") { Description = "Only the last period, such as 24h, 7d or 30m." };
        var by = new Option<string?>("--by")
        {
            Description = "One grouping: key, model, or session (Claude Code sessions, most recent first).",
        };
        by.AcceptOnlyFromAmong("key", "model", "session");
        var command = new Command("usage", "Show usage per key and per model, or per session.") { config, since, by };
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

            var grouping = parse.GetValue(by);
            if (grouping == "session")
            {
                var sessions = await store.GetUsageBySessionAsync(from, MaxSessions, ct);
                console.Write(BuildSessionTable(sessions, report.Total));
                if (sessions.Count == MaxSessions)
                {
                    await output.WriteLineAsync($"The {MaxSessions} most recently active sessions; use --since to look at a shorter period.");
                }

                return 0;
            }

            if (grouping is null or "key")
            {
                console.Write(BuildTable("Key", report.ByKey, report.Total));
            }

            if (grouping is null or "model")
            {
                console.Write(BuildTable("Model", report.ByModel, report.Total));
            }

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

    private static Table BuildSessionTable(IReadOnlyList<SessionUsage> sessions, UsageTotals total)
    {
        var table = new Table().AddColumns("Session", "Last active (UTC)", "Minutes", "Agents", "Requests", "Errors", "Input", "Output",
            "Cache write", "Cache read");
        foreach (var column in table.Columns.Skip(2))
        {
            column.RightAligned();
        }

        foreach (var session in sessions)
        {
            var t = session.Totals;
            table.AddRow(Markup.Escape(session.SessionId), session.LastSeen.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture),
                ((session.LastSeen - session.FirstSeen).TotalMinutes).ToString("N0", CultureInfo.InvariantCulture), N(session.Agents),
                N(t.Requests), N(t.Errors), N(t.InputTokens), N(t.OutputTokens), N(t.CacheCreationInputTokens), N(t.CacheReadInputTokens));
        }

        table.AddRow("[bold]Total[/]", "", "", "", N(total.Requests), N(total.Errors), N(total.InputTokens), N(total.OutputTokens),
            N(total.CacheCreationInputTokens), N(total.CacheReadInputTokens));
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
