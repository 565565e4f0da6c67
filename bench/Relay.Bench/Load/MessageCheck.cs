using System.Text.Json;

namespace Relay.Bench.Load;

/// <summary>Checks a non-streaming answer is one whole Anthropic message: type "message", a stop_reason and usage.</summary>
internal static class MessageCheck
{
    public static LoadError? Check(ReadOnlySpan<byte> body)
    {
        try
        {
            var json = new Utf8JsonReader(body, isFinalBlock: true, state: default);
            if (!json.Read() || json.TokenType != JsonTokenType.StartObject)
            {
                return Bad("not a JSON object", body);
            }

            var isMessage = false;
            var hasStopReason = false;
            var hasUsage = false;
            while (json.Read() && json.TokenType == JsonTokenType.PropertyName)
            {
                if (json.ValueTextEquals("type"u8))
                {
                    json.Read();
                    isMessage = json.TokenType == JsonTokenType.String && json.ValueTextEquals("message"u8);
                }
                else if (json.ValueTextEquals("stop_reason"u8))
                {
                    json.Read();
                    hasStopReason = json.TokenType == JsonTokenType.String;
                }
                else if (json.ValueTextEquals("usage"u8))
                {
                    json.Read();
                    hasUsage = HasOutputTokens(ref json);
                }
                else
                {
                    json.Read();
                    json.Skip();
                }
            }

            if (json.TokenType != JsonTokenType.EndObject || json.Read())
            {
                return Bad("JSON answer is not one object", body);
            }

            return isMessage && hasStopReason && hasUsage ? null : Bad("JSON answer is not a complete message", body);
        }
        catch (JsonException ex)
        {
            return new LoadError("JSON answer is malformed or cut off", $"{ex.Message} ({body.Length} bytes)");
        }
    }

    private static bool HasOutputTokens(ref Utf8JsonReader json)
    {
        if (json.TokenType != JsonTokenType.StartObject)
        {
            json.Skip();
            return false;
        }

        var found = false;
        while (json.Read() && json.TokenType == JsonTokenType.PropertyName)
        {
            var isOutput = json.ValueTextEquals("output_tokens"u8);
            json.Read();
            found |= isOutput && json.TokenType == JsonTokenType.Number;
            json.Skip();
        }

        return found;
    }

    private static LoadError Bad(string kind, ReadOnlySpan<byte> body) =>
        new(kind, System.Text.Encoding.UTF8.GetString(body[..Math.Min(body.Length, 300)]));
}
