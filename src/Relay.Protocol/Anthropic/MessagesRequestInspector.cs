using System.Text.Json;

namespace Relay.Protocol.Anthropic;

/// <summary>Which endpoint a request body was sent to; they differ in the fields they require.</summary>
public enum MessagesEndpointKind
{
    Messages,
    CountTokens,
}

/// <summary>What routing needs from a Messages request body, and where its model name sits in the bytes.</summary>
/// <param name="Model">The model name as sent.</param>
/// <param name="ModelTokenStart">Offset of the opening quote of the model string.</param>
/// <param name="ModelTokenEnd">Offset just past its closing quote.</param>
/// <param name="Stream">Whether the client asked for SSE.</param>
public readonly record struct MessagesRequestInfo(string Model, int ModelTokenStart, int ModelTokenEnd, bool Stream);

/// <summary>
/// Checks that a body is one well-formed JSON object with the fields the endpoint requires, and finds the model name,
/// in a single forward pass that copies nothing but the model string.
/// </summary>
/// <remarks>
/// Fields Relay does not know are left alone: Claude Code sends new ones every few weeks, and a gateway that rejects
/// them breaks it. Error messages follow Anthropic's <c>field: problem</c> wording.
/// </remarks>
public static class MessagesRequestInspector
{
    public static bool TryInspect(ReadOnlySpan<byte> body, MessagesEndpointKind kind, out MessagesRequestInfo info, out string error)
    {
        info = default;
        error = "";
        string? model = null;
        int modelStart = 0, modelEnd = 0;
        bool stream = false, hasMessages = false, hasMaxTokens = false;

        try
        {
            var reader = new Utf8JsonReader(body);
            // Checked before Read: on an empty final block the reader throws instead of returning false.
            if (body.Trim(" \t\r\n"u8).IsEmpty || !reader.Read())
            {
                error = "The request body is empty; expected a JSON object.";
                return false;
            }

            if (reader.TokenType != JsonTokenType.StartObject)
            {
                error = "The request body must be a JSON object.";
                return false;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("model"u8))
                {
                    reader.Read();
                    if (reader.TokenType != JsonTokenType.String)
                    {
                        error = "model: Input should be a valid string";
                        return false;
                    }

                    model = reader.GetString();
                    modelStart = checked((int)reader.TokenStartIndex);
                    modelEnd = checked((int)reader.BytesConsumed);
                }
                else if (reader.ValueTextEquals("messages"u8))
                {
                    reader.Read();
                    if (reader.TokenType != JsonTokenType.StartArray)
                    {
                        error = "messages: Input should be a valid list";
                        return false;
                    }

                    hasMessages = true;
                    reader.Skip();
                }
                else if (reader.ValueTextEquals("max_tokens"u8))
                {
                    reader.Read();
                    if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out var maxTokens) || maxTokens < 0)
                    {
                        error = "max_tokens: Input should be a valid non-negative integer";
                        return false;
                    }

                    hasMaxTokens = true;
                }
                else if (reader.ValueTextEquals("stream"u8))
                {
                    reader.Read();
                    if (reader.TokenType is not (JsonTokenType.True or JsonTokenType.False or JsonTokenType.Null))
                    {
                        error = "stream: Input should be a valid boolean";
                        return false;
                    }

                    stream = reader.TokenType == JsonTokenType.True;
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }

            if (reader.Read())
            {
                error = "The request body must hold exactly one JSON object.";
                return false;
            }
        }
        catch (JsonException ex)
        {
            error = $"The request body is not valid JSON: {ex.Message}";
            return false;
        }

        if (string.IsNullOrEmpty(model))
        {
            error = model is null ? "model: Field required" : "model: String should have at least 1 character";
            return false;
        }

        if (!hasMessages)
        {
            error = "messages: Field required";
            return false;
        }

        if (kind == MessagesEndpointKind.Messages && !hasMaxTokens)
        {
            error = "max_tokens: Field required";
            return false;
        }

        info = new MessagesRequestInfo(model, modelStart, modelEnd, stream);
        return true;
    }
}
