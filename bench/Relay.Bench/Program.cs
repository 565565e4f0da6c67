using System.CommandLine;
using Relay.Bench.Load;
using Relay.Bench.Report;
using Relay.Bench.Soak;
using Relay.Bench.Upstream;

var root = new RootCommand("Relay benchmark harness: a fake Anthropic upstream, a load client, a report over their results, and a soak.");
root.Subcommands.Add(UpstreamCommand.Create());
root.Subcommands.Add(LoadCommand.Create());
root.Subcommands.Add(ReportCommand.Create());
root.Subcommands.Add(SoakCommand.Create());
return await root.Parse(args).InvokeAsync();
