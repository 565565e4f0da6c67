using System.Text.Json.Serialization;

namespace Relay.Protocol.OpenAI;

/// <summary>One <c>chat.completion.chunk</c> of an OpenAI-compatible stream, with the vendor fields Relay reads.</summary>
/// <remarks>
/// Only what translation needs is modelled; unknown fields are skipped by the deserializer. Vendors disagree on where
/// usage goes (top level, or inside the choice for Kimi) and send errors in-band, so both are optional everywhere.
/// </remarks>
public sealed class ChatCompletionChunk
{
    public string? Id { get; set; }

    public string? Model { get; set; }

    public List<ChatChunkChoice>? Choices { get; set; }

    public ChatUsage? Usage { get; set; }

    public ChatError? Error { get; set; }
}

public sealed class ChatChunkChoice
{
    public int? Index { get; set; }

    public ChatDelta? Delta { get; set; }

    /// <summary>Some fake-streaming vendors send a whole <c>message</c> in a chunk instead of a delta.</summary>
    public ChatDelta? Message { get; set; }

    public string? FinishReason { get; set; }

    /// <summary>Kimi repeats usage inside the choice.</summary>
    public ChatUsage? Usage { get; set; }

    /// <summary>OpenRouter reports a mid-stream failure here with <c>finish_reason: "error"</c>.</summary>
    public ChatError? Error { get; set; }
}

/// <summary>A streamed delta, and also the shape of a non-streaming <c>message</c>.</summary>
public sealed class ChatDelta
{
    public string? Role { get; set; }

    [JsonConverter(typeof(ContentTextConverter))]
    public string? Content { get; set; }

    /// <summary>DeepSeek, Kimi, GLM, Qwen, vLLM.</summary>
    public string? ReasoningContent { get; set; }

    /// <summary>OpenRouter, Ollama, Groq.</summary>
    public string? Reasoning { get; set; }

    /// <summary>OpenRouter's structured reasoning; only the text and summary parts are read.</summary>
    public List<ChatReasoningDetail>? ReasoningDetails { get; set; }

    public string? Refusal { get; set; }

    public List<ChatToolCallDelta>? ToolCalls { get; set; }

    /// <summary>The deprecated single-call form some older servers still send.</summary>
    public ChatFunctionDelta? FunctionCall { get; set; }
}

public sealed class ChatReasoningDetail
{
    public string? Type { get; set; }

    public string? Text { get; set; }

    public string? Summary { get; set; }
}

public sealed class ChatToolCallDelta
{
    /// <summary>Absent on Kimi and some other servers; Relay then keys the call by id or position.</summary>
    public int? Index { get; set; }

    public string? Id { get; set; }

    public string? Type { get; set; }

    public ChatFunctionDelta? Function { get; set; }

    /// <summary>Gemini's OpenAI endpoint puts the thought signature here; Gemini 3 answers 400 unless it comes back.</summary>
    public ChatExtraContent? ExtraContent { get; set; }
}

public sealed class ChatExtraContent
{
    public ChatGoogleExtra? Google { get; set; }
}

public sealed class ChatGoogleExtra
{
    public string? ThoughtSignature { get; set; }
}

public sealed class ChatFunctionDelta
{
    public string? Name { get; set; }

    /// <summary>A JSON text fragment; a few servers send an object instead, which is kept as its raw JSON.</summary>
    [JsonConverter(typeof(RawJsonStringConverter))]
    public string? Arguments { get; set; }
}

/// <summary>Token counts as OpenAI and the vendors report them; every field is optional.</summary>
public sealed class ChatUsage
{
    public long? PromptTokens { get; set; }

    public long? CompletionTokens { get; set; }

    public long? TotalTokens { get; set; }

    public ChatPromptTokensDetails? PromptTokensDetails { get; set; }

    public ChatCompletionTokensDetails? CompletionTokensDetails { get; set; }

    /// <summary>DeepSeek's cache hit count.</summary>
    public long? PromptCacheHitTokens { get; set; }

    /// <summary>Kimi's top-level cached count.</summary>
    public long? CachedTokens { get; set; }
}

public sealed class ChatPromptTokensDetails
{
    public long? CachedTokens { get; set; }

    /// <summary>Tokens written to the cache (OpenRouter for Anthropic models).</summary>
    public long? CacheWriteTokens { get; set; }
}

public sealed class ChatCompletionTokensDetails
{
    public long? ReasoningTokens { get; set; }
}

/// <summary>A non-streaming <c>chat.completion</c>.</summary>
public sealed class ChatCompletion
{
    public string? Id { get; set; }

    public string? Model { get; set; }

    public List<ChatChunkChoice>? Choices { get; set; }

    public ChatUsage? Usage { get; set; }

    public ChatError? Error { get; set; }
}

/// <summary>The <c>error</c> object of an OpenAI error body or in-band error chunk.</summary>
public sealed class ChatError
{
    public string? Message { get; set; }

    public string? Type { get; set; }

    [JsonConverter(typeof(RawJsonStringConverter))]
    public string? Code { get; set; }

    public string? Param { get; set; }

    /// <summary>Groq's raw model output when its server-side tool-call parsing failed.</summary>
    public string? FailedGeneration { get; set; }
}
