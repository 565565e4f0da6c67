using System.CommandLine;
using Relay.Auth;
using Relay.Storage;
using Relay.Storage.Accounts;
using Spectre.Console;

namespace Relay.Cli;

/// <summary><c>relay keys create|list|update|disable|enable|revoke</c>.</summary>
internal static class KeysCommands
{
    public static Command Create()
    {
        var keys = new Command("keys", "Manage the API keys clients use to call Relay, and what each may do.");
        keys.Subcommands.Add(CreateCommand());
        keys.Subcommands.Add(ListCommand());
        keys.Subcommands.Add(UpdateCommand());
        keys.Subcommands.Add(DisableCommand(disable: true));
        keys.Subcommands.Add(DisableCommand(disable: false));
        keys.Subcommands.Add(RevokeCommand());
        return keys;
    }

    private static Command CreateCommand()
    {
        var config = CliOptions.Config();
        var name = new Option<string>("--name", "-n") { Description = "A name to know the key by (a person, a machine, a team).", Required = true };
        var limits = new KeyLimitCliOptions();
        var command = new Command("create", "Create a key, with a user and limits if given. The key is printed once, alone on the last line.") { name, config };
        limits.AddTo(command);
        command.SetAction((parse, ct) => CliOptions.GuardAsync(parse, async output =>
        {
            var error = parse.InvocationConfiguration.Error;
            var keyName = parse.GetValue(name)!.Trim();
            if (keyName.Length == 0)
            {
                await error.WriteLineAsync("relay: --name must not be empty.");
                return 2;
            }

            if (!limits.TryApply(parse, DateTimeOffset.UtcNow, KeyLimits.None, null, out var keyLimits, out var user, out var invalid))
            {
                await error.WriteLineAsync($"relay: {invalid}");
                return 2;
            }

            await using var store = await CliOptions.OpenStoreAsync(CliOptions.LoadForManagement(parse.GetValue(config)!), ct);
            var key = ApiKeys.Generate();
            try
            {
                await store.CreateKeyAsync(new NewApiKey(keyName, ApiKeys.Hash(key), ApiKeys.DisplayPrefix(key)) { UserName = user, Limits = keyLimits }, ct);
            }
            catch (Exception ex) when (ex is DuplicateKeyNameException or UnknownUserException)
            {
                await error.WriteLineAsync($"relay: {ex.Message}");
                return 1;
            }

            await output.WriteLineAsync($"Created key \"{keyName}\" in {store.Description}. Store it now: Relay keeps only its hash.");
            if (user is not null || keyLimits != KeyLimits.None)
            {
                await output.WriteLineAsync(Summary(user, keyLimits));
            }

            await output.WriteLineAsync(key);
            return 0;
        }));
        return command;
    }

    private static Command ListCommand()
    {
        var config = CliOptions.Config();
        var all = new Option<bool>("--all") { Description = "Include revoked keys." };
        var command = new Command("list", "List keys (never the keys themselves) with status, user, limits, spend and budget left.") { config, all };
        command.SetAction((parse, ct) => CliOptions.GuardAsync(parse, async output =>
        {
            await using var store = await CliOptions.OpenStoreAsync(CliOptions.LoadForManagement(parse.GetValue(config)!), ct);
            var keys = await store.ListKeysAsync(parse.GetValue(all), ct);
            if (keys.Count == 0)
            {
                await output.WriteLineAsync("No keys. Create one with: relay keys create --name NAME");
                return 0;
            }

            var now = DateTimeOffset.UtcNow;
            var table = new Table().AddColumns("Name", "Key", "User", "Status", "Limits", "Spent", "Budget", "Last used");
            foreach (var k in keys)
            {
                table.AddRow(
                    Markup.Escape(k.Name),
                    Markup.Escape(k.DisplayPrefix),
                    Markup.Escape(k.UserName ?? "-"),
                    KeyDescriptions.Status(k, now),
                    Markup.Escape(KeyDescriptions.Limits(k.Limits)),
                    Usd.Format(k.SpentNanos),
                    KeyDescriptions.Budget(k),
                    k.LastUsedAt is { } used ? KeyDescriptions.LocalTime(used) : "never");
            }

            // Limits make rows long; piped output keeps each key on one line.
            TableOutput.For(output, pipedWidth: 400).Write(table);
            return 0;
        }));
        return command;
    }

    private static Command UpdateCommand()
    {
        var config = CliOptions.Config();
        var name = new Argument<string>("name") { Description = "The name of the key to change." };
        var limits = new KeyLimitCliOptions();
        var command = new Command("update", "Change a key's user and limits: only the options given change; none clears one (never for --expires).") { name, config };
        limits.AddTo(command);
        command.SetAction((parse, ct) => CliOptions.GuardAsync(parse, async output =>
        {
            var error = parse.InvocationConfiguration.Error;
            var keyName = parse.GetValue(name)!;
            if (!limits.AnyGiven(parse))
            {
                await error.WriteLineAsync("relay: nothing to change; give at least one option (see `relay keys update --help`).");
                return 2;
            }

            await using var store = await CliChangeFeed.OpenStoreAsync(CliOptions.LoadForManagement(parse.GetValue(config)!), ct);
            if (await store.FindKeyAsync(keyName, ct) is not { } current)
            {
                await error.WriteLineAsync(NoSuchKey(keyName));
                return 1;
            }

            if (!limits.TryApply(parse, DateTimeOffset.UtcNow, current.Limits, current.UserName, out var keyLimits, out var user, out var invalid))
            {
                await error.WriteLineAsync($"relay: {invalid}");
                return 2;
            }

            ApiKeyInfo? updated;
            try
            {
                updated = await store.UpdateKeyAsync(keyName, keyLimits, user, ct);
            }
            catch (UnknownUserException ex)
            {
                await error.WriteLineAsync($"relay: {ex.Message}");
                return 1;
            }

            if (updated is null)
            {
                await error.WriteLineAsync(NoSuchKey(keyName));
                return 1;
            }

            await output.WriteLineAsync($"Updated key \"{keyName}\". {Summary(updated.UserName, updated.Limits)}");
            return 0;
        }));
        return command;
    }

    private static Command DisableCommand(bool disable)
    {
        var config = CliOptions.Config();
        var name = new Argument<string>("name") { Description = disable ? "The name of the key to disable." : "The name of the key to enable." };
        var command = disable
            ? new Command("disable", "Disable a key: requests with it fail with 401 until it is enabled again. Its limits and spend are kept.") { name, config }
            : new Command("enable", "Enable a disabled key again.") { name, config };
        command.SetAction((parse, ct) => CliOptions.GuardAsync(parse, async output =>
        {
            await using var store = await CliChangeFeed.OpenStoreAsync(CliOptions.LoadForManagement(parse.GetValue(config)!), ct);
            var keyName = parse.GetValue(name)!;
            if (!await store.SetKeyDisabledAsync(keyName, disable, ct))
            {
                await parse.InvocationConfiguration.Error.WriteLineAsync(NoSuchKey(keyName));
                return 1;
            }

            await output.WriteLineAsync(disable
                ? $"Disabled key \"{keyName}\"; enable it again with: relay keys enable {keyName}"
                : $"Enabled key \"{keyName}\".");
            return 0;
        }));
        return command;
    }

    private static Command RevokeCommand()
    {
        var config = CliOptions.Config();
        var name = new Argument<string>("name") { Description = "The name of the key to revoke." };
        var command = new Command("revoke", "Revoke a key for good; requests with it fail with 401 from then on.") { name, config };
        command.SetAction((parse, ct) => CliOptions.GuardAsync(parse, async output =>
        {
            await using var store = await CliChangeFeed.OpenStoreAsync(CliOptions.LoadForManagement(parse.GetValue(config)!), ct);
            var keyName = parse.GetValue(name)!;
            if (!await store.RevokeKeyAsync(keyName, ct))
            {
                await parse.InvocationConfiguration.Error.WriteLineAsync(NoSuchKey(keyName));
                return 1;
            }

            await output.WriteLineAsync($"Revoked key \"{keyName}\".");
            return 0;
        }));
        return command;
    }

    private static string Summary(string? user, KeyLimits limits) =>
        $"User: {user ?? "none"}. Limits: {KeyDescriptions.Limits(limits)}. Budget: "
        + (limits.BudgetNanos is not { } budget ? "none"
            : limits.BudgetPeriod == BudgetPeriod.Total ? $"{Usd.Format(budget)} in total"
            : $"{Usd.Format(budget)} per {BudgetPeriods.Name(limits.BudgetPeriod)}") + ".";

    private static string NoSuchKey(string name) => $"relay: no active key is named \"{name}\" (see `relay keys list`).";
}
