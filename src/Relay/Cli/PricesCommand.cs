using System.CommandLine;
using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using Relay.Accounting;
using Relay.Hosting;
using Relay.Routing;
using Spectre.Console;

namespace Relay.Cli;

/// <summary><c>relay prices</c>: the prices in effect (admin-set, relay.json, shipped defaults), or which one a model gets.</summary>
internal static class PricesCommand
{
    public static Command Create()
    {
        var config = CliOptions.Config();
        var model = new Option<string?>("--model") { Description = "Show the price a request for this model name is billed at, and where it comes from." };
        var command = new Command("prices", "Show the price table: US dollars per million tokens, per server-tool call, and where each price comes from.") { config, model };
        command.SetAction((parse, ct) => CliOptions.GuardAsync(parse, async output =>
        {
            var relayConfig = CliOptions.LoadForManagement(parse.GetValue(config)!);
            await using var store = await CliOptions.OpenStoreAsync(relayConfig, ct);
            var book = new PriceBook(relayConfig, store, TimeProvider.System, NullLogger<PriceBook>.Instance, new StoreChanges());
            await book.RefreshAsync(ct);
            var console = TableOutput.For(output);

            await output.WriteLineAsync("US dollars per million tokens; \"Per call\": per server-tool call (a web search). \"Long prompt\": above that many prompt tokens, input / output and cache prices for the whole request.");
            if (parse.GetValue(model) is not { } name)
            {
                console.Write(BuildTable(book.Entries));
                await output.WriteLineAsync($"Earlier sources win: admin, then relay.json, then the defaults (Anthropic's list prices, taken {DefaultPrices.TakenOn}).");
                return 0;
            }

            var route = new ModelCatalog(relayConfig.Models).TryResolve(name, out var entry) ? entry.Routes[0] : null;
            var price = UsageCost.PriceOf(book, name, route);
            var via = route is null ? "" : $" (routed to {route.Key})";
            if (price is null)
            {
                await output.WriteLineAsync($"{name}{via}: no price; its requests are recorded without a cost. Add one under \"prices\" in relay.json.");
                return 1;
            }

            await output.WriteLineAsync($"{name}{via}: priced by the {price.Source} entry '{price.Model}'.");
            console.Write(BuildTable([price]));
            return 0;
        }));
        return command;
    }

    /// <summary>One row per name: the entry that wins (sources are in order), saying which entries it replaces.</summary>
    private static Table BuildTable(IReadOnlyList<ModelPrice> prices)
    {
        var table = new Table().AddColumns("Model", "Input", "Output", "5m write", "1h write", "Cache read", "Per call", "Long prompt", "Source");
        foreach (var column in table.Columns.Skip(1).Take(6))
        {
            column.RightAligned();
        }

        foreach (var group in prices.GroupBy(p => p.Model, StringComparer.Ordinal))
        {
            var p = group.First();
            var replaced = group.Skip(1).Select(q => q.Source.Split(' ')[0]).ToArray();
            var source = replaced.Length == 0 ? p.Source : $"{p.Source}, over {string.Join(", ", replaced)}";
            table.AddRow(Markup.Escape(p.Model), Money(p.Input), Money(p.Output), Money(p.CacheWrite5m), Money(p.CacheWrite1h), Money(p.CacheRead),
                Money(p.ServerToolCall), Markup.Escape(LongPrompt(p)), Markup.Escape(source));
        }

        return table;
    }

    private static string LongPrompt(ModelPrice price)
    {
        if (price.Rates is not { LongPromptThreshold: { } threshold, LongPrompt: { } rates })
        {
            return "-";
        }

        var tier = new ModelPrice(price.Model, rates, price.Source);
        return $"> {threshold.ToString("N0", CultureInfo.InvariantCulture)}: {Money(tier.Input)} / {Money(tier.Output)}, "
            + $"5m {Money(tier.CacheWrite5m)}, 1h {Money(tier.CacheWrite1h)}, read {Money(tier.CacheRead)}";
    }

    /// <summary>As <see cref="Storage.Accounts.Usd.Format"/> writes money: cents always, up to six decimals.</summary>
    private static string Money(decimal dollars) => "$" + dollars.ToString("#,0.00####", CultureInfo.InvariantCulture);
}
