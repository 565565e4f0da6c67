using System.Text.Json.Serialization;

namespace Relay.Protocol.OpenAI;

/// <summary>One event of a Responses API stream (<c>response.*</c> or <c>error</c>), with the fields Relay reads.</summary>
/// <remarks>
/// Every event kind shares this one type: the fields that kind carries are set, the rest stay null. Unknown events and
/// fields are skipped, so a provider adding event types never fails a stream.
/// </remarks>
public sealed class ResponsesStreamEvent
{
    public string? Type { get; set; }

    public long? SequenceNumber { get; set; }

    /// <summary><c>response.created</c>, <c>.in_progress</c>, <c>.completed</c>, <c>.incomplete</c>, <c>.failed</c>.</summary>
    public ResponseObject? Response { get; set; }

    /// <summary><c>response.output_item.added</c> / <c>.done</c>.</summary>
    public ResponseOutputItem? Item { get; set; }

    public int? OutputIndex { get; set; }

    public string? ItemId { get; set; }

    public int? ContentIndex { get; set; }

    public int? SummaryIndex { get; set; }

    /// <summary>Text, summary, reasoning, refusal, arguments or custom input, by event kind.</summary>
    public string? Delta { get; set; }

    /// <summary>The whole text in <c>*.done</c> events.</summary>
    public string? Text { get; set; }

    /// <summary>The whole arguments in <c>response.function_call_arguments.done</c>.</summary>
    public string? Arguments { get; set; }

    /// <summary>The <c>error</c> event's code.</summary>
    [JsonConverter(typeof(RawJsonStringConverter))]
    public string? Code { get; set; }

    /// <summary>The <c>error</c> event's message.</summary>
    public string? Message { get; set; }

    /// <summary>Some servers nest the <c>error</c> event's fields.</summary>
    public ResponseError? Error { get; set; }
}

/// <summary>A Responses API <c>response</c> object: the body of a non-streaming answer, and the payload of the
/// stream's lifecycle events.</summary>
public sealed class ResponseObject
{
    public string? Id { get; set; }

    public string? Model { get; set; }

    /// <summary><c>completed</c>, <c>incomplete</c>, <c>failed</c>, <c>in_progress</c>, <c>cancelled</c>, <c>queued</c>.</summary>
    public string? Status { get; set; }

    public List<ResponseOutputItem>? Output { get; set; }

    public ResponseUsage? Usage { get; set; }

    public ResponseError? Error { get; set; }

    public ResponseIncompleteDetails? IncompleteDetails { get; set; }
}

/// <summary>One output item: <c>message</c>, <c>reasoning</c>, <c>function_call</c>, <c>custom_tool_call</c>, or a
/// kind Relay does not read (web search calls and other built-in tools).</summary>
public sealed class ResponseOutputItem
{
    public string? Type { get; set; }

    public string? Id { get; set; }

    public string? Status { get; set; }

    public string? Role { get; set; }

    /// <summary>A message's parts (<c>output_text</c>, <c>refusal</c>).</summary>
    public List<ResponseContentPart>? Content { get; set; }

    /// <summary>A reasoning item's summary parts (<c>summary_text</c>).</summary>
    public List<ResponseContentPart>? Summary { get; set; }

    /// <summary>A reasoning item's opaque state, when <c>include</c> asked for <c>reasoning.encrypted_content</c>.</summary>
    public string? EncryptedContent { get; set; }

    public string? CallId { get; set; }

    public string? Name { get; set; }

    /// <summary>A function call's arguments: JSON text (an object from a few servers, kept as its raw JSON).</summary>
    [JsonConverter(typeof(RawJsonStringConverter))]
    public string? Arguments { get; set; }

    /// <summary>A custom tool call's free-form input.</summary>
    public string? Input { get; set; }
}

/// <summary>A content or summary part.</summary>
public sealed class ResponseContentPart
{
    public string? Type { get; set; }

    public string? Text { get; set; }

    public string? Refusal { get; set; }
}

/// <summary>Token counts of a response: <c>input_tokens</c> include the cached ones.</summary>
public sealed class ResponseUsage
{
    public long? InputTokens { get; set; }

    public ResponseInputTokensDetails? InputTokensDetails { get; set; }

    public long? OutputTokens { get; set; }

    public ResponseOutputTokensDetails? OutputTokensDetails { get; set; }

    public long? TotalTokens { get; set; }
}

public sealed class ResponseInputTokensDetails
{
    public long? CachedTokens { get; set; }
}

public sealed class ResponseOutputTokensDetails
{
    public long? ReasoningTokens { get; set; }
}

/// <summary>The <c>error</c> of a failed response.</summary>
public sealed class ResponseError
{
    [JsonConverter(typeof(RawJsonStringConverter))]
    public string? Code { get; set; }

    public string? Message { get; set; }

    public string? Type { get; set; }
}

public sealed class ResponseIncompleteDetails
{
    /// <summary><c>max_output_tokens</c> or <c>content_filter</c>.</summary>
    public string? Reason { get; set; }
}
