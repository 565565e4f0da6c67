using System.CommandLine;
using System.Text.Json;
using Relay.Diagnostics;
using Relay.Hosting;

namespace Relay.Cli;

/// <summary><c>relay doctor URL</c>: is this gateway usable by Claude Code and Claude Desktop, and if not, why.
/// <c>relay doctor --store</c>: does the store relay.json names answer, with the schema this Relay writes.</summary>
internal static class DoctorCommand
{
    /// <summary>Writes "…" and backticks as themselves: the report is read by people and scripts, never embedded in HTML.</summary>
    private static readonly DoctorJsonContext ReadableJson = new(new JsonSerializerOptions(DoctorJsonContext.Default.Options) { Encoder = Protocol.Json.ProtocolJson.Encoder });

    public static Command Create()
    {
        var url = new Argument<string?>("url")
        {
            Description = "The gateway's base URL, exactly as you would give it to the client.",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var store = new Option<bool>("--store") { Description = "Check the store the config names (SQLite or PostgreSQL) instead: it answers, its schema is current." };
        var config = CliOptions.Config();
        var key = new Option<string?>("--key") { Description = "The gateway key to test with (shown only masked)." };
        var model = new Option<string?>("--model") { Description = "The model to send test messages to (default: the first one the gateway lists)." };
        var json = new Option<bool>("--json") { Description = "Print the report as JSON." };
        var timeout = new Option<int>("--timeout") { Description = "Seconds to wait for each request.", DefaultValueFactory = _ => 30 };
        var command = new Command("doctor", "Check a gateway (Relay or any other) and say whether Claude Code and Claude Desktop would work with it. Exit code 1 when one would not.")
        {
            url, key, model, json, timeout, store, config,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var output = parse.InvocationConfiguration.Output;
            if (parse.GetValue(store))
            {
                return await CliOptions.GuardAsync(parse, _ => CheckStoreAsync(parse.GetValue(config)!, parse.GetValue(json), output, cancellationToken));
            }

            if (parse.GetValue(url) is null)
            {
                await parse.InvocationConfiguration.Error.WriteLineAsync("relay doctor: give the gateway's URL, or --store to check the store.");
                return 2;
            }

            var options = new DoctorOptions(parse.GetValue(url)!, parse.GetValue(key), parse.GetValue(model), TimeSpan.FromSeconds(Math.Clamp(parse.GetValue(timeout), 1, 3600)));
            var report = await new GatewayDoctor(options).RunAsync(cancellationToken);
            if (parse.GetValue(json))
            {
                await output.WriteLineAsync(JsonSerializer.Serialize(report, ReadableJson.DoctorReport));
            }
            else
            {
                await WriteAsync(output, report);
            }

            return report.AnyClientFails ? 1 : 0;
        });
        return command;
    }

    private static async Task<int> CheckStoreAsync(string configPath, bool json, TextWriter output, CancellationToken cancellationToken)
    {
        var config = CliOptions.LoadForManagement(configPath);
        await using var store = StoreFactory.Create(config);
        var report = await StoreDoctor.RunAsync(config, store, cancellationToken);
        if (json)
        {
            await output.WriteLineAsync(JsonSerializer.Serialize(report, ReadableJson.StoreDoctorReport));
        }
        else
        {
            await output.WriteLineAsync($"relay doctor --store: {report.Store}");
            await output.WriteLineAsync();
            await WriteChecksAsync(output, report.Checks);
        }

        return report.AnyFails ? 1 : 0;
    }

    private static async Task WriteAsync(TextWriter output, DoctorReport report)
    {
        await output.WriteLineAsync($"relay doctor {report.Url}{(report.Key is null ? " (no key given)" : $" with key {report.Key}")}");
        await output.WriteLineAsync();
        await WriteChecksAsync(output, report.Checks);
        await output.WriteLineAsync();
        foreach (var verdict in new[] { report.ClaudeCode, report.ClaudeDesktop })
        {
            var word = verdict.Verdict switch
            {
                Verdict.Works => "works",
                Verdict.WorksWithWarnings => "works, with warnings",
                _ => "FAILS",
            };
            await output.WriteLineAsync($"{verdict.Client + ":",-16} {word}{(verdict.Problems.Count == 0 ? "" : " (" + string.Join("; ", verdict.Problems) + ")")}");
            foreach (var fix in verdict.Fixes)
            {
                await output.WriteLineAsync($"{"",-16}   fix: {fix}");
            }
        }
    }

    private static async Task WriteChecksAsync(TextWriter output, IReadOnlyList<DoctorCheck> checks)
    {
        foreach (var check in checks)
        {
            var mark = check.Status switch
            {
                CheckStatus.Pass => " ok ",
                CheckStatus.Warn => "WARN",
                CheckStatus.Fail => "FAIL",
                _ => "skip",
            };
            await output.WriteLineAsync($"  [{mark}] {check.Title,-28} {check.Detail}");
            if (check.Fix is not null && check.Status is CheckStatus.Warn or CheckStatus.Fail)
            {
                await output.WriteLineAsync($"         {"",-28} fix: {check.Fix}");
            }
        }
    }
}
