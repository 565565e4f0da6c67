using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Relay.Protocol.OpenAI;

/// <summary>Reads a string as itself and any other JSON value as its raw text (a number code, an object of arguments).</summary>
public sealed class RawJsonStringConverter : JsonConverter<string?>
{
    public override string? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.Null:
                return null;
            case JsonTokenType.String:
                return reader.GetString();
            default:
                using (var document = JsonDocument.ParseValue(ref reader))
                {
                    return document.RootElement.GetRawText();
                }
        }
    }

    public override void Write(Utf8JsonWriter writer, string? value, JsonSerializerOptions options) => writer.WriteStringValue(value);
}

/// <summary>Reads message content given as a string or as an array of <c>{type:"text",text}</c> parts, as text.</summary>
public sealed class ContentTextConverter : JsonConverter<string?>
{
    public override string? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.Null:
                return null;
            case JsonTokenType.String:
                return reader.GetString();
            case JsonTokenType.StartArray:
                var text = new StringBuilder();
                using (var document = JsonDocument.ParseValue(ref reader))
                {
                    foreach (var part in document.RootElement.EnumerateArray())
                    {
                        if (part.ValueKind == JsonValueKind.String)
                        {
                            text.Append(part.GetString());
                        }
                        else if (part.ValueKind == JsonValueKind.Object && part.TryGetProperty("text", out var t) && t.ValueKind == JsonValueKind.String)
                        {
                            text.Append(t.GetString());
                        }
                    }
                }

                return text.ToString();
            default:
                reader.Skip();
                return null;
        }
    }

    public override void Write(Utf8JsonWriter writer, string? value, JsonSerializerOptions options) => writer.WriteStringValue(value);
}
