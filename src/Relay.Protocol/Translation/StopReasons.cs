namespace Relay.Protocol.Translation;

/// <summary>OpenAI <c>finish_reason</c> to Anthropic <c>stop_reason</c>.</summary>
public static class StopReasons
{
    /// <summary>Maps a finish reason; any emitted tool call makes it <c>tool_use</c>, whatever the provider said
    /// (several report <c>stop</c> with tool calls, and Claude Code only runs tools on <c>tool_use</c>).</summary>
    public static string FromFinishReason(string? finishReason, bool emittedToolUse)
    {
        if (emittedToolUse)
        {
            return "tool_use";
        }

        return finishReason switch
        {
            "length" or "max_tokens" => "max_tokens",
            "content_filter" or "refusal" or "safety" => "refusal",
            "tool_calls" or "function_call" => "end_turn", // no call survived translation
            _ => "end_turn",
        };
    }
}
