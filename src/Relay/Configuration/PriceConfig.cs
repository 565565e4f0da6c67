using Relay.Storage.Accounts;

namespace Relay.Configuration;

/// <summary>
/// One entry under <c>prices</c>: US dollars per million tokens (per call for <c>serverToolCall</c>). The key is a
/// requested model name, <c>provider/upstream-model</c>, or a <c>*</c> pattern of either. Cache prices left out follow
/// Anthropic's multipliers of <c>input</c> (5-minute writes 1.25x, 1-hour writes 2x, reads 0.1x).
/// </summary>
internal sealed class PriceConfig
{
    public decimal? Input { get; set; }

    public decimal? Output { get; set; }

    public decimal? CacheWrite5m { get; set; }

    public decimal? CacheWrite1h { get; set; }

    public decimal? CacheRead { get; set; }

    /// <summary>Dollars per billed server-tool call (a web search).</summary>
    public decimal? ServerToolCall { get; set; }

    /// <summary>Above this many prompt tokens (input, cache reads and writes together) the request is billed at
    /// <see cref="LongPrompt"/> throughout.</summary>
    public long? LongPromptThreshold { get; set; }

    public PriceConfig? LongPrompt { get; set; }

    /// <summary>The rates; call after validation (input and output are set).</summary>
    public PriceRates ToRates() => new()
    {
        Input = Input ?? 0m,
        Output = Output ?? 0m,
        CacheWrite5m = CacheWrite5m,
        CacheWrite1h = CacheWrite1h,
        CacheRead = CacheRead,
        ServerToolCall = ServerToolCall,
        LongPromptThreshold = LongPromptThreshold,
        LongPrompt = LongPrompt?.ToRates(),
    };
}
