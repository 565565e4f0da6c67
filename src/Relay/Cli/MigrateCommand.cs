using System.CommandLine;
using Relay.Hosting;

namespace Relay.Cli;

/// <summary><c>relay migrate</c>: brings the store's schema to this Relay's version and says which it is. <c>relay
/// serve</c> does the same on start; this lets an operator do it first, once, before starting several instances.</summary>
internal static class MigrateCommand
{
    public static Command Create()
    {
        var config = CliOptions.Config();
        var command = new Command("migrate", "Apply the store's schema migrations (SQLite or PostgreSQL) and print its schema version.") { config };
        command.SetAction((parse, cancellationToken) => CliOptions.GuardAsync(parse, async output =>
        {
            var relayConfig = CliOptions.LoadForManagement(parse.GetValue(config)!);
            await using var store = StoreFactory.Create(relayConfig);
            var before = await store.GetSchemaVersionAsync(cancellationToken);
            await store.InitializeAsync(cancellationToken);
            var after = await store.GetSchemaVersionAsync(cancellationToken);
            var applied = after.Applied - before.Applied;
            await output.WriteLineAsync(applied > 0
                ? $"{store.Description}: schema version {after.Applied} (applied {applied} migration{(applied == 1 ? "" : "s")})."
                : $"{store.Description}: schema version {after.Applied}, already current.");
            return 0;
        }));
        return command;
    }
}
