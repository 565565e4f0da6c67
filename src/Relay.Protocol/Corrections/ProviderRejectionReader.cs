using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Relay.Protocol.OpenAI;

namespace Relay.Protocol.Corrections;

/// <summary>
/// Reads a provider's refusal of a request (400 or 422) and says what Relay could change so the same request is
/// accepted: an output limit, a context window, a parameter or schema keyword to leave out. Only the wordings below
/// are understood; anything else is no correction, and the refusal goes to the client as it is.
/// </summary>
/// <remarks>The wordings are the providers' own, as their servers send them (DeepSeek, OpenAI and Azure, vLLM, Qwen on
/// DashScope, GLM, Kimi, Gemini's OpenAI endpoint, OpenRouter, Groq, Anthropic-compatible endpoints); each pattern is
/// tested with the provider's text in ProviderRejectionReaderTests.</remarks>
public static partial class ProviderRejectionReader
{
    private const int MaxMessageChars = 4096;

    /// <summary>Parameters that carry what the user asked; Relay never drops them, whatever a provider says.</summary>
    private static readonly HashSet<string> Essential = new(StringComparer.Ordinal)
    {
        "model", "messages", "system", "stream", "tools", "functions", "input", "prompt", "contents",
        "max_tokens", "max_completion_tokens", "max_output_tokens",
    };

    /// <summary>Statuses with which providers refuse a request they consider invalid.</summary>
    public static bool IsRefusalStatus(int status) => status is 400 or 422;

    /// <summary>Reads an error body of any common shape (OpenAI's, Anthropic's, FastAPI's, plain text).</summary>
    public static bool TryRead(int status, ReadOnlySpan<byte> body, out RequestCorrection correction)
    {
        correction = default;
        if (!IsRefusalStatus(status) || body.IsEmpty)
        {
            return false;
        }

        var text = Encoding.UTF8.GetString(body[..Math.Min(body.Length, MaxMessageChars)]);
        return ChatErrorReader.TryRead(body, out var error)
            ? TryRead(error, out correction) || TryReadMessage(text, out correction)
            : TryReadMessage(text, out correction);
    }

    public static bool TryRead(ChatErrorInfo error, out RequestCorrection correction)
    {
        correction = default;
        var message = error.Message.Length > MaxMessageChars ? error.Message[..MaxMessageChars] : error.Message;
        if (TryReadMessage(message, out correction))
        {
            return true;
        }

        // OpenAI names the parameter in `param` with codes such as unsupported_parameter / unknown_parameter.
        if (error.Param is { Length: > 0 } param
            && (error.Code is "unsupported_parameter" or "unknown_parameter" or "unrecognized_parameter"
                || message.Contains("not supported", StringComparison.OrdinalIgnoreCase)
                || message.Contains("unrecognized", StringComparison.OrdinalIgnoreCase)
                || message.Contains("unknown", StringComparison.OrdinalIgnoreCase)))
        {
            return TryDrop(param, out correction);
        }

        return false;
    }

    /// <summary>Reads the provider's message text alone.</summary>
    public static bool TryReadMessage(string message, out RequestCorrection correction)
    {
        correction = default;
        if (message.Length == 0)
        {
            return false;
        }

        // The newer model wants max_completion_tokens (OpenAI's o-series and gpt-5 answer this to max_tokens).
        if (UseMaxCompletionTokensPattern().IsMatch(message))
        {
            correction = new RequestCorrection(CorrectionKind.UseMaxCompletionTokens);
            return true;
        }

        // Context window with the refused request's own input count: max_tokens can be window - input.
        if (ContextWithInputPattern().Match(message) is { Success: true } context)
        {
            var window = Number(context.Groups["window"].Value);
            var input = Number(context.Groups["input"].Value) + Number(context.Groups["tools"].Value);
            if (window > input)
            {
                correction = RequestCorrection.Context(window, input);
                return true;
            }

            return false; // the prompt alone is too long: a real context overflow, for the client to compact
        }

        // Kimi gives the window and input + output together: "exceeded model token limit: 262144 (requested: 269030)".
        if (TokenLimitWithTotalPattern().Match(message) is { Success: true } total)
        {
            correction = new RequestCorrection(CorrectionKind.ContextWindow, Number(total.Groups["window"].Value), RequestedTotal: Number(total.Groups["total"].Value));
            return true;
        }

        // Gemini: "a maxOutputTokens value of 65536 but the supported range is from 1 (inclusive) to 65536 (exclusive)".
        if (ExclusiveRangePattern().Match(message) is { Success: true } exclusive && Number(exclusive.Groups["end"].Value) - 1 is > 0 and var exclusiveMax)
        {
            correction = RequestCorrection.MaxOutput(exclusiveMax);
            return true;
        }

        foreach (var pattern in (ReadOnlySpan<Regex>)[MaxRangePattern(), MaxAtMostPattern(), AnthropicMaxPattern(), MaxComparePattern()])
        {
            if (pattern.Match(message) is { Success: true } limit && Number(limit.Groups["max"].Value) is > 0 and var max)
            {
                correction = RequestCorrection.MaxOutput(max);
                return true;
            }
        }

        if (SchemaKeywordPattern().Match(message) is { Success: true } keyword)
        {
            correction = RequestCorrection.DropKeyword(keyword.Groups["name"].Value);
            return true;
        }

        if (ToolChoicePattern().IsMatch(message))
        {
            correction = RequestCorrection.Drop("tool_choice");
            return true;
        }

        foreach (var pattern in (ReadOnlySpan<Regex>)[UnknownParameterPattern(), ExtraInputPattern(), UnsupportedValuePattern()])
        {
            if (pattern.Match(message) is { Success: true } unknown)
            {
                return TryDrop(unknown.Groups["name"].Value, out correction);
            }
        }

        return false;
    }

    /// <summary>A dotted or indexed path drops its top-level parameter (<c>stream_options.include_usage</c> → <c>stream_options</c>).</summary>
    private static bool TryDrop(string path, out RequestCorrection correction)
    {
        correction = default;
        var name = path.Trim('\'', '"', '`', ' ');
        if (name.StartsWith("body.", StringComparison.Ordinal))
        {
            name = name[5..];
        }

        var end = name.IndexOfAny(['.', '[']);
        name = end > 0 ? name[..end] : name;
        if (name.Length is 0 or > 64 || Essential.Contains(name) || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-'))
        {
            return false;
        }

        correction = RequestCorrection.Drop(name);
        return true;
    }

    private static long Number(string digits) =>
        long.TryParse(digits.Replace(",", "", StringComparison.Ordinal), NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : 0;

    // OpenAI: "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead."
    [GeneratedRegex(@"'?max_tokens'? is not supported.{0,80}max_completion_tokens", RegexOptions.IgnoreCase | RegexOptions.Singleline)]
    private static partial Regex UseMaxCompletionTokensPattern();

    // vLLM: "This model's maximum context length is 32768 tokens. However, you requested 130000 tokens (2000 in the
    // messages, 128000 in the completion)." and "... is too large: 128000. This model's maximum context length is 32768
    // tokens and your request has 2000 input tokens (128000 > 32768 - 2000)."; OpenRouter and Together word it alike.
    [GeneratedRegex(@"maximum context length is (?<window>[\d,]+) tokens.{0,160}?(?:\((?<input>[\d,]+) (?:tokens )?in the messages|request has (?<input>[\d,]+) input tokens \(|\((?<input>[\d,]+) of text input(?:, (?<tools>[\d,]+) of tool input)?)|exceed context limit: (?<input>[\d,]+) \+ [\d,]+ > (?<window>[\d,]+)|`?inputs`? tokens \+ `?max_new_tokens`? must be <= (?<window>[\d,]+)\. Given: (?<input>[\d,]+)", RegexOptions.IgnoreCase | RegexOptions.Singleline)]
    private static partial Regex ContextWithInputPattern();

    [GeneratedRegex(@"exceeded model token limit: (?<window>[\d,]+) \(requested: (?<total>[\d,]+)\)", RegexOptions.IgnoreCase)]
    private static partial Regex TokenLimitWithTotalPattern();

    [GeneratedRegex(@"max_?output_?tokens value of [\d,]+ but the supported range is from \d+ \(inclusive\) to (?<end>[\d,]+) \(exclusive\)", RegexOptions.IgnoreCase)]
    private static partial Regex ExclusiveRangePattern();

    // DeepSeek: "Invalid max_tokens value, the valid range of max_tokens is [1, 8192]";
    // Qwen (DashScope): "Range of max_tokens should be [1, 8192]"; Kimi/GLM: "max_tokens ... range [1, 8192]".
    [GeneratedRegex(@"range of max_(?:completion_|output_)?tokens (?:should be|is|must be) \[\s*\d+\s*,\s*(?<max>[\d,]+)\s*\]|max_(?:completion_|output_)?tokens.{0,60}?(?:range|between).{0,20}?\[?\s*\d+\s*(?:,|-|and|to)\s*(?<max>[\d,]+)\s*[\])]?", RegexOptions.IgnoreCase | RegexOptions.Singleline)]
    private static partial Regex MaxRangePattern();

    // OpenAI: "max_tokens is too large: 128000. This model supports at most 16384 completion tokens, whereas you provided 128000."
    // Groq: "`max_tokens` must be less than or equal to `8192`, the maximum value for `max_tokens` is less than the `context_window`".
    [GeneratedRegex(@"(?:max_(?:completion_|output_|new_)?tokens|output tokens|completion tokens|maximum tokens).{0,100}?(?:supports at most|expected a value <=|exceeds the model limit of|must be less than or equal to|must be <=|should be <=|must not exceed|cannot exceed|can not exceed|up to a maximum of|maximum (?:allowed )?(?:value )?(?:is|of))\s*`?(?<max>\d[\d,]*)|supports at most (?<max>\d[\d,]*) (?:completion|output) tokens", RegexOptions.IgnoreCase | RegexOptions.Singleline)]
    private static partial Regex MaxAtMostPattern();

    // Anthropic and compatible endpoints: "max_tokens: 128000 > 64000, which is the maximum allowed number of output tokens for ..."
    [GeneratedRegex(@"max_tokens:?\s*[\d,]+\s*>\s*(?<max>[\d,]+)", RegexOptions.IgnoreCase)]
    private static partial Regex AnthropicMaxPattern();

    // "max_tokens (128000) exceeds the model's limit (8192)", "max_new_tokens ... greater than 4096".
    [GeneratedRegex(@"max_(?:new_|completion_|output_)?tokens.{0,60}?(?:exceeds?|greater than|larger than|above).{0,40}?(?:limit|max(?:imum)?)?\D{0,12}(?<max>[\d,]{3,})", RegexOptions.IgnoreCase | RegexOptions.Singleline)]
    private static partial Regex MaxComparePattern();

    // Gemini: "Invalid JSON payload received. Unknown name \"exclusiveMinimum\" at 'tools[0].function_declarations[0].parameters...'";
    // OpenAI strict schemas: "'format' is not permitted", "... keyword 'patternProperties' is not supported".
    [GeneratedRegex(@"(?:Unknown name ""(?<name>\$?[A-Za-z][\w$]*)"" at '[^']*(?:parameters|schema)|(?:keyword|schema)[^']{0,40}'(?<name>\$?[A-Za-z][\w$]*)' is not (?:permitted|supported|allowed))", RegexOptions.IgnoreCase)]
    private static partial Regex SchemaKeywordPattern();

    // deepseek-reasoner, vLLM without --enable-auto-tool-choice, Kimi with "required".
    [GeneratedRegex(@"tool_choice.{0,80}(?:not (?:supported|support|allowed)|unsupported|requires --enable-auto-tool-choice|is invalid)|tool_choice.{0,40}(?:is incompatible|does not support being set|should be \[)|(?:does not|doesn't) support (?:the |this )?tool_choice|""auto"" tool choice requires", RegexOptions.IgnoreCase | RegexOptions.Singleline)]
    private static partial Regex ToolChoicePattern();

    // Azure/OpenAI: "Unrecognized request argument supplied: stream_options"; OpenAI: "Unknown parameter: 'foo'.";
    // "Unsupported parameter: 'top_k'"; Groq: "property 'top_k' is unsupported"; Ollama: "unknown field \"foo\"".
    [GeneratedRegex(@"(?:Unrecognized request arguments? supplied:?|Unknown name|Unknown (?:request )?(?:parameter|field|argument)s?:?|Unsupported parameter:?|unsupported (?:request )?(?:parameter|field|argument)s?:?|invalid (?:request )?parameter:?)\s*['""`]?(?<name>[\w.\[\]-]+)['""`]?|(?:property|parameter|field|argument) ['""`](?<name>[\w.\[\]-]+)['""`] (?:is|are) (?:unsupported|not supported|not allowed|not permitted|unknown|unrecognized)", RegexOptions.IgnoreCase)]
    private static partial Regex UnknownParameterPattern();

    // FastAPI/pydantic servers (vLLM, SGLang, LiteLLM proxies): "'loc': ('body', 'foo'), 'msg': 'Extra inputs are not permitted'".
    [GeneratedRegex(@"['""]loc['""]\s*:\s*[\[(]\s*['""]body['""]\s*,\s*['""](?<name>[\w-]+)['""][^\])]*[\])][^{}]{0,80}Extra inputs are not permitted|Extra inputs are not permitted[^{}]{0,40}['""]loc['""]\s*:\s*[\[(]\s*['""]body['""]\s*,\s*['""](?<name>[\w-]+)['""]|^(?<name>[\w.]+): Extra inputs are not permitted", RegexOptions.IgnoreCase | RegexOptions.Multiline)]
    private static partial Regex ExtraInputPattern();

    // OpenAI reasoning models: "Unsupported value: 'temperature' does not support 0.2 with this model. Only the default (1) value is supported."
    [GeneratedRegex(@"Unsupported value:\s*'(?<name>[\w]+)' does not support", RegexOptions.IgnoreCase)]
    private static partial Regex UnsupportedValuePattern();
}
