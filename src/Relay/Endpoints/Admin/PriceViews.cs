using System.Text.Json.Serialization;
using Relay.Accounting;
using Relay.Storage.Accounts;

namespace Relay.Endpoints.Admin;

/// <summary>Prices in US dollars per million tokens (per call for server tools), with the cache prices a left-out
/// rate falls back to already applied.</summary>
internal class PriceTierView
{
    public required decimal Input { get; init; }

    public required decimal Output { get; init; }

    public required decimal CacheWrite5m { get; init; }

    public required decimal CacheWrite1h { get; init; }

    public required decimal CacheRead { get; init; }

    public required decimal ServerToolCall { get; init; }
}

/// <summary>One entry of the price table in effect.</summary>
internal sealed class PriceView : PriceTierView
{
    /// <summary>A requested model name, <c>provider/upstream-model</c>, or a <c>*</c> pattern of either.</summary>
    [JsonPropertyOrder(-2)]
    public required string Model { get; init; }

    /// <summary><c>admin</c>, <c>relay.json</c> or <c>default (taken YYYY-MM-DD)</c>.</summary>
    [JsonPropertyOrder(-1)]
    public required string Source { get; init; }

    /// <summary>Above this many prompt tokens the whole request is billed at <see cref="LongPrompt"/>.</summary>
    public long? LongPromptThreshold { get; init; }

    public PriceTierView? LongPrompt { get; init; }

    public static PriceView From(ModelPrice price) => new()
    {
        Model = price.Model,
        Source = price.Source,
        Input = price.Input,
        Output = price.Output,
        CacheWrite5m = price.CacheWrite5m,
        CacheWrite1h = price.CacheWrite1h,
        CacheRead = price.CacheRead,
        ServerToolCall = price.ServerToolCall,
        LongPromptThreshold = price.Rates.LongPromptThreshold,
        LongPrompt = price.Rates.LongPrompt is { } rates ? Tier(new ModelPrice(price.Model, rates, price.Source)) : null,
    };

    private static PriceTierView Tier(ModelPrice price) => new()
    {
        Input = price.Input,
        Output = price.Output,
        CacheWrite5m = price.CacheWrite5m,
        CacheWrite1h = price.CacheWrite1h,
        CacheRead = price.CacheRead,
        ServerToolCall = price.ServerToolCall,
    };
}
