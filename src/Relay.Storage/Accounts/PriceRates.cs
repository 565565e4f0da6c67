namespace Relay.Storage.Accounts;

/// <summary>
/// One model's prices in US dollars per million tokens (per call for server tools). Cache prices left null follow
/// Anthropic's multipliers of the input price: 5-minute writes 1.25x, 1-hour writes 2x, reads 0.1x.
/// </summary>
public sealed record PriceRates
{
    public required decimal Input { get; init; }

    public required decimal Output { get; init; }

    public decimal? CacheWrite5m { get; init; }

    public decimal? CacheWrite1h { get; init; }

    public decimal? CacheRead { get; init; }

    /// <summary>Dollars per server-tool call (a web search, a web fetch).</summary>
    public decimal? ServerToolCall { get; init; }

    /// <summary>Above this many prompt tokens (input, cache reads and cache writes together) the whole request is
    /// billed at <see cref="LongPrompt"/> instead, as Anthropic prices some models.</summary>
    public long? LongPromptThreshold { get; init; }

    public PriceRates? LongPrompt { get; init; }
}

/// <summary>A price an operator set through the admin API (it wins over relay.json and the shipped defaults).</summary>
/// <param name="Model">A requested model name, or <c>provider/upstream-model</c>.</param>
public sealed record StoredPrice(string Model, PriceRates Rates, DateTimeOffset UpdatedAt);

/// <summary>Prices an operator set at run time, shared by every instance.</summary>
public interface IPriceStore
{
    Task<IReadOnlyList<StoredPrice>> ListPricesAsync(CancellationToken cancellationToken);

    Task SetPriceAsync(string model, PriceRates rates, CancellationToken cancellationToken);

    /// <summary>False when no price was stored for this model.</summary>
    Task<bool> DeletePriceAsync(string model, CancellationToken cancellationToken);
}
