namespace Relay.Protocol.Translation;

/// <summary>The built-in knowledge of each OpenAI-compatible provider family, as <see cref="ChatQuirks"/>.</summary>
/// <remarks>
/// The rules come from the providers' documented behaviour and from the failures other gateways' users reported
/// (see docs/architecture.md, "Translation"). Model-specific rules match on the upstream model name; configuration
/// can override the output limit, vision and reasoning per model.
/// </remarks>
public static class ChatPresets
{
    public const string OpenAI = "openai";
    public const string OpenRouter = "openrouter";
    public const string DeepSeek = "deepseek";
    public const string Kimi = "kimi";
    public const string Glm = "glm";
    public const string Qwen = "qwen";
    public const string Groq = "groq";
    public const string Together = "together";
    public const string Ollama = "ollama";
    public const string Vllm = "vllm";
    public const string Gemini = "gemini";
    public const string Generic = "generic";

    public static readonly string[] Names = [OpenAI, OpenRouter, DeepSeek, Kimi, Glm, Qwen, Groq, Together, Ollama, Vllm, Gemini, Generic];

    /// <summary>The quirks for a preset and upstream model; an unknown preset gets <see cref="Generic"/>'s.</summary>
    public static ChatQuirks Resolve(string preset, string model)
    {
        var m = model.ToLowerInvariant();
        switch (preset)
        {
            case OpenAI:
                var reasoningModel = IsOpenAIReasoningModel(m);
                return new ChatQuirks
                {
                    Preset = preset,
                    UseMaxCompletionTokens = true,
                    Reasoning = reasoningModel ? ReasoningParameter.ReasoningEffort : ReasoningParameter.None,
                    DropSamplingWhenReasoning = true,
                    AcceptsParallelToolCalls = true,
                    AcceptsUser = true,
                    MaxStopSequences = 4,
                    Documents = true,
                    StructuredOutput = StructuredOutputStyle.JsonSchema,
                    MaxOutputTokens = m.StartsWith("gpt-4o", StringComparison.Ordinal) ? 16_384
                        : m.StartsWith("gpt-4.1", StringComparison.Ordinal) ? 32_768
                        : m.StartsWith("gpt-4-turbo", StringComparison.Ordinal) || m.StartsWith("gpt-3.5", StringComparison.Ordinal) ? 4_096
                        : null,
                };
            case OpenRouter:
                return new ChatQuirks
                {
                    Preset = preset,
                    Reasoning = ReasoningParameter.OpenRouter,
                    AcceptsTopK = true,
                    AcceptsParallelToolCalls = true,
                    AcceptsUser = true,
                    Documents = true,
                    KeepCacheControl = m.StartsWith("anthropic/", StringComparison.Ordinal),
                    StructuredOutput = StructuredOutputStyle.JsonSchema,
                };
            case DeepSeek:
                return new ChatQuirks
                {
                    Preset = preset,
                    Reasoning = ReasoningParameter.ThinkingType,
                    EchoReasoningContent = true,
                    // deepseek-reasoner answers 400 to tool_choice (awesome-deepseek-integration#606).
                    AcceptsToolChoice = !m.Contains("reasoner", StringComparison.Ordinal),
                    Vision = false,
                    StructuredOutput = StructuredOutputStyle.JsonObject,
                    // deepseek-chat accepts max_tokens in [1, 8192] (CLIProxyAPI#599).
                    MaxOutputTokens = m.Contains("reasoner", StringComparison.Ordinal) ? 65_536 : m == "deepseek-chat" ? 8_192 : null,
                };
            case Kimi:
                return new ChatQuirks
                {
                    Preset = preset,
                    EchoReasoningContent = true,
                    AcceptsToolChoiceRequired = false,
                    StructuredOutput = StructuredOutputStyle.JsonObject,
                };
            case Glm:
                return new ChatQuirks
                {
                    Preset = preset,
                    Reasoning = ReasoningParameter.ThinkingType,
                    EchoReasoningContent = true,
                    StructuredOutput = StructuredOutputStyle.JsonObject,
                };
            case Qwen:
                return new ChatQuirks
                {
                    Preset = preset,
                    Reasoning = ReasoningParameter.EnableThinking,
                    ThinkingRequiresStream = true,
                    AcceptsTopK = true,
                    AcceptsParallelToolCalls = true,
                    StructuredOutput = StructuredOutputStyle.JsonObject,
                };
            case Groq:
                return new ChatQuirks
                {
                    Preset = preset,
                    UseMaxCompletionTokens = true,
                    Reasoning = m.Contains("gpt-oss", StringComparison.Ordinal) || m.Contains("qwen3", StringComparison.Ordinal) || m.Contains("-r1", StringComparison.Ordinal)
                        ? ReasoningParameter.ReasoningEffort
                        : ReasoningParameter.None,
                    AcceptsParallelToolCalls = true,
                    AcceptsUser = true,
                    StructuredOutput = StructuredOutputStyle.JsonObject,
                };
            case Together:
                return new ChatQuirks
                {
                    Preset = preset,
                    AcceptsTopK = true,
                    AcceptsParallelToolCalls = true,
                    StructuredOutput = StructuredOutputStyle.JsonSchema,
                };
            case Ollama:
                return new ChatQuirks
                {
                    Preset = preset,
                    AcceptsTopK = true,
                    // Most local models are text-only; an image sent to one fails every later turn (claude-code#91112).
                    Vision = false,
                    StructuredOutput = StructuredOutputStyle.JsonSchema,
                };
            case Vllm:
                return new ChatQuirks
                {
                    Preset = preset,
                    AcceptsTopK = true,
                    AcceptsParallelToolCalls = true,
                    StructuredOutput = StructuredOutputStyle.JsonSchema,
                };
            case Gemini:
                return new ChatQuirks
                {
                    Preset = preset,
                    Reasoning = m.StartsWith("gemini-2.5", StringComparison.Ordinal) || m.StartsWith("gemini-3", StringComparison.Ordinal)
                        ? ReasoningParameter.ReasoningEffort
                        : ReasoningParameter.None,
                    Schema = SchemaDialect.Gemini,
                    StructuredOutput = StructuredOutputStyle.JsonSchema,
                };
            default:
                return new ChatQuirks { Preset = Generic };
        }
    }

    private static bool IsOpenAIReasoningModel(string model) =>
        model.StartsWith("gpt-5", StringComparison.Ordinal) || (model.Length > 1 && model[0] == 'o' && char.IsAsciiDigit(model[1]));
}
