namespace Relay.Protocol.Translation;

/// <summary>How a provider wants to be asked to reason, if at all.</summary>
public enum ReasoningParameter
{
    /// <summary>Send nothing: the model decides (Kimi), or reasoning parameters would be rejected (most local servers).</summary>
    None,

    /// <summary><c>reasoning_effort: low|medium|high</c> (OpenAI, Groq, Gemini).</summary>
    ReasoningEffort,

    /// <summary><c>reasoning: {effort | max_tokens | enabled:false}</c> (OpenRouter).</summary>
    OpenRouter,

    /// <summary><c>thinking: {type: enabled|disabled}</c> (DeepSeek V3.2+, GLM).</summary>
    ThinkingType,

    /// <summary><c>enable_thinking</c> and <c>thinking_budget</c> (Qwen on DashScope).</summary>
    EnableThinking,
}

/// <summary>How <c>output_config.format</c> (structured output) reaches the provider.</summary>
public enum StructuredOutputStyle
{
    /// <summary><c>response_format: {type: json_schema}</c>.</summary>
    JsonSchema,

    /// <summary><c>response_format: {type: json_object}</c> plus the schema as an instruction.</summary>
    JsonObject,

    /// <summary>Only the instruction: for servers whose support is unknown.</summary>
    InstructionOnly,
}

/// <summary>Which JSON Schema keywords tool parameters may use.</summary>
public enum SchemaDialect
{
    /// <summary>Everything but <c>$schema</c>/<c>$id</c>, which some servers reject and none needs.</summary>
    Standard,

    /// <summary>Gemini's OpenAPI subset: an allowlist, <c>$ref</c> inlined, type arrays made <c>nullable</c>.</summary>
    Gemini,
}

/// <summary>What one provider (and model) accepts in a Chat Completions request: the switches the translator reads.</summary>
/// <remarks>
/// Built by <see cref="ChatPresets.Resolve"/> from a preset name and an upstream model, then adjusted by per-model
/// configuration. Immutable; one instance serves any number of concurrent requests.
/// </remarks>
public sealed record ChatQuirks
{
    public required string Preset { get; init; }

    /// <summary>Send <c>max_completion_tokens</c> rather than <c>max_tokens</c> (OpenAI reasoning models, Groq).</summary>
    public bool UseMaxCompletionTokens { get; init; }

    /// <summary>The model's output limit; the client's <c>max_tokens</c> is clamped to it, never raised.</summary>
    public int? MaxOutputTokens { get; init; }

    public ReasoningParameter Reasoning { get; init; }

    /// <summary>Earlier thinking goes back as <c>reasoning_content</c> on assistant messages (DeepSeek, Kimi, GLM require it with tool calls).</summary>
    public bool EchoReasoningContent { get; init; }

    /// <summary><c>temperature</c>/<c>top_p</c> are dropped whenever reasoning is requested (OpenAI reasoning models reject them).</summary>
    public bool DropSamplingWhenReasoning { get; init; }

    public bool AcceptsTopK { get; init; }

    /// <summary>False drops <c>tool_choice</c> entirely (deepseek-reasoner rejects it).</summary>
    public bool AcceptsToolChoice { get; init; } = true;

    /// <summary>False sends <c>auto</c> where the client forced a tool (some Kimi versions reject <c>required</c>).</summary>
    public bool AcceptsToolChoiceRequired { get; init; } = true;

    public bool AcceptsParallelToolCalls { get; init; }

    /// <summary>Whether <c>user</c> (from <c>metadata.user_id</c>) is sent.</summary>
    public bool AcceptsUser { get; init; }

    /// <summary>OpenAI proper allows at most four stop sequences.</summary>
    public int MaxStopSequences { get; init; } = int.MaxValue;

    /// <summary>False replaces images with a text placeholder, so a text-only model does not answer 400 forever.</summary>
    public bool Vision { get; init; } = true;

    /// <summary>PDFs as <c>file</c> parts (OpenAI, OpenRouter); otherwise a placeholder or the document's text.</summary>
    public bool Documents { get; init; }

    /// <summary>Keep Anthropic <c>cache_control</c> on text parts (OpenRouter to <c>anthropic/*</c> models).</summary>
    public bool KeepCacheControl { get; init; }

    public StructuredOutputStyle StructuredOutput { get; init; } = StructuredOutputStyle.InstructionOnly;

    public SchemaDialect Schema { get; init; }

    /// <summary><c>stream_options.include_usage</c>: without it most servers send no usage in streams.</summary>
    public bool StreamUsage { get; init; } = true;

    /// <summary>Thinking must be off for non-streaming calls (DashScope answers 400 otherwise).</summary>
    public bool ThinkingRequiresStream { get; init; }

    /// <summary>JSON Schema keywords left out of tool parameters, learned from the provider's refusals.</summary>
    public IReadOnlySet<string> DroppedSchemaKeywords { get; init; } = EmptySet;

    private static readonly IReadOnlySet<string> EmptySet = new HashSet<string>();
}
