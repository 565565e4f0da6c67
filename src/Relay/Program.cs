using Relay.Cli;

return await RelayCli.RunAsync(args, Console.Out, Console.Error);
