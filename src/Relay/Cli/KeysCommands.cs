using System.CommandLine;
using System.Globalization;
using Relay.Auth;
using Relay.Storage;
using Spectre.Console;

namespace Relay.Cli;

/// <summary><c>relay keys create|list|revoke</c>.</summary>
internal static class KeysCommands
{
    public static Command Create()
    {
        var keys = new Command("keys", "Manage the API keys clients use to call Relay.");
        keys.Subcommands.Add(CreateCommand());
        keys.Subcommands.Add(ListCommand());
        keys.Subcommands.Add(RevokeCommand());
        return keys;
    }

    private static Command CreateCommand()
    {
        var config = CliOptions.Config();
        var name = new Option<string>("--name", "-n") { Description = "A name to know the key by (a person, a machine, a team).", Required = true };
        var command = new Command("create", "Create a key. The key is printed once, alone on the last line.") { name, config };
        command.SetAction((parse, ct) => CliOptions.GuardAsync(parse, async output =>
        {
            var keyName = parse.GetValue(name)!.Trim();
            if (keyName.Length == 0)
            {
                await parse.InvocationConfiguration.Error.WriteLineAsync("relay: --name must not be empty.");
                return 2;
            }

            await using var store = await CliOptions.OpenStoreAsync(CliOptions.LoadForManagement(parse.GetValue(config)!), ct);
            var key = ApiKeys.Generate();
            try
            {
                await store.CreateKeyAsync(keyName, ApiKeys.Hash(key), ApiKeys.DisplayPrefix(key), ct);
            }
            catch (DuplicateKeyNameException ex)
            {
                await parse.InvocationConfiguration.Error.WriteLineAsync($"relay: {ex.Message}");
                return 1;
            }

            await output.WriteLineAsync($"Created key \"{keyName}\" in {store.Description}. Store it now: Relay keeps only its hash.");
            await output.WriteLineAsync(key);
            return 0;
        }));
        return command;
    }

    private static Command ListCommand()
    {
        var config = CliOptions.Config();
        var all = new Option<bool>("--all") { Description = "Include revoked keys." };
        var command = new Command("list", "List keys (never the keys themselves).") { config, all };
        command.SetAction((parse, ct) => CliOptions.GuardAsync(parse, async output =>
        {
            await using var store = await CliOptions.OpenStoreAsync(CliOptions.LoadForManagement(parse.GetValue(config)!), ct);
            var keys = await store.ListKeysAsync(parse.GetValue(all), ct);
            if (keys.Count == 0)
            {
                await output.WriteLineAsync("No keys. Create one with: relay keys create --name NAME");
                return 0;
            }

            var table = new Table().AddColumns("Name", "Key", "Created", "Last used", "Status");
            foreach (var k in keys)
            {
                table.AddRow(Markup.Escape(k.Name), Markup.Escape(k.DisplayPrefix), Format(k.CreatedAt), k.LastUsedAt is { } used ? Format(used) : "never",
                    k.RevokedAt is { } revoked ? $"revoked {Format(revoked)}" : "active");
            }

            TableOutput.For(output).Write(table);
            return 0;
        }));
        return command;
    }

    private static Command RevokeCommand()
    {
        var config = CliOptions.Config();
        var name = new Argument<string>("name") { Description = "The name of the key to revoke." };
        var command = new Command("revoke", "Revoke a key; requests with it fail with 401 from then on.") { name, config };
        command.SetAction((parse, ct) => CliOptions.GuardAsync(parse, async output =>
        {
            await using var store = await CliOptions.OpenStoreAsync(CliOptions.LoadForManagement(parse.GetValue(config)!), ct);
            var keyName = parse.GetValue(name)!;
            if (!await store.RevokeKeyAsync(keyName, ct))
            {
                await parse.InvocationConfiguration.Error.WriteLineAsync($"relay: no active key is named \"{keyName}\" (see `relay keys list`).");
                return 1;
            }

            await output.WriteLineAsync($"Revoked key \"{keyName}\".");
            return 0;
        }));
        return command;
    }

    private static string Format(DateTimeOffset time) => time.ToLocalTime().ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture);
}
