using System.Text.Json;
using Relay.Protocol.Json;

namespace Relay.Protocol.Sse;

/// <summary>How many bytes of answer one Anthropic <c>content_block_delta</c> carries: its <c>delta.text</c>,
/// <c>delta.thinking</c> or <c>delta.partial_json</c>, unescaped; signatures and framing count nothing.</summary>
internal static class ContentDeltaBytes
{
    public static long Read(ReadOnlySpan<byte> data)
    {
        try
        {
            var reader = new Utf8JsonReader(data);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return 0;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isDelta = reader.ValueTextEquals("delta"u8);
                reader.Read();
                if (isDelta && reader.TokenType == JsonTokenType.StartObject)
                {
                    return ReadDelta(ref reader);
                }

                reader.Skip();
            }
        }
        catch (JsonException)
        {
            // a malformed delta is forwarded as it is and counts nothing
        }

        return 0;
    }

    private static long ReadDelta(ref Utf8JsonReader reader)
    {
        long bytes = 0;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var counts = reader.ValueTextEquals("text"u8) || reader.ValueTextEquals("thinking"u8) || reader.ValueTextEquals("partial_json"u8);
            reader.Read();
            if (counts && reader.TokenType == JsonTokenType.String)
            {
                bytes += JsonStrings.UnescapedLength(in reader);
            }
            else
            {
                reader.Skip();
            }
        }

        return bytes;
    }
}
