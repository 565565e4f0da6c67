using Microsoft.Extensions.Logging.Abstractions;
using Relay.Accounting;
using Relay.Configuration;
using Relay.Hosting;
using Relay.Storage.Accounts;
using Relay.Storage.Memory;

namespace Relay.Tests;

/// <summary>Which price a request gets: admin, then relay.json, then the shipped defaults; within each, the requested
/// name, then <c>provider/upstream-model</c> (then, for the defaults, the upstream model alone); exact before patterns.</summary>
public sealed class PriceBookTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static PriceConfig Price(decimal input) => new() { Input = input, Output = input * 5 };

    private static async Task<PriceBook> BookAsync(Dictionary<string, PriceConfig> prices, params (string Model, decimal Input)[] admin)
    {
        var config = new RelayConfig();
        foreach (var (model, price) in prices)
        {
            config.Prices[model] = price;
        }

        var store = new MemoryRelayStore();
        foreach (var (model, input) in admin)
        {
            await store.SetPriceAsync(model, new PriceRates { Input = input, Output = input * 5 }, Ct);
        }

        var book = new PriceBook(config, store, TimeProvider.System, NullLogger<PriceBook>.Instance, new StoreChanges());
        await book.RefreshAsync(Ct);
        return book;
    }

    private static (string? Model, string? Source, decimal? Input) Found(PriceBook book, string? requested, string? provider, string? upstream) =>
        book.Find(requested, provider, upstream) is { } p ? (p.Model, p.Source, p.Input) : (null, null, null);

    [Fact]
    public async Task Sources_AdminThenRelayJsonThenDefaults()
    {
        var book = await BookAsync(new() { ["claude-sonnet-4-6"] = Price(2m), ["claude-opus-4-6"] = Price(4m) }, ("claude-sonnet-4-6", 1m));

        Assert.Equal(("claude-sonnet-4-6", "admin", 1m), Found(book, "claude-sonnet-4-6", "up", "claude-sonnet-4-6"));
        Assert.Equal(("claude-opus-4-6", "relay.json", 4m), Found(book, "claude-opus-4-6", "up", "claude-opus-4-6"));
        Assert.Equal(("claude-haiku-4-5", $"default (taken {DefaultPrices.TakenOn})", 1m), Found(book, "claude-haiku-4-5", "up", "claude-haiku-4-5"));
    }

    [Fact]
    public async Task AnEarlierSource_WinsEvenByRouteName_OverALaterSourcesRequestedName()
    {
        // A station selling "claude-sonnet-4-6" served by DeepSeek prices it by its own relay.json entry for the route.
        var book = await BookAsync(new() { ["ds/deepseek-chat"] = Price(0.27m) });

        Assert.Equal(("ds/deepseek-chat", "relay.json", 0.27m), Found(book, "claude-sonnet-4-6", "ds", "deepseek-chat"));
    }

    [Fact]
    public async Task WithinASource_RequestedNameFirst_ThenRoute_ExactBeforeAnyPattern_MostSpecificPattern()
    {
        var book = await BookAsync(new()
        {
            ["*"] = Price(9m),
            ["ds/*"] = Price(8m),
            ["ds/deepseek-*"] = Price(7m),
            ["ds/deepseek-chat"] = Price(6m),
            ["cheap"] = Price(5m),
        });

        Assert.Equal(("cheap", 5m), Pick(Found(book, "cheap", "ds", "deepseek-chat")));
        Assert.Equal(("ds/deepseek-chat", 6m), Pick(Found(book, "anything", "ds", "deepseek-chat")));
        Assert.Equal(("ds/deepseek-*", 7m), Pick(Found(book, "anything", "ds", "deepseek-reasoner")));
        Assert.Equal(("ds/*", 8m), Pick(Found(book, "anything", "ds", "qwen")));
        Assert.Equal(("*", 9m), Pick(Found(book, "anything", "other", "qwen")));

        static (string?, decimal?) Pick((string? Model, string? Source, decimal? Input) found) => (found.Model, found.Input);
    }

    [Fact]
    public async Task Defaults_PriceThePatternRouteByItsUpstreamModel_ButRelayJsonKeysAreNotUpstreamNames()
    {
        var book = await BookAsync(new() { ["deepseek-chat"] = Price(0.27m) });

        Assert.Equal("claude-sonnet-4-6", Found(book, "claude-anything", "up", "claude-sonnet-4-6").Model);
        // "deepseek-chat" names a requested model; a request for another name routed there is not priced by it.
        Assert.Equal((null, null, null), Found(book, "my-model", "ds", "deepseek-chat"));
        Assert.Equal(0.27m, Found(book, "deepseek-chat", "ds", "deepseek-v3").Input);
    }

    [Theory]
    [InlineData("claude-sonnet-4-5-20250929", "claude-sonnet-4-5")]
    [InlineData("claude-sonnet-4-5-20250929[1m]", "claude-sonnet-4-5")]
    [InlineData("claude-opus-4-6[1m]", "claude-opus-4-6")]
    [InlineData("claude-3-5-haiku-latest", "claude-3-5-haiku")]
    [InlineData("claude-3-haiku-20240307", "claude-3-haiku")]
    [InlineData("claude-opus-4-20250514", "claude-opus-4")]
    [InlineData("claude-sonnet-4-5-2025", null)]
    [InlineData("claude-sonnet-4-5x", null)]
    public async Task DatedIdsAndContextSuffixes_FindTheirModel(string requested, string? expected)
    {
        var book = await BookAsync([]);

        Assert.Equal(expected, Found(book, requested, null, null).Model);
        Assert.Equal(expected, Found(book, "client-name", "up", requested).Model);
    }

    [Fact]
    public async Task AdminChanges_ApplyAtOnce_AndARefreshSeesOtherInstances()
    {
        var store = new MemoryRelayStore();
        var book = new PriceBook(new RelayConfig(), store, TimeProvider.System, NullLogger<PriceBook>.Instance, new StoreChanges());

        await book.SetPriceAsync("m", new PriceRates { Input = 1m, Output = 2m }, Ct);
        Assert.Equal(1m, book.Find("m", null, null)?.Input);

        await store.SetPriceAsync("m", new PriceRates { Input = 3m, Output = 2m }, Ct); // another instance
        Assert.Equal(1m, book.Find("m", null, null)?.Input);
        await book.RefreshAsync(Ct);
        Assert.Equal(3m, book.Find("m", null, null)?.Input);

        Assert.True(await book.DeletePriceAsync("m", Ct));
        Assert.Null(book.Find("m", null, null));
        Assert.False(await book.DeletePriceAsync("m", Ct));
    }
}
