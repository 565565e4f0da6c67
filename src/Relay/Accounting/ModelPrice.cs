using Relay.Protocol.Anthropic;
using Relay.Storage.Accounts;

namespace Relay.Accounting;

/// <summary>One model's prices with the cache multipliers applied, and what a request costs at them.</summary>
internal sealed class ModelPrice
{
    // A price in dollars per million tokens is nanodollars per token times 1000.
    private const decimal NanosPerTokenPerDollarPerMillion = Usd.NanosPerDollar / 1_000_000m;

    public ModelPrice(string model, PriceRates rates, string source)
    {
        Model = model;
        Rates = rates;
        Source = source;
        LongPrompt = rates.LongPrompt is { } longRates && rates.LongPromptThreshold is not null ? new ModelPrice(model, longRates, source) : null;
    }

    /// <summary>The price table entry that matched (a model name, a pattern or <c>provider/model</c>).</summary>
    public string Model { get; }

    public PriceRates Rates { get; }

    /// <summary>Where the price came from: <c>default (taken YYYY-MM-DD)</c>, <c>relay.json</c> or <c>admin</c>.</summary>
    public string Source { get; }

    private ModelPrice? LongPrompt { get; }

    public decimal Input => Rates.Input;

    public decimal Output => Rates.Output;

    public decimal CacheWrite5m => Rates.CacheWrite5m ?? Rates.Input * 1.25m;

    public decimal CacheWrite1h => Rates.CacheWrite1h ?? Rates.Input * 2m;

    public decimal CacheRead => Rates.CacheRead ?? Rates.Input * 0.1m;

    public decimal ServerToolCall => Rates.ServerToolCall ?? 0m;

    /// <summary>The cost of what a request used, in nanodollars. Cache writes without a 1-hour part are 5-minute writes.
    /// A negative count (a broken provider) counts as none, so usage can never credit a balance.</summary>
    public long CostNanos(in TokenUsage usage)
    {
        var input = Math.Max(0, usage.InputTokens);
        var output = Math.Max(0, usage.OutputTokens);
        var cacheWrites = Math.Max(0, usage.CacheCreationInputTokens);
        var cacheReads = Math.Max(0, usage.CacheReadInputTokens);
        var prompt = (decimal)input + cacheWrites + cacheReads;
        if (LongPrompt is not null && prompt > Rates.LongPromptThreshold)
        {
            return LongPrompt.CostNanos(usage);
        }

        var oneHour = Math.Clamp(usage.CacheCreation1hInputTokens, 0, cacheWrites);
        try
        {
            var dollarsPerMillionTimesTokens =
                (input * Input)
                + (output * Output)
                + ((cacheWrites - oneHour) * CacheWrite5m)
                + (oneHour * CacheWrite1h)
                + (cacheReads * CacheRead);
            return Saturate((dollarsPerMillionTimesTokens * NanosPerTokenPerDollarPerMillion) + (Math.Max(0, usage.ServerToolUses) * ServerToolCall * Usd.NanosPerDollar));
        }
        catch (OverflowException)
        {
            return long.MaxValue; // beyond a decimal: saturated like a sum beyond a long
        }
    }

    /// <summary>What admission holds for a request before its usage is known: its input priced at the dearest input
    /// rate (a 1-hour cache write) and <paramref name="maxOutputTokens"/> of output, so a settled request never costs
    /// more than it held unless the input estimate fell short. Saturates at <see cref="long.MaxValue"/>.</summary>
    public long ReservationNanos(long estimatedInputTokens, long maxOutputTokens)
    {
        var price = LongPrompt is not null && estimatedInputTokens > Rates.LongPromptThreshold ? LongPrompt : this;
        var dearestInput = Math.Max(price.Input, Math.Max(price.CacheWrite1h, price.CacheWrite5m));
        try
        {
            return Saturate(((Math.Max(0, estimatedInputTokens) * dearestInput) + (Math.Max(0, maxOutputTokens) * price.Output)) * NanosPerTokenPerDollarPerMillion);
        }
        catch (OverflowException)
        {
            return long.MaxValue; // beyond a decimal: saturated like a sum beyond a long
        }
    }

    /// <summary>Nanodollars rounded to a whole number, between 0 and <see cref="long.MaxValue"/>: a sum too large for a
    /// long is the largest long rather than an overflow.</summary>
    private static long Saturate(decimal nanos)
    {
        var value = decimal.Round(nanos, MidpointRounding.AwayFromZero);
        return value >= long.MaxValue ? long.MaxValue : value <= 0 ? 0 : (long)value;
    }
}

/// <summary>The price of a request's model: an admin-set price, then relay.json, then the shipped defaults; for each,
/// the requested name first, then <c>provider/upstream-model</c>, and for the defaults the upstream model alone; exact
/// names before <c>*</c> patterns (see <see cref="PriceBook"/>).</summary>
internal interface IPriceBook
{
    ModelPrice? Find(string? requestedModel, string? provider, string? upstreamModel);
}
