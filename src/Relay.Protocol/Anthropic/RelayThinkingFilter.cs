using System.Text.Json;
using System.Text.Json.Nodes;
using Relay.Protocol.Json;

namespace Relay.Protocol.Anthropic;

/// <summary>
/// Removes thinking blocks that Relay itself signed (translated from a non-Anthropic model, or made by the mock) from a
/// request bound for a real Anthropic-compatible upstream, which would reject their signatures with a 400. This
/// happens when a conversation moves along a fallback chain from an <c>openai</c> route to an <c>anthropic</c> one.
/// </summary>
/// <remarks>Costs one byte search on every request; the body is parsed only when a Relay signature is in it.</remarks>
public static class RelayThinkingFilter
{
    /// <summary>Every signature Relay mints starts with this; Anthropic's are opaque base64.</summary>
    public static ReadOnlySpan<byte> SignaturePrefix => "\"relay-"u8;

    /// <summary>The body without Relay-signed thinking blocks, or the same memory when it has none.</summary>
    public static ReadOnlyMemory<byte> Strip(ReadOnlyMemory<byte> body)
    {
        if (body.Span.IndexOf(SignaturePrefix) < 0)
        {
            return body;
        }

        JsonNode? root;
        try
        {
            root = JsonNode.Parse(body.Span);
        }
        catch (JsonException)
        {
            return body;
        }

        if (root?["messages"] is not JsonArray messages)
        {
            return body;
        }

        var removed = false;
        foreach (var message in messages)
        {
            if (message?["content"] is not JsonArray content)
            {
                continue;
            }

            for (var i = content.Count - 1; i >= 0; i--)
            {
                if (content[i] is JsonObject block
                    && block["type"]?.GetValueKind() == JsonValueKind.String
                    && block["type"]!.GetValue<string>() is "thinking" or "redacted_thinking"
                    && block["signature"]?.GetValueKind() == JsonValueKind.String
                    && block["signature"]!.GetValue<string>().StartsWith("relay-", StringComparison.Ordinal))
                {
                    content.RemoveAt(i);
                    removed = true;
                }
            }
        }

        if (!removed)
        {
            return body;
        }

        var output = new System.Buffers.ArrayBufferWriter<byte>(body.Length);
        using (var writer = new Utf8JsonWriter(output, ProtocolJson.WriterOptions))
        {
            root.WriteTo(writer);
        }

        return output.WrittenMemory;
    }
}
