using System.CommandLine;
using System.Globalization;
using Relay.Storage;
using Relay.Storage.Accounts;
using Relay.Usage;
using Spectre.Console;

namespace Relay.Cli;

/// <summary><c>relay usage</c>: requests, tokens and cost per key and per model (or per user, day, provider or client
/// session), with totals, over the records that match the filters.</summary>
internal static class UsageCommand
{
    private const int MaxSessions = 50;

    public static Command Create()
    {
        var config = CliOptions.Config();
        var since = new Option<string?>("--since") { Description = $"Only records from then on: {UsageTimeBound.Forms}." };
        var until = new Option<string?>("--until") { Description = "Only records before then (a day counts whole), in the same forms as --since." };
        var by = new Option<string?>("--by")
        {
            Description = "One grouping: key, user, model, day (UTC), provider, or session (Claude Code sessions, most recent first). Default: key, then model.",
        };
        by.AcceptOnlyFromAmong("key", "user", "model", "day", "provider", "session");
        var key = new Option<string?>("--key") { Description = "Only this key's records (by name)." };
        var user = new Option<string?>("--user") { Description = "Only this user's records." };
        var model = new Option<string?>("--model") { Description = "Only requests for this model name, as the client sent it." };
        var status = new Option<string?>("--status") { Description = "Only ok requests, error ones, or one HTTP status such as 429." };
        var command = new Command("usage", "Show usage and cost per key and per model, or per user, day, provider or session.")
        {
            config, since, until, by, key, user, model, status,
        };
        command.SetAction((parse, ct) => CliOptions.GuardAsync(parse, async output =>
        {
            var error = parse.InvocationConfiguration.Error;
            var now = DateTimeOffset.UtcNow;
            var filter = new UsageFilter
            {
                KeyName = parse.GetValue(key),
                UserName = parse.GetValue(user),
                Model = parse.GetValue(model),
            };
            if (parse.GetValue(since) is { } sinceText)
            {
                if (!UsageTimeBound.TryParse(sinceText, now, endOfDay: false, out var from))
                {
                    await error.WriteLineAsync($"relay: --since '{sinceText}' is not {UsageTimeBound.Forms}.");
                    return 2;
                }

                filter = filter with { Since = from };
            }

            if (parse.GetValue(until) is { } untilText)
            {
                if (!UsageTimeBound.TryParse(untilText, now, endOfDay: true, out var to))
                {
                    await error.WriteLineAsync($"relay: --until '{untilText}' is not {UsageTimeBound.Forms}.");
                    return 2;
                }

                filter = filter with { Until = to };
            }

            if (parse.GetValue(status) is { } statusText)
            {
                if (!UsageStatusFilter.TryParse(statusText, out var statusFilter))
                {
                    await error.WriteLineAsync($"relay: --status '{statusText}' is not ok, error or an HTTP status such as 429.");
                    return 2;
                }

                filter = filter with { Status = statusFilter };
            }

            var grouping = parse.GetValue(by);
            var narrowed = filter with { Since = null };
            if (grouping == "session" && narrowed != UsageFilter.All)
            {
                await error.WriteLineAsync("relay: --by session takes only --since; the other filters apply to the other groupings.");
                return 2;
            }

            await using var store = await CliOptions.OpenStoreAsync(CliOptions.LoadForManagement(parse.GetValue(config)!), ct);
            var console = TableOutput.For(output);
            var first = await store.GetUsageTotalsAsync(filter, Grouping(grouping ?? "key"), ct);
            var total = UsageGroupTotals.Sum("Total", first);
            if (total.Requests == 0)
            {
                await output.WriteLineAsync(filter == UsageFilter.All ? "No requests recorded yet." : "No requests match.");
                return 0;
            }

            if (grouping == "session")
            {
                var sessions = await store.GetUsageBySessionAsync(filter.Since, MaxSessions, ct);
                console.Write(BuildSessionTable(sessions, total));
                if (sessions.Count == MaxSessions)
                {
                    await output.WriteLineAsync($"The {MaxSessions} most recently active sessions; use --since to look at a shorter period.");
                }

                return 0;
            }

            console.Write(BuildTable(Title(grouping ?? "key"), first, total));
            if (grouping is null)
            {
                console.Write(BuildTable("Model", await store.GetUsageTotalsAsync(filter, UsageGrouping.Model, ct), total));
            }

            if (total.UnpricedRequests > 0)
            {
                await output.WriteLineAsync($"{N(total.UnpricedRequests)} of {N(total.Requests)} requests unpriced (no price was known for their model; "
                    + "see `relay prices`): a cost marked * leaves them out, - means nothing was priced.");
            }

            return 0;
        }));
        return command;
    }

    private static UsageGrouping Grouping(string name) => name switch
    {
        "user" => UsageGrouping.User,
        "model" => UsageGrouping.Model,
        "day" => UsageGrouping.Day,
        "provider" => UsageGrouping.Provider,
        _ => UsageGrouping.Key,
    };

    private static string Title(string name) => name == "day" ? "Day (UTC)" : char.ToUpperInvariant(name[0]) + name[1..];

    private static Table BuildTable(string groupTitle, IReadOnlyList<UsageGroupTotals> rows, UsageGroupTotals total)
    {
        // Server-tool calls are rare; their column appears only when there are some.
        var tools = total.ServerToolUses > 0;
        var table = new Table().AddColumns(groupTitle, "Requests", "Errors", "Input", "Output", "Cache write 5m", "Cache write 1h", "Cache read");
        if (tools)
        {
            table.AddColumn("Server tools");
        }

        table.AddColumn("Cost");
        foreach (var column in table.Columns.Skip(1))
        {
            column.RightAligned();
        }

        foreach (var row in rows)
        {
            AddRow(table, Markup.Escape(row.Group), row, tools);
        }

        AddRow(table, "[bold]Total[/]", total, tools);
        return table;
    }

    private static void AddRow(Table table, string label, UsageGroupTotals t, bool tools)
    {
        List<string> cells = [label, N(t.Requests), N(t.Errors), N(t.InputTokens), N(t.OutputTokens), N(t.CacheWrite5mTokens),
            N(t.CacheWrite1hTokens), N(t.CacheReadTokens)];
        if (tools)
        {
            cells.Add(N(t.ServerToolUses));
        }

        // A group with nothing priced has no cost to show, not a cost of zero.
        cells.Add(t.UnpricedRequests == t.Requests ? "-" : Usd.Format(t.CostNanos) + (t.UnpricedRequests > 0 ? "*" : ""));
        table.AddRow([.. cells]);
    }

    private static Table BuildSessionTable(IReadOnlyList<SessionUsage> sessions, UsageGroupTotals total)
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
            N(total.CacheWrite5mTokens + total.CacheWrite1hTokens), N(total.CacheReadTokens));
        return table;
    }

    private static string N(long value) => value.ToString("N0", CultureInfo.InvariantCulture);
}
