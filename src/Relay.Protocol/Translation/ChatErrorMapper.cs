using Relay.Protocol.Anthropic;
using Relay.Protocol.OpenAI;

namespace Relay.Protocol.Translation;

/// <summary>OpenAI-style errors to Anthropic error types and statuses.</summary>
public static class ChatErrorMapper
{
    /// <summary>The wording Claude Code recognises as a context overflow and answers by compacting.</summary>
    public const string PromptTooLong = "prompt is too long";

    /// <summary>The Anthropic status and error type for a provider's HTTP error.</summary>
    /// <remarks>422 (validation) becomes 400; 503 keeps its status and becomes <c>overloaded_error</c>, so clients
    /// back off and retry; other statuses keep their meaning (see ErrorTypes.ForStatus).</remarks>
    public static (int Status, string Type) ForStatus(int upstreamStatus, ChatErrorInfo? error)
    {
        if (error is { } e && IsContextOverflow(e))
        {
            return (400, ErrorTypes.InvalidRequest);
        }

        var status = upstreamStatus switch
        {
            422 => 400,
            < 400 or > 599 => 502,
            _ => upstreamStatus,
        };
        return (status, ErrorTypes.ForStatus(status));
    }

    /// <summary>The message a client sees: the provider's own words, prefixed for context overflows.</summary>
    public static string Describe(string provider, ChatErrorInfo error)
    {
        var message = $"Provider '{provider}': {error.Message}";
        return IsContextOverflow(error) ? $"{PromptTooLong}: {message}" : message;
    }

    /// <summary>An in-band error (error chunk) after the stream began.</summary>
    public static (string Type, string Message) ForStream(ChatError error)
    {
        var info = new ChatErrorInfo(error.Message ?? "unknown error", error.Type, error.Code);
        var type = error.Code switch
        {
            "429" or "rate_limit_exceeded" => ErrorTypes.RateLimit,
            "503" or "529" or "overloaded" => ErrorTypes.Overloaded,
            _ when int.TryParse(error.Code, out var status) && status >= 400 => ErrorTypes.ForStatus(status),
            _ when error.Type is "rate_limit_error" or "rate_limit_exceeded" => ErrorTypes.RateLimit,
            _ when IsContextOverflow(info) => ErrorTypes.InvalidRequest,
            _ => ErrorTypes.Api,
        };
        var message = error.Message ?? "The provider reported an error mid-stream.";
        return (type, IsContextOverflow(info) ? $"{PromptTooLong}: {message}" : message);
    }

    private static bool IsContextOverflow(ChatErrorInfo error) =>
        error.Code is "context_length_exceeded" or "string_above_max_length"
        || error.Message.Contains("context length", StringComparison.OrdinalIgnoreCase)
        || error.Message.Contains("context_length_exceeded", StringComparison.OrdinalIgnoreCase)
        || error.Message.Contains("maximum context", StringComparison.OrdinalIgnoreCase);
}
