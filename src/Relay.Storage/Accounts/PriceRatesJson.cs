using System.Text.Json;
using System.Text.Json.Serialization;

namespace Relay.Storage.Accounts;

/// <summary>How a store keeps <see cref="PriceRates"/>: one JSON object with relay.json's field names
/// (<c>input</c>, <c>cacheWrite1h</c>…), unset fields left out, so the same text reads back the same.</summary>
public static class PriceRatesJson
{
    public static string Serialize(PriceRates rates) => JsonSerializer.Serialize(rates, PriceRatesJsonContext.Default.PriceRates);

    /// <exception cref="JsonException">The text is not a price object.</exception>
    public static PriceRates Deserialize(string json) =>
        JsonSerializer.Deserialize(json, PriceRatesJsonContext.Default.PriceRates) ?? throw new JsonException("null is not a price.");
}

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow)]
[JsonSerializable(typeof(PriceRates))]
internal sealed partial class PriceRatesJsonContext : JsonSerializerContext;
