using System.Text.Json.Serialization;
using Relay.Protocol.Anthropic;

namespace Relay.Protocol.Json;

/// <summary>Source-generated serializers for the Anthropic wire objects Relay writes itself.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ErrorEnvelope))]
[JsonSerializable(typeof(ModelInfo))]
[JsonSerializable(typeof(ModelPage))]
[JsonSerializable(typeof(CountTokensResult))]
public sealed partial class ProtocolJsonContext : JsonSerializerContext;
