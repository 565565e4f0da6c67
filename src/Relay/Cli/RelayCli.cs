using System.CommandLine;

namespace Relay.Cli;

/// <summary>The <c>relay</c> command line: serve, keys, users, usage, prices, routes, migrate, setup, doctor, bridge, cert.</summary>
internal static class RelayCli
{
    public static RootCommand CreateRootCommand()
    {
        var root = new RootCommand("Relay: a self-hosted gateway that serves the Anthropic Messages API from any provider.");
        root.Subcommands.Add(ServeCommand.Create());
        root.Subcommands.Add(KeysCommands.Create());
        root.Subcommands.Add(UsersCommands.Create());
        root.Subcommands.Add(UsageCommand.Create());
        root.Subcommands.Add(PricesCommand.Create());
        root.Subcommands.Add(RoutesCommand.Create());
        root.Subcommands.Add(MigrateCommand.Create());
        root.Subcommands.Add(SetupCommands.Create());
        root.Subcommands.Add(DoctorCommand.Create());
        root.Subcommands.Add(BridgeCommand.Create());
        root.Subcommands.Add(CertCommand.Create());
        return root;
    }

    public static Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken = default)
    {
        var configuration = new InvocationConfiguration
        {
            Output = output,
            Error = error,
            // The web host handles Ctrl-C itself and must be left time to finish streams and flush usage records.
            ProcessTerminationTimeout = null,
        };
        return CreateRootCommand().Parse(args).InvokeAsync(configuration, cancellationToken);
    }
}
