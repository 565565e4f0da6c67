using Relay.Storage.Accounts;

namespace Relay.Accounting;

/// <summary>
/// Anthropic's list prices for Claude models, as Relay ships them: the last place a price is looked for (relay.json's
/// <c>prices</c> and admin-set prices come first). Update the table and <see cref="TakenOn"/> together when Anthropic
/// changes its prices or releases a model.
/// </summary>
/// <remarks>
/// Dollars per million tokens, in the columns of Anthropic's price table: base input, 5-minute cache writes, 1-hour
/// cache writes, cache hits, output. A web search costs $10 per 1,000 searches; a web fetch costs nothing but the tokens
/// it adds, so fetches are not counted as billed calls. Not priced here: fast mode, US-only inference
/// (<c>inference_geo</c>), the Batch API, and code-execution container time.
/// </remarks>
internal static class DefaultPrices
{
    /// <summary>The day the table was read from <see cref="Source"/>.</summary>
    public const string TakenOn = "2026-12-02";

    public const string Source = "https://platform.claude.com/docs/en/about-claude/pricing";

    /// <summary>Dollars per web search (<c>server_tool_use.web_search_requests</c>).</summary>
    public const decimal WebSearch = 0.01m;

    /// <summary>By model id without a date suffix (<c>claude-sonnet-4-5</c> also prices <c>claude-sonnet-4-5-20250929</c>).</summary>
    public static readonly IReadOnlyDictionary<string, PriceRates> ByModel = new Dictionary<string, PriceRates>(StringComparer.Ordinal)
    {
        ["claude-fable-5-1"] = Rates(10m, 12.50m, 20m, 0.25m, 50m),
        ["claude-fable-5"] = Rates(10m, 12.50m, 20m, 1m, 50m),
        ["claude-opus-5-5"] = Rates(4m, 5m, 8m, 0.20m, 20m),
        ["claude-opus-5"] = Rates(5m, 6.25m, 10m, 0.50m, 25m),
        ["claude-opus-4-8"] = Rates(5m, 6.25m, 10m, 0.50m, 25m),
        ["claude-opus-4-7"] = Rates(5m, 6.25m, 10m, 0.50m, 25m),
        ["claude-opus-4-6"] = Rates(5m, 6.25m, 10m, 0.50m, 25m),
        ["claude-opus-4-5"] = Rates(5m, 6.25m, 10m, 0.50m, 25m),
        ["claude-opus-4-1"] = Rates(15m, 18.75m, 30m, 1.50m, 75m),
        ["claude-opus-4"] = Rates(15m, 18.75m, 30m, 1.50m, 75m),
        ["claude-sonnet-5-5"] = Rates(2m, 2.50m, 4m, 0.10m, 10m),
        ["claude-sonnet-5"] = Rates(2m, 2.50m, 4m, 0.20m, 10m),
        ["claude-sonnet-4-6"] = Rates(3m, 3.75m, 6m, 0.30m, 15m),
        // With the 1M-token context window, a prompt over 200K tokens is billed at long-context rates throughout.
        ["claude-sonnet-4-5"] = Rates(3m, 3.75m, 6m, 0.30m, 15m) with { LongPromptThreshold = 200_000, LongPrompt = Rates(6m, 7.50m, 12m, 0.60m, 22.50m) },
        ["claude-sonnet-4"] = Rates(3m, 3.75m, 6m, 0.30m, 15m) with { LongPromptThreshold = 200_000, LongPrompt = Rates(6m, 7.50m, 12m, 0.60m, 22.50m) },
        ["claude-3-7-sonnet"] = Rates(3m, 3.75m, 6m, 0.30m, 15m),
        // A prompt over 100,000 tokens (input, cache reads and writes together) is billed at the higher rates throughout.
        ["claude-haiku-5-5"] = Rates(0.10m, 0.125m, 0.20m, 0.01m, 0.50m) with { LongPromptThreshold = 100_000, LongPrompt = Rates(0.50m, 0.625m, 1m, 0.05m, 2.50m) },
        ["claude-haiku-4-5"] = Rates(1m, 1.25m, 2m, 0.10m, 5m),
        ["claude-3-5-haiku"] = Rates(0.80m, 1m, 1.6m, 0.08m, 4m),
        ["claude-3-haiku"] = Rates(0.25m, 0.30m, 0.50m, 0.03m, 1.25m),
    };

    /// <summary>The label a default price carries in <c>relay prices</c> and the admin API.</summary>
    public static string SourceLabel => $"default (taken {TakenOn})";

    private static PriceRates Rates(decimal input, decimal cacheWrite5m, decimal cacheWrite1h, decimal cacheRead, decimal output) => new()
    {
        Input = input,
        CacheWrite5m = cacheWrite5m,
        CacheWrite1h = cacheWrite1h,
        CacheRead = cacheRead,
        Output = output,
        ServerToolCall = WebSearch,
    };
}
