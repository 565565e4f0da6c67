using System.Text.Json.Serialization;

namespace Relay.Protocol.Anthropic;

/// <summary>One entry of <c>GET /v1/models</c>: Anthropic's fields, and OpenAI's beside them (<c>object</c>,
/// <c>created</c>, <c>owned_by</c>), so one document serves both kinds of client; each ignores the other's fields.</summary>
public sealed class ModelInfo
{
    [JsonPropertyOrder(0)]
    public string Type => "model";

    [JsonPropertyOrder(1)]
    public required string Id { get; init; }

    [JsonPropertyOrder(2)]
    public required string DisplayName { get; init; }

    /// <summary>RFC 3339 time; Relay reports when the configuration was loaded.</summary>
    [JsonPropertyOrder(3)]
    public required string CreatedAt { get; init; }

    /// <summary>Lets Claude Desktop's discovery accept a gateway alias as a Claude model (sonnet, opus, haiku…).</summary>
    [JsonPropertyOrder(4)]
    public string? AnthropicFamilyTier { get; init; }

    [JsonPropertyOrder(5)]
    public bool? IsFamilyDefault { get; init; }

    [JsonPropertyOrder(6)]
    public string Object => "model";

    /// <summary>OpenAI's Unix-seconds form of <see cref="CreatedAt"/>.</summary>
    [JsonPropertyOrder(7)]
    public long Created => DateTimeOffset.TryParse(CreatedAt, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var at)
        ? at.ToUnixTimeSeconds()
        : 0;

    [JsonPropertyOrder(8)]
    public string OwnedBy => "relay";
}

/// <summary>A page of models with Anthropic's cursor fields, and OpenAI's <c>object: list</c>.</summary>
public sealed class ModelPage
{
    [JsonPropertyOrder(-1)]
    public string Object => "list";

    public required IReadOnlyList<ModelInfo> Data { get; init; }

    public required bool HasMore { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public string? FirstId { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public string? LastId { get; init; }
}

/// <summary>The response of <c>POST /v1/messages/count_tokens</c>.</summary>
public sealed class CountTokensResult
{
    public required long InputTokens { get; init; }
}
