using System.CommandLine;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Relay.Auth;
using Relay.Configuration;
using Relay.Hosting;
using Relay.Storage;

namespace Relay.Cli;

/// <summary><c>relay serve</c>: first run writes a working config and a key; every run prints how to connect.</summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var config = CliOptions.Config();
        var listen = new Option<string?>("--listen", "-l") { Description = "Listen on this URL instead of the config's, e.g. http://127.0.0.1:9000." };
        var command = new Command("serve", "Start Relay.") { config, listen };
        command.SetAction((parse, cancellationToken) => CliOptions.GuardAsync(parse, output =>
            RunAsync(parse.GetValue(config)!, parse.GetValue(listen), output, cancellationToken)));
        return command;
    }

    private static async Task<int> RunAsync(string configPath, string? listen, TextWriter output, CancellationToken cancellationToken)
    {
        var fullPath = Path.GetFullPath(configPath);
        var created = false;
        if (!File.Exists(fullPath))
        {
            Directory.CreateDirectory(Path.GetDirectoryName(fullPath)!);
            await File.WriteAllTextAsync(fullPath, DefaultConfigFile.Text, cancellationToken);
            created = true;
        }

        var config = ConfigLoader.Load(fullPath);
        if (listen is not null)
        {
            config.Listen = [listen];
            ConfigValidator.Validate(config, $"{fullPath} (with --listen)");
        }

        await using var store = await CliOptions.OpenStoreAsync(config, cancellationToken);
        string? newKey = null;
        if (await store.CountActiveKeysAsync(cancellationToken) == 0)
        {
            newKey = ApiKeys.Generate();
            await store.CreateKeyAsync("default", ApiKeys.Hash(newKey), ApiKeys.DisplayPrefix(newKey), cancellationToken);
        }

        await using var app = RelayApp.Build(config, store);
        await app.StartAsync(cancellationToken);
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.ToArray() ?? [];
        var warnings = StartupWarnings.For(config, addresses, await store.CountActiveKeysAsync(cancellationToken), TimeProvider.System);
        await Banner.WriteAsync(output, config, store.Description, created, addresses, newKey, warnings);
        await app.WaitForShutdownAsync(CancellationToken.None);
        return 0;
    }
}
