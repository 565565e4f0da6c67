using System.Text.Encodings.Web;
using System.Text.Json;

namespace Relay.Protocol.Json;

/// <summary>JSON settings for what Relay writes on the wire.</summary>
public static class ProtocolJson
{
    /// <summary>Writes characters as Anthropic does (no <c>\u0027</c> for an apostrophe, no escaped CJK), still
    /// escaping what JSON requires. Relay's output is JSON for API clients, never HTML.</summary>
    public static readonly JavaScriptEncoder Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping;

    public static readonly JsonWriterOptions WriterOptions = new() { Encoder = Encoder };

    /// <summary>For <c>JsonNode.ToJsonString</c>.</summary>
    public static readonly JsonSerializerOptions NodeOptions = new() { Encoder = Encoder };

    /// <summary>The source-generated context with <see cref="Encoder"/>.</summary>
    public static readonly ProtocolJsonContext Context = new(new JsonSerializerOptions(ProtocolJsonContext.Default.Options) { Encoder = Encoder });
}
