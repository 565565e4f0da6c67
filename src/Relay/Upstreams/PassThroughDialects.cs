using System.Text.Json;
using Relay.Protocol.Anthropic;
using Relay.Protocol.OpenAI;
using Relay.Protocol.Sse;
using Relay.Protocol.Translation;

namespace Relay.Upstreams;

/// <summary>What a same-protocol pass-through needs to know of one protocol: how to ask a stream for its usage, which
/// field holds the output limit, and how to read usage and the end from its events.</summary>
internal interface IPassThroughDialect
{
    /// <summary>What a body of this protocol is, for error messages.</summary>
    string AnswerKind { get; }

    /// <summary>The fields that may carry the output limit, the one to add first.</summary>
    IReadOnlyList<string> MaxTokensFields { get; }

    /// <summary>Adds to the request what makes a stream report its usage.</summary>
    void AskForStreamUsage(IDictionary<string, byte[]> set);

    /// <summary>Reads one whole event: usage, the answer bytes it carries, and whether the answer finished.</summary>
    /// <returns>True when the event only carries usage Relay asked for (the client may not want it).</returns>
    bool Inspect(ReadOnlySpan<byte> sseEvent, ref PassThroughStreamState stream);

    /// <summary>Usage from a whole answer; false when the body is not an answer of this protocol.</summary>
    bool TryReadWholeUsage(ReadOnlySpan<byte> body, out TokenUsage usage);
}

/// <summary>What a pass-through has read of a stream so far.</summary>
internal struct PassThroughStreamState
{
    /// <summary>The usage the provider reported so far.</summary>
    public TokenUsage Usage;

    /// <summary>The provider's final usage arrived: <see cref="Usage"/> stands exactly.</summary>
    public bool FinalUsageArrived;

    /// <summary>The answer ended properly.</summary>
    public bool Finished;

    /// <summary>The unescaped UTF-8 bytes of text, reasoning and tool-call arguments relayed so far.</summary>
    public long AnswerBytes;

    /// <summary>The usage to record, with the output estimated when the final usage never came (<see cref="OutputEstimate"/>).</summary>
    public readonly TokenUsage Billable(long outputLimit) => OutputEstimate.Complete(Usage, FinalUsageArrived, AnswerBytes, outputLimit);
}

/// <summary>Chat Completions: usage is asked for with <c>stream_options.include_usage</c> and comes in a chunk with no
/// choices; a stream is finished by a finish reason or <c>[DONE]</c>.</summary>
internal sealed class ChatDialect : IPassThroughDialect
{
    public static readonly ChatDialect Instance = new();

    private static readonly byte[] IncludeUsage = """{"include_usage":true}"""u8.ToArray();

    public string AnswerKind => "a chat completion";

    public IReadOnlyList<string> MaxTokensFields { get; } = ["max_completion_tokens", "max_tokens"];

    public void AskForStreamUsage(IDictionary<string, byte[]> set) => set["stream_options"] = IncludeUsage;

    public bool Inspect(ReadOnlySpan<byte> sseEvent, ref PassThroughStreamState stream)
    {
        if (!RawSseEvents.TryGetData(sseEvent, out var data))
        {
            return false;
        }

        if (data.SequenceEqual("[DONE]"u8))
        {
            stream.Finished = true;
            return false;
        }

        if (data.IndexOf("\"finish_reason\":\""u8) >= 0 || data.IndexOf("\"finish_reason\": \""u8) >= 0)
        {
            stream.Finished = true;
        }

        if (data.IndexOf("\"delta\""u8) >= 0)
        {
            stream.AnswerBytes += AnswerDeltaBytes.Chat(data);
        }

        if (data.IndexOf("\"usage\""u8) < 0)
        {
            return false;
        }

        try
        {
            var chunk = JsonSerializer.Deserialize(data, OpenAIJsonContext.Default.ChatCompletionChunk);
            if (chunk?.Usage is { } reported && (reported.PromptTokens is not null || reported.CompletionTokens is not null))
            {
                stream.Usage = UsageMapper.ToAnthropic(reported);
                stream.FinalUsageArrived = true;
                return chunk.Choices is not { Count: > 0 };
            }
        }
        catch (JsonException)
        {
            // Not a chunk Relay can read: it goes to the client as it came.
        }

        return false;
    }

    public bool TryReadWholeUsage(ReadOnlySpan<byte> body, out TokenUsage usage)
    {
        usage = default;
        try
        {
            if (JsonSerializer.Deserialize(body, OpenAIJsonContext.Default.ChatCompletionChunk) is { Usage: { } reported })
            {
                usage = UsageMapper.ToAnthropic(reported);
            }

            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }
}

/// <summary>Responses: every stream ends with <c>response.completed</c> (or <c>.incomplete</c>, <c>.failed</c>)
/// carrying the response object and its usage; nothing needs asking for.</summary>
internal sealed class ResponsesDialect : IPassThroughDialect
{
    public static readonly ResponsesDialect Instance = new();

    public string AnswerKind => "a response object";

    public IReadOnlyList<string> MaxTokensFields { get; } = ["max_output_tokens"];

    public void AskForStreamUsage(IDictionary<string, byte[]> set)
    {
    }

    public bool Inspect(ReadOnlySpan<byte> sseEvent, ref PassThroughStreamState stream)
    {
        if (!RawSseEvents.TryGetData(sseEvent, out var data))
        {
            return false;
        }

        if (data.IndexOf(".delta\""u8) >= 0)
        {
            stream.AnswerBytes += AnswerDeltaBytes.Responses(data);
        }

        if (data.IndexOf("\"response.completed\""u8) < 0 && data.IndexOf("\"response.incomplete\""u8) < 0 && data.IndexOf("\"response.failed\""u8) < 0)
        {
            return false;
        }

        stream.Finished = true;
        try
        {
            if (JsonSerializer.Deserialize(data, OpenAIJsonContext.Default.ResponsesStreamEvent)?.Response?.Usage is { } reported)
            {
                stream.Usage = UsageMapper.ToAnthropic(reported);
                stream.FinalUsageArrived = true;
            }
        }
        catch (JsonException)
        {
            // Not an event Relay can read: it goes to the client as it came.
        }

        return false;
    }

    public bool TryReadWholeUsage(ReadOnlySpan<byte> body, out TokenUsage usage)
    {
        usage = default;
        try
        {
            if (JsonSerializer.Deserialize(body, OpenAIJsonContext.Default.ResponseObject) is { Usage: { } reported })
            {
                usage = UsageMapper.ToAnthropic(reported);
            }

            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
