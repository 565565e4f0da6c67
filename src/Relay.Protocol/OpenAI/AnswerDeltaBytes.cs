using System.Text.Json;
using Relay.Protocol.Json;

namespace Relay.Protocol.OpenAI;

/// <summary>How many bytes of answer one OpenAI stream event carries, unescaped, for the output estimate of a stream cut
/// short (<see cref="Anthropic.OutputEstimate"/>): text, reasoning and tool-call arguments; ids, names and framing count
/// nothing. Read with a <see cref="Utf8JsonReader"/> over the event's data, allocating nothing.</summary>
public static class AnswerDeltaBytes
{
    /// <summary>A Chat Completions chunk: each choice's <c>delta.content</c>, <c>delta.reasoning_content</c>,
    /// <c>delta.reasoning</c> and <c>delta.tool_calls[].function.arguments</c>.</summary>
    public static long Chat(ReadOnlySpan<byte> data)
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
                var isChoices = reader.ValueTextEquals("choices"u8);
                reader.Read();
                if (isChoices && reader.TokenType == JsonTokenType.StartArray)
                {
                    return ChatChoices(ref reader);
                }

                reader.Skip();
            }
        }
        catch (JsonException)
        {
            // a malformed chunk is forwarded as it is and counts nothing
        }

        return 0;
    }

    /// <summary>A Responses event: the <c>delta</c> of <c>response.output_text.delta</c>,
    /// <c>response.reasoning_summary_text.delta</c>, <c>response.reasoning_text.delta</c> and
    /// <c>response.function_call_arguments.delta</c>.</summary>
    public static long Responses(ReadOnlySpan<byte> data)
    {
        try
        {
            var reader = new Utf8JsonReader(data);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return 0;
            }

            bool? counted = null;
            long delta = 0;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("type"u8))
                {
                    reader.Read();
                    counted = reader.TokenType == JsonTokenType.String
                        && (reader.ValueTextEquals("response.output_text.delta"u8) || reader.ValueTextEquals("response.reasoning_summary_text.delta"u8)
                            || reader.ValueTextEquals("response.reasoning_text.delta"u8) || reader.ValueTextEquals("response.function_call_arguments.delta"u8));
                    if (counted == false)
                    {
                        return 0;
                    }

                    continue;
                }

                var isDelta = reader.ValueTextEquals("delta"u8);
                reader.Read();
                if (isDelta && reader.TokenType == JsonTokenType.String)
                {
                    delta = JsonStrings.UnescapedLength(in reader);
                }
                else
                {
                    reader.Skip();
                }
            }

            return counted == true ? delta : 0;
        }
        catch (JsonException)
        {
            // a malformed event is forwarded as it is and counts nothing
        }

        return 0;
    }

    private static long ChatChoices(ref Utf8JsonReader reader)
    {
        long bytes = 0;
        while (reader.Read() && reader.TokenType == JsonTokenType.StartObject)
        {
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isDelta = reader.ValueTextEquals("delta"u8);
                reader.Read();
                if (isDelta && reader.TokenType == JsonTokenType.StartObject)
                {
                    bytes += ChatDelta(ref reader);
                }
                else
                {
                    reader.Skip();
                }
            }
        }

        return bytes;
    }

    private static long ChatDelta(ref Utf8JsonReader reader)
    {
        long bytes = 0;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isText = reader.ValueTextEquals("content"u8) || reader.ValueTextEquals("reasoning_content"u8) || reader.ValueTextEquals("reasoning"u8);
            var isToolCalls = !isText && reader.ValueTextEquals("tool_calls"u8);
            reader.Read();
            if (isText && reader.TokenType == JsonTokenType.String)
            {
                bytes += JsonStrings.UnescapedLength(in reader);
            }
            else if (isToolCalls && reader.TokenType == JsonTokenType.StartArray)
            {
                bytes += ToolCallArguments(ref reader);
            }
            else
            {
                reader.Skip();
            }
        }

        return bytes;
    }

    private static long ToolCallArguments(ref Utf8JsonReader reader)
    {
        long bytes = 0;
        while (reader.Read() && reader.TokenType == JsonTokenType.StartObject)
        {
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isFunction = reader.ValueTextEquals("function"u8);
                reader.Read();
                if (!isFunction || reader.TokenType != JsonTokenType.StartObject)
                {
                    reader.Skip();
                    continue;
                }

                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    var isArguments = reader.ValueTextEquals("arguments"u8);
                    reader.Read();
                    if (isArguments && reader.TokenType == JsonTokenType.String)
                    {
                        bytes += JsonStrings.UnescapedLength(in reader);
                    }
                    else
                    {
                        reader.Skip();
                    }
                }
            }
        }

        return bytes;
    }
}
