using System.Text.Json;
using Relay.Protocol.Json;
using Relay.Protocol.Text;

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
public readonly record struct MessagesRequestInfo(string Model, int ModelTokenStart, int ModelTokenEnd, bool Stream)
{
    /// <summary>The requested <c>max_tokens</c>, or -1 when absent (count_tokens).</summary>
    public long MaxTokens { get; init; } = -1;

    /// <summary>Offsets of the <c>max_tokens</c> number token, for clamping it in place.</summary>
    public int MaxTokensTokenStart { get; init; }

    public int MaxTokensTokenEnd { get; init; }

    /// <summary>The <c>thinking.type</c> sent (<c>enabled</c>, <c>adaptive</c>, <c>disabled</c>), or null.</summary>
    public string? ThinkingType { get; init; }

    /// <summary>True when any message holds an image block, tool results included.</summary>
    public bool HasImage { get; init; }

    /// <summary>True when a server web-search tool (<c>web_search_*</c>) is offered.</summary>
    public bool HasWebSearchTool { get; init; }

    /// <summary>A cheap input-size estimate: text bytes of system, messages and tools over four, base64 data excluded.</summary>
    public long EstimatedInputTokens { get; init; }
}

/// <summary>
/// Checks that a body is one well-formed JSON object with the fields the endpoint requires, that every string in it is
/// text, and that the fields Relay reads have the types Anthropic's API gives them (<see cref="MessagesRequestShape"/>);
/// and finds the model name; in a single forward pass that copies nothing but the model string.
/// </summary>
/// <remarks>
/// Fields Relay does not know are left alone: Claude Code sends new ones every few weeks, and a gateway that rejects
/// them breaks it; their values are only checked for text. Error messages follow Anthropic's <c>field: problem</c>
/// wording. Everything a translator or the token estimate reads is checked here, once, so bad input is a 400 before any
/// provider is tried, never an exception later.
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
        long maxTokensValue = -1;
        int maxTokensStart = 0, maxTokensEnd = 0;
        string? thinkingType = null;
        var content = default(ContentFeatures);

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
                if (!JsonStrings.IsText(ref reader))
                {
                    error = "The request body has a field name that is not valid UTF-8 text.";
                    return false;
                }

                RequestProblem? problem = null;
                var name = reader;
                if (reader.ValueTextEquals("model"u8))
                {
                    reader.Read();
                    if (reader.TokenType != JsonTokenType.String)
                    {
                        error = "model: Input should be a valid string";
                        return false;
                    }

                    if (!JsonStrings.IsText(ref reader))
                    {
                        error = "model: Input should be valid UTF-8 text (it holds invalid bytes or a lone surrogate escape)";
                        return false;
                    }

                    model = reader.GetString();
                    modelStart = checked((int)reader.TokenStartIndex);
                    modelEnd = checked((int)reader.BytesConsumed);
                }
                else if (reader.ValueTextEquals("messages"u8))
                {
                    reader.Read();
                    hasMessages = true;
                    problem = MessagesRequestShape.Messages.Check(ref reader, ref content, gather: true);
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
                    maxTokensValue = maxTokens;
                    maxTokensStart = checked((int)reader.TokenStartIndex);
                    maxTokensEnd = checked((int)reader.BytesConsumed);
                }
                else if (reader.ValueTextEquals("system"u8))
                {
                    reader.Read();
                    problem = MessagesRequestShape.System.Check(ref reader, ref content, gather: true);
                }
                else if (reader.ValueTextEquals("tools"u8))
                {
                    reader.Read();
                    problem = MessagesRequestShape.Tools.Check(ref reader, ref content, gather: true);
                }
                else if (reader.ValueTextEquals("thinking"u8))
                {
                    reader.Read();
                    var thinking = reader;
                    problem = MessagesRequestShape.Thinking.Check(ref reader, ref content, gather: false);
                    thinkingType = problem is null ? ReadThinkingType(ref thinking) : null;
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
                    var shape = OtherFieldShape(ref reader);
                    reader.Read();
                    problem = shape.Check(ref reader, ref content, gather: false);
                }

                if (problem is not null)
                {
                    error = problem.Under(ClientText.Shorten(name.GetString()!)).ToString();
                    return false;
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

        info = new MessagesRequestInfo(model, modelStart, modelEnd, stream)
        {
            MaxTokens = maxTokensValue,
            MaxTokensTokenStart = maxTokensStart,
            MaxTokensTokenEnd = maxTokensEnd,
            ThinkingType = thinkingType,
            HasImage = content.HasImage,
            HasWebSearchTool = content.HasWebSearchTool,
            EstimatedInputTokens = content.TextBytes / 4,
        };
        return true;
    }

    private static MessagesRequestShape OtherFieldShape(ref readonly Utf8JsonReader name) =>
        name.ValueTextEquals("tool_choice"u8) ? MessagesRequestShape.ToolChoice
        : name.ValueTextEquals("stop_sequences"u8) ? MessagesRequestShape.StopSequences
        : name.ValueTextEquals("metadata"u8) ? MessagesRequestShape.Metadata
        : name.ValueTextEquals("output_config"u8) ? MessagesRequestShape.OutputConfig
        : name.ValueTextEquals("temperature"u8) || name.ValueTextEquals("top_p"u8) ? MessagesRequestShape.OptionalNumber
        : name.ValueTextEquals("top_k"u8) ? MessagesRequestShape.TopK
        : MessagesRequestShape.AnyValue;

    private static string? ReadThinkingType(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return null;
        }

        string? type = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isType = reader.ValueTextEquals("type"u8);
            reader.Read();
            if (isType && reader.TokenType == JsonTokenType.String)
            {
                type = reader.ValueTextEquals("enabled"u8) ? "enabled"
                    : reader.ValueTextEquals("adaptive"u8) ? "adaptive"
                    : reader.ValueTextEquals("disabled"u8) ? "disabled"
                    : reader.GetString();
            }
            else
            {
                reader.Skip();
            }
        }

        return type;
    }
}
