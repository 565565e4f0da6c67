using System.CommandLine;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Relay.Clients;
using Relay.Configuration;
using Relay.Hosting;
using Relay.Routing;
using Relay.Storage.Memory;

namespace Relay.Cli;

/// <summary>
/// <c>relay bridge --to URL</c>: the loopback forwarder people write by hand, done with Relay's own engine. Claude
/// Desktop accepts plain HTTP only on loopback, so a bridge on 127.0.0.1 lets it use a plain-HTTP gateway elsewhere.
/// </summary>
/// <remarks>
/// It is <c>relay serve</c> (<see cref="RelayApp"/>) with a config built here: one <c>passthrough</c> provider and one
/// route <c>* → remote/*</c>, so bodies reach the remote byte for byte (model name included), the client's own key
/// goes with them, streams are copied as they arrive, and <c>/v1/models</c> is the remote's. Nothing is written to
/// disk: a bridge has no keys and keeps usage in memory only.
/// </remarks>
internal static class BridgeCommand
{
    public const string DefaultListen = "http://127.0.0.1:18080";
    public const string ProviderName = "remote";

    public static Command Create()
    {
        var to = new Option<string>("--to") { Description = "The gateway to forward to, such as http://10.0.0.5:3000 (its root, without /v1).", Required = true };
        var listen = new Option<string>("--listen", "-l") { Description = "Where the bridge listens.", DefaultValueFactory = _ => DefaultListen };
        var timeout = new Option<int>("--timeout") { Description = "Seconds to wait for the remote to start answering, and between pieces of a stream.", DefaultValueFactory = _ => RelayDefaults.TimeoutSeconds };
        var command = new Command("bridge", "Forward a local address to another gateway, unchanged and streaming (for Claude Desktop, which takes plain HTTP only on loopback).")
        {
            to, listen, timeout,
        };
        command.SetAction((parse, cancellationToken) => CliOptions.GuardAsync(parse, async output =>
        {
            if (!GatewayUrl.TryParse(parse.GetValue(to)!, out var remote, out var error))
            {
                await parse.InvocationConfiguration.Error.WriteLineAsync($"relay: --to: {error}");
                return 2;
            }

            var config = CreateConfig(remote.Value, parse.GetValue(listen)!, parse.GetValue(timeout));
            await using var store = new MemoryRelayStore();
            await using var app = RelayApp.Build(config, store);
            await app.StartAsync(cancellationToken);
            var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.ToArray() ?? [];
            var local = Banner.ClientBaseUrl(addresses.FirstOrDefault() ?? config.Listen[0]);
            await output.WriteLineAsync($"Relay {typeof(BridgeCommand).Assembly.GetName().Version?.ToString(3)} bridge: {string.Join(", ", addresses)} -> {remote}");
            await Banner.WriteWarningsAsync(output, StartupWarnings.For(config, addresses, 0, TimeProvider.System));
            await output.WriteLineAsync("  Requests go on unchanged (body, model name, the client's own key); answers stream back as they arrive.");
            await output.WriteLineAsync($"  Claude Desktop: Gateway base URL {local}, the remote gateway's key, auth scheme bearer.");
            await output.WriteLineAsync($"  Claude Code:    relay setup claude-code --url {local} --key <the remote gateway's key>");
            await output.WriteLineAsync("  One line per request follows. Press Ctrl+C to stop.");
            await app.WaitForShutdownAsync(CancellationToken.None);
            return 0;
        }));
        return command;
    }

    /// <summary>The whole bridge: a passthrough provider and a route that keeps the client's model.</summary>
    /// <exception cref="ConfigException">The listen URL is not usable.</exception>
    public static RelayConfig CreateConfig(string remote, string listen, int timeoutSeconds)
    {
        var config = new RelayConfig
        {
            Listen = [listen],
            BridgeProvider = ProviderName,
        };
        config.Providers[ProviderName] = new ProviderConfig
        {
            Type = "anthropic",
            BaseUrl = remote,
            ApiKey = RelayDefaults.PassthroughKey,
            TimeoutSeconds = timeoutSeconds,
        };
        config.Models["*"] = new ModelConfig { Routes = [$"{ProviderName}/{RouteTarget.ClientModel}"] };
        ConfigValidator.Validate(config, "relay bridge");
        return config;
    }
}
