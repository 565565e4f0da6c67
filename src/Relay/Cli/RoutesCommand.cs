using System.CommandLine;
using System.Globalization;
using System.Net.Http.Json;
using Relay.Configuration;
using Relay.Endpoints;
using Relay.Hosting;
using Spectre.Console;

namespace Relay.Cli;

/// <summary><c>relay routes</c>: asks a running Relay for the health of each route.</summary>
internal static class RoutesCommand
{
    public static Command Create()
    {
        var config = CliOptions.Config();
        var url = new Option<string?>("--url") { Description = "The Relay to ask (default: the config's first listen URL and basePath)." };
        var adminKey = new Option<string?>("--admin-key") { Description = "The admin key (default: the config's adminKey, then RELAY_ADMIN_KEY)." };
        var command = new Command("routes", "Show each route's state: healthy or open circuit, recent error rate, p50 latency.") { config, url, adminKey };
        command.SetAction((parse, ct) => CliOptions.GuardAsync(parse, async output =>
        {
            var relayConfig = CliOptions.LoadForManagement(parse.GetValue(config)!);
            var baseUrl = parse.GetValue(url)?.TrimEnd('/') ?? Banner.ClientBaseUrl(relayConfig.Listen[0]) + relayConfig.BasePath;
            var key = parse.GetValue(adminKey) ?? AdminKey.Resolve(relayConfig);
            var error = parse.InvocationConfiguration.Error;
            if (string.IsNullOrEmpty(key))
            {
                await error.WriteLineAsync("relay: no admin key: pass --admin-key, set adminKey in the config, or RELAY_ADMIN_KEY.");
                return 2;
            }

            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
            http.DefaultRequestHeaders.Add("x-api-key", key);
            HttpResponseMessage response;
            try
            {
                response = await http.GetAsync($"{baseUrl}/v1/routes", ct);
            }
            catch (HttpRequestException ex)
            {
                await error.WriteLineAsync($"relay: cannot reach Relay at {baseUrl}: {ex.Message}");
                return 1;
            }

            using (response)
            {
                if (!response.IsSuccessStatusCode)
                {
                    await error.WriteLineAsync($"relay: {baseUrl}/v1/routes answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(ct)}");
                    return 1;
                }

                var list = await response.Content.ReadFromJsonAsync(RelayJsonContext.Default.RouteStatusList, ct);
                var table = new Table().AddColumns("Route", "Models", "State", "Requests", "Error rate", "p50", "In flight", "Last error", "Learned corrections");
                foreach (var r in list?.Routes ?? [])
                {
                    table.AddRow(Markup.Escape(r.Route), Markup.Escape(string.Join(", ", r.Models)), StateMarkup(r), N(r.Requests),
                        (r.RecentErrorRate * 100).ToString("F0", CultureInfo.InvariantCulture) + "%", r.P50Ms is { } p50 ? $"{p50:F0} ms" : "-",
                        N(r.InFlight), Markup.Escape(r.LastError ?? ""), Markup.Escape(string.Join("; ", r.Corrections)));
                }

                TableOutput.For(output).Write(table);
                if (list?.Unauthenticated is { Requests: > 0 } strangers)
                {
                    await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                        $"Requests without a valid key: {strangers.Requests} ({strangers.RateLimited} answered 429), from {strangers.Addresses} address(es) seen recently."));
                }

                return 0;
            }
        }));
        return command;
    }

    private static string StateMarkup(RouteStatus r) => r.State switch
    {
        "healthy" => "[green]healthy[/]",
        "open" => $"[red]open[/] until {r.OpenUntil?.ToLocalTime():HH:mm:ss}",
        "half_open" => "[yellow]half-open[/]",
        _ => $"[red]{Markup.Escape(r.State)}[/]",
    };

    private static string N(long value) => value.ToString("N0", CultureInfo.InvariantCulture);
}
