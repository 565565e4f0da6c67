using System.Text.Json.Serialization;

namespace Relay.Protocol.OpenAI;

/// <summary>Source-generated readers for what OpenAI-compatible servers send back.</summary>
/// <remarks>Lenient on purpose: vendors send numbers as strings and unknown fields; none of that may fail a stream.</remarks>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    NumberHandling = JsonNumberHandling.AllowReadingFromString,
    AllowTrailingCommas = true)]
[JsonSerializable(typeof(ChatCompletionChunk))]
[JsonSerializable(typeof(ChatCompletion))]
[JsonSerializable(typeof(ResponsesStreamEvent))]
[JsonSerializable(typeof(ResponseObject))]
public sealed partial class OpenAIJsonContext : JsonSerializerContext;
