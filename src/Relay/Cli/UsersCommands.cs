using System.CommandLine;
using Relay.Storage.Accounts;
using Spectre.Console;

namespace Relay.Cli;

/// <summary><c>relay users create|topup|list</c>: the people or teams keys belong to, and their prepaid balances.</summary>
internal static class UsersCommands
{
    public static Command Create()
    {
        var users = new Command("users", "Manage users: a user's keys share the user's balance.");
        users.Subcommands.Add(CreateCommand());
        users.Subcommands.Add(TopUpCommand());
        users.Subcommands.Add(ListCommand());
        return users;
    }

    private static Command CreateCommand()
    {
        var config = CliOptions.Config();
        var name = new Argument<string>("name") { Description = "A name to know the user by." };
        var balance = new Option<string?>("--balance")
        {
            HelpName = "USD",
            Description = "A prepaid balance in US dollars (25, 7.50): requests are refused once it is spent. Without it the user is not prepaid and spend is only counted.",
        };
        var command = new Command("create", "Create a user; give keys to it with `relay keys create --user NAME`.") { name, balance, config };
        command.SetAction((parse, ct) => CliOptions.GuardAsync(parse, async output =>
        {
            var error = parse.InvocationConfiguration.Error;
            var userName = parse.GetValue(name)!.Trim();
            if (userName.Length == 0 || KeyLimitOptions.IsNone(userName))
            {
                await error.WriteLineAsync("relay: a user needs a name (and none is not one).");
                return 2;
            }

            long? nanos = null;
            if (parse.GetValue(balance) is { } text)
            {
                if (!KeyLimitOptions.TryParseUsd(text, allowNegative: false, out var amount))
                {
                    await error.WriteLineAsync($"relay: --balance: '{text}' is not an amount of US dollars such as 25 or 7.50.");
                    return 2;
                }

                nanos = amount;
            }

            await using var store = await CliOptions.OpenStoreAsync(CliOptions.LoadForManagement(parse.GetValue(config)!), ct);
            try
            {
                await store.CreateUserAsync(userName, nanos, ct);
            }
            catch (DuplicateUserNameException ex)
            {
                await error.WriteLineAsync($"relay: {ex.Message}");
                return 1;
            }

            await output.WriteLineAsync(nanos is { } b
                ? $"Created user \"{userName}\" with a balance of {Usd.Format(b)}."
                : $"Created user \"{userName}\" (not prepaid: spend is counted, not limited; `relay users topup` makes it prepaid).");
            return 0;
        }));
        return command;
    }

    private static Command TopUpCommand()
    {
        var config = CliOptions.Config();
        var name = new Argument<string>("name") { Description = "The user to top up." };
        var amount = new Argument<string>("usd")
        {
            Description = "US dollars to add (25, 7.50); a negative amount (-5) takes away, to correct a mistake.",
        };
        var command = new Command("topup", "Add to a user's balance (a user who was not prepaid becomes prepaid). A negative amount takes away.") { name, amount, config };
        command.SetAction((parse, ct) => CliOptions.GuardAsync(parse, async output =>
        {
            var error = parse.InvocationConfiguration.Error;
            var text = parse.GetValue(amount)!;
            if (!KeyLimitOptions.TryParseUsd(text, allowNegative: true, out var nanos))
            {
                await error.WriteLineAsync($"relay: '{text}' is not an amount of US dollars such as 25, 7.50 or -5.");
                return 2;
            }

            await using var store = await CliChangeFeed.OpenStoreAsync(CliOptions.LoadForManagement(parse.GetValue(config)!), ct);
            var userName = parse.GetValue(name)!;
            if (await store.TopUpAsync(userName, nanos, ct) is not { } user)
            {
                await error.WriteLineAsync($"relay: no user is named \"{userName}\" (see `relay users list`).");
                return 1;
            }

            await output.WriteLineAsync($"{(nanos < 0 ? "Took" : "Added")} {Usd.Format(Math.Abs(nanos))} {(nanos < 0 ? "from" : "to")} \"{user.Name}\"; the balance is now {Usd.Format(user.BalanceNanos ?? 0)}.");
            return 0;
        }));
        return command;
    }

    private static Command ListCommand()
    {
        var config = CliOptions.Config();
        var command = new Command("list", "List users with balance, spend, money held for running requests, and active keys.") { config };
        command.SetAction((parse, ct) => CliOptions.GuardAsync(parse, async output =>
        {
            await using var store = await CliOptions.OpenStoreAsync(CliOptions.LoadForManagement(parse.GetValue(config)!), ct);
            var users = await store.ListUsersAsync(ct);
            if (users.Count == 0)
            {
                await output.WriteLineAsync("No users. Create one with: relay users create NAME [--balance USD]");
                return 0;
            }

            var table = new Table().AddColumns("Name", "Balance", "Spent", "Reserved", "Keys", "Created");
            foreach (var column in table.Columns.Skip(1).Take(4))
            {
                column.RightAligned();
            }

            foreach (var u in users)
            {
                table.AddRow(
                    Markup.Escape(u.Name),
                    u.BalanceNanos is { } balance ? Usd.Format(balance) : "not prepaid",
                    Usd.Format(u.SpentNanos),
                    Usd.Format(u.ReservedNanos),
                    u.Keys.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    KeyDescriptions.LocalTime(u.CreatedAt));
            }

            TableOutput.For(output).Write(table);
            return 0;
        }));
        return command;
    }
}
