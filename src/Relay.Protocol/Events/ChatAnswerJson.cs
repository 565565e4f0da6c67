using System.Text.Json;
using Relay.Protocol.Anthropic;

namespace Relay.Protocol.Events;

/// <summary>The parts of a Chat Completions answer both of its writers (stream and whole) share.</summary>
public static class ChatAnswerJson
{
    /// <summary><c>chatcmpl-</c> and the message id without its <c>msg_</c>: the same answer keeps the same id in both
    /// protocols' logs.</summary>
    public static string CompletionId(string messageId) =>
        "chatcmpl-" + (messageId.StartsWith("msg_", StringComparison.Ordinal) ? messageId[4..] : messageId);

    /// <summary>Anthropic's stop reason as OpenAI's <c>finish_reason</c>.</summary>
    public static string FinishReason(string? stopReason) => stopReason switch
    {
        "max_tokens" or "model_context_window_exceeded" => "length",
        "tool_use" => "tool_calls",
        "refusal" => "content_filter",
        _ => "stop", // end_turn, stop_sequence, pause_turn, and whatever comes next
    };

    /// <summary>OpenAI's usage: prompt tokens include cached ones (read and written), which Anthropic counts apart.</summary>
    public static void WriteUsage(Utf8JsonWriter w, in TokenUsage usage)
    {
        var prompt = usage.InputTokens + usage.CacheReadInputTokens + usage.CacheCreationInputTokens;
        w.WriteStartObject("usage"u8);
        w.WriteNumber("prompt_tokens"u8, prompt);
        w.WriteNumber("completion_tokens"u8, usage.OutputTokens);
        w.WriteNumber("total_tokens"u8, prompt + usage.OutputTokens);
        w.WriteStartObject("prompt_tokens_details"u8);
        w.WriteNumber("cached_tokens"u8, usage.CacheReadInputTokens);
        w.WriteEndObject();
        w.WriteEndObject();
    }

    /// <summary>Writes OpenAI's error object <c>{"error":{"message","type","param","code"}}</c> for an Anthropic error
    /// type: <c>type</c> in OpenAI's vocabulary, <c>code</c> the Anthropic type, so nothing is lost.</summary>
    public static void WriteError(Utf8JsonWriter w, string anthropicType, string message, string? param = null)
    {
        w.WriteStartObject();
        w.WriteStartObject("error"u8);
        w.WriteString("message"u8, message);
        w.WriteString("type"u8, ErrorType(anthropicType));
        if (param is null)
        {
            w.WriteNull("param"u8);
        }
        else
        {
            w.WriteString("param"u8, param);
        }

        w.WriteString("code"u8, anthropicType);
        w.WriteEndObject();
        w.WriteEndObject();
    }

    /// <summary>OpenAI's <c>error.type</c> for an Anthropic one.</summary>
    public static string ErrorType(string anthropicType) => anthropicType switch
    {
        ErrorTypes.InvalidRequest or ErrorTypes.RequestTooLarge or ErrorTypes.NotFound => "invalid_request_error",
        ErrorTypes.Authentication => "authentication_error",
        ErrorTypes.Permission => "permission_error",
        ErrorTypes.RateLimit => "rate_limit_error",
        ErrorTypes.Billing => "insufficient_quota",
        _ => "server_error",
    };

    /// <summary>The client's name for a tool, when the request had to shorten it.</summary>
    internal static string ClientToolName(IReadOnlyDictionary<string, string>? toolNames, string name) =>
        toolNames is not null && toolNames.TryGetValue(name, out var original) ? original : name;
}
