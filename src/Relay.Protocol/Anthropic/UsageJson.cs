using System.Text.Json;

namespace Relay.Protocol.Anthropic;

/// <summary>Writes Anthropic's <c>usage</c> object; every answer Relay composes itself uses this one shape.</summary>
public static class UsageJson
{
    public static void Write(Utf8JsonWriter writer, in TokenUsage usage)
    {
        writer.WriteStartObject("usage"u8);
        writer.WriteNumber("input_tokens"u8, usage.InputTokens);
        writer.WriteNumber("cache_creation_input_tokens"u8, usage.CacheCreationInputTokens);
        writer.WriteNumber("cache_read_input_tokens"u8, usage.CacheReadInputTokens);
        writer.WriteNumber("output_tokens"u8, usage.OutputTokens);
        writer.WriteEndObject();
    }
}
