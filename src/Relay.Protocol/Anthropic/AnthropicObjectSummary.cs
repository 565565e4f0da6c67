using System.Text.Json;

namespace Relay.Protocol.Anthropic;

/// <summary>What a usage recorder needs from one Anthropic JSON object: its kind, its usage and its error type.</summary>
/// <remarks>
/// Reads only the few properties it needs and skips the rest, so forwarding a body never requires deserialising it.
/// Works for a whole non-streaming response (<c>type: message</c> or <c>error</c>) and for the data of one SSE event
/// (<c>message_start</c> carries usage under <c>message</c>; <c>message_delta</c> at the top level).
/// </remarks>
public readonly record struct AnthropicObjectSummary(AnthropicObjectKind Kind, UsageFields Usage, string? ErrorType, string? ErrorMessage)
{
    /// <summary>Reads a summary; returns false when the bytes are not a JSON object.</summary>
    public static bool TryRead(ReadOnlySpan<byte> json, out AnthropicObjectSummary summary)
    {
        summary = default;
        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return false;
            }

            var kind = AnthropicObjectKind.Unknown;
            var usage = default(UsageFields);
            string? errorType = null;
            string? errorMessage = null;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("type"u8))
                {
                    reader.Read();
                    kind = reader.TokenType == JsonTokenType.String ? KindOf(ref reader) : AnthropicObjectKind.Other;
                    reader.Skip(); // a non-string type may be an object or array: step over it, not into it
                }
                else if (reader.ValueTextEquals("usage"u8))
                {
                    reader.Read();
                    ReadUsage(ref reader, ref usage);
                }
                else if (reader.ValueTextEquals("message"u8))
                {
                    reader.Read();
                    ReadNestedUsage(ref reader, ref usage);
                }
                else if (reader.ValueTextEquals("error"u8))
                {
                    reader.Read();
                    ReadError(ref reader, ref errorType, ref errorMessage);
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }

            summary = new AnthropicObjectSummary(kind, usage, errorType, errorMessage);
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static AnthropicObjectKind KindOf(ref Utf8JsonReader reader)
    {
        if (reader.ValueTextEquals("message"u8))
        {
            return AnthropicObjectKind.Message;
        }

        if (reader.ValueTextEquals("message_start"u8))
        {
            return AnthropicObjectKind.MessageStart;
        }

        if (reader.ValueTextEquals("message_delta"u8))
        {
            return AnthropicObjectKind.MessageDelta;
        }

        if (reader.ValueTextEquals("message_stop"u8))
        {
            return AnthropicObjectKind.MessageStop;
        }

        return reader.ValueTextEquals("error"u8) ? AnthropicObjectKind.Error : AnthropicObjectKind.Other;
    }

    /// <summary>Reads Anthropic's usage object; the reader is on its StartObject (anything else is skipped).</summary>
    /// <remarks>The cache-write split (<c>cache_creation.ephemeral_5m_input_tokens</c> / <c>ephemeral_1h_input_tokens</c>)
    /// gives <see cref="UsageFields.CacheCreation1hInputTokens"/>; without it every cache write is a 5-minute one, and
    /// without <c>cache_creation_input_tokens</c> the split's sum is the total. Web searches
    /// (<c>server_tool_use.web_search_requests</c>) are the server-tool calls billed per call; web fetches are free.</remarks>
    public static void ReadUsage(ref Utf8JsonReader reader, ref UsageFields usage)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return;
        }

        long? total = null;
        long? fiveMinutes = null;
        long? oneHour = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("input_tokens"u8))
            {
                reader.Read();
                usage.InputTokens = ReadCount(ref reader) ?? usage.InputTokens;
            }
            else if (reader.ValueTextEquals("output_tokens"u8))
            {
                reader.Read();
                usage.OutputTokens = ReadCount(ref reader) ?? usage.OutputTokens;
            }
            else if (reader.ValueTextEquals("cache_creation_input_tokens"u8))
            {
                reader.Read();
                total = ReadCount(ref reader);
                usage.CacheCreationInputTokens = total ?? usage.CacheCreationInputTokens;
            }
            else if (reader.ValueTextEquals("cache_creation"u8))
            {
                reader.Read();
                ReadCounts(ref reader, "ephemeral_5m_input_tokens"u8, ref fiveMinutes, "ephemeral_1h_input_tokens"u8, ref oneHour);
            }
            else if (reader.ValueTextEquals("server_tool_use"u8))
            {
                reader.Read();
                long? searches = null;
                long? ignored = null;
                ReadCounts(ref reader, "web_search_requests"u8, ref searches, ""u8, ref ignored);
                usage.ServerToolUses = searches ?? usage.ServerToolUses;
            }
            else if (reader.ValueTextEquals("cache_read_input_tokens"u8))
            {
                reader.Read();
                usage.CacheReadInputTokens = ReadCount(ref reader) ?? usage.CacheReadInputTokens;
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        if (fiveMinutes is not null || oneHour is not null)
        {
            usage.CacheCreation1hInputTokens = oneHour ?? 0;
            if (total is null)
            {
                usage.CacheCreationInputTokens = (fiveMinutes ?? 0) + (oneHour ?? 0);
            }
        }
    }

    /// <summary>Reads up to two counts from an object; the reader is on its StartObject (anything else is skipped).</summary>
    private static void ReadCounts(ref Utf8JsonReader reader, ReadOnlySpan<byte> firstName, ref long? first, ReadOnlySpan<byte> secondName, ref long? second)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return;
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isFirst = reader.ValueTextEquals(firstName);
            var isSecond = !isFirst && !secondName.IsEmpty && reader.ValueTextEquals(secondName);
            reader.Read();
            if (isFirst)
            {
                first = ReadCount(ref reader) ?? first;
            }
            else if (isSecond)
            {
                second = ReadCount(ref reader) ?? second;
            }
            else
            {
                reader.Skip();
            }
        }
    }

    /// <summary>A token count; a negative one (a broken provider) reads as 0, so it can never credit a balance.</summary>
    private static long? ReadCount(ref Utf8JsonReader reader)
    {
        if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var value))
        {
            return Math.Max(0, value);
        }

        reader.Skip(); // an object or array must be stepped over, or its properties would be read as usage
        return null;
    }

    private static void ReadNestedUsage(ref Utf8JsonReader reader, ref UsageFields usage)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return;
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isUsage = reader.ValueTextEquals("usage"u8);
            reader.Read();
            if (isUsage)
            {
                ReadUsage(ref reader, ref usage);
            }
            else
            {
                reader.Skip();
            }
        }
    }

    private static void ReadError(ref Utf8JsonReader reader, ref string? type, ref string? message)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return;
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isType = reader.ValueTextEquals("type"u8);
            var isMessage = !isType && reader.ValueTextEquals("message"u8);
            reader.Read();
            if (isType && reader.TokenType == JsonTokenType.String)
            {
                type = reader.GetString();
            }
            else if (isMessage && reader.TokenType == JsonTokenType.String)
            {
                message = reader.GetString();
            }
            else
            {
                reader.Skip();
            }
        }
    }
}
