using System.CommandLine;
using Relay.Configuration;
using Relay.Storage;
using Relay.Hosting;

namespace Relay.Cli;

/// <summary>Options and helpers the commands share.</summary>
internal static class CliOptions
{
    public static Option<string> Config() => new("--config", "-c")
    {
        Description = "The config file (default: relay.json in the current folder).",
        DefaultValueFactory = _ => RelayDefaults.ConfigFile,
    };

    /// <summary>Loads the config for a management command; without a file the defaults apply (relay.db here).</summary>
    public static RelayConfig LoadForManagement(string path) =>
        File.Exists(path) ? ConfigLoader.Load(path) : new RelayConfig { SourcePath = Path.GetFullPath(path) };

    /// <summary>The store the config names (SQLite or PostgreSQL), migrated.</summary>
    public static Task<IRelayStore> OpenStoreAsync(RelayConfig config, CancellationToken cancellationToken) =>
        StoreFactory.OpenAsync(config, cancellationToken);

    /// <summary>Runs a command body, turning config problems into a message and exit code 2.</summary>
    public static async Task<int> GuardAsync(ParseResult parse, Func<TextWriter, Task<int>> body)
    {
        var error = parse.InvocationConfiguration.Error;
        try
        {
            return await body(parse.InvocationConfiguration.Output);
        }
        catch (ConfigException ex)
        {
            await error.WriteLineAsync($"relay: invalid configuration: {ex.Message}");
            return 2;
        }
        catch (Npgsql.NpgsqlException ex)
        {
            // Npgsql's message names the server and the reason (never the password); a stack trace would say no more.
            await error.WriteLineAsync($"relay: the PostgreSQL store failed: {ex.Message}{(ex.InnerException is { } inner ? $" ({inner.Message})" : "")}");
            return 1;
        }
        catch (IOException ex) when (ex.Message.Contains("bind", StringComparison.OrdinalIgnoreCase))
        {
            // Kestrel's "Failed to bind to address …: address already in use": a message, not a stack trace.
            await error.WriteLineAsync($"relay: cannot listen: {ex.Message} Is another Relay (or another program) using that port? Use --listen to pick another.");
            return 1;
        }
    }
}
