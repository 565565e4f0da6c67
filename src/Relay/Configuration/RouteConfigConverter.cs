using System.Text.Json;
using System.Text.Json.Serialization;

namespace Relay.Configuration;

/// <summary>Reads a route as <c>"provider/model"</c> or as <c>{"route": "provider/model", "weight": 2, …}</c>.</summary>
internal sealed class RouteConfigConverter : JsonConverter<RouteConfig>
{
    public override RouteConfig Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.String)
        {
            return new RouteConfig { Route = reader.GetString()! };
        }

        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException("a route is a \"provider/model\" string or an object with \"route\"");
        }

        var route = new RouteConfig();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = reader.GetString();
            reader.Read();
            switch (name)
            {
                case "route":
                    route.Route = reader.TokenType == JsonTokenType.String ? reader.GetString()! : throw new JsonException("\"route\" must be a string");
                    break;
                case "weight":
                    route.Weight = ReadInt(ref reader, name);
                    break;
                case "maxTokens":
                    route.MaxTokens = ReadInt(ref reader, name);
                    break;
                case "timeoutSeconds":
                    route.TimeoutSeconds = ReadInt(ref reader, name);
                    break;
                default:
                    throw new JsonException($"The JSON property '{name}' could not be mapped to any .NET member contained in type 'route'.");
            }
        }

        return route;
    }

    private static int ReadInt(ref Utf8JsonReader reader, string name) =>
        reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var value) ? value : throw new JsonException($"\"{name}\" must be a whole number");

    public override void Write(Utf8JsonWriter writer, RouteConfig value, JsonSerializerOptions options)
    {
        if (value.Weight is null && value.MaxTokens is null && value.TimeoutSeconds is null)
        {
            writer.WriteStringValue(value.Route);
            return;
        }

        writer.WriteStartObject();
        writer.WriteString("route", value.Route);
        if (value.Weight is { } weight)
        {
            writer.WriteNumber("weight", weight);
        }

        if (value.MaxTokens is { } maxTokens)
        {
            writer.WriteNumber("maxTokens", maxTokens);
        }

        if (value.TimeoutSeconds is { } timeout)
        {
            writer.WriteNumber("timeoutSeconds", timeout);
        }

        writer.WriteEndObject();
    }
}
