using Relay.Protocol.Anthropic;
using Relay.Protocol.OpenAI;

namespace Relay.Protocol.Translation;

/// <summary>OpenAI usage (Chat and Responses) to Anthropic usage.</summary>
/// <remarks>Numbers are only ever taken from the provider; nothing is estimated here.</remarks>
public static class UsageMapper
{
    public static TokenUsage ToAnthropic(ChatUsage usage)
    {
        var prompt = Count(usage.PromptTokens);
        var cached = Count(usage.PromptTokensDetails?.CachedTokens ?? usage.PromptCacheHitTokens ?? usage.CachedTokens);
        var written = Count(usage.PromptTokensDetails?.CacheWriteTokens);
        var input = Math.Max(0, prompt - cached - written);
        return new TokenUsage(input, Count(usage.CompletionTokens), written, cached);
    }

    /// <summary>Responses usage to Anthropic usage: input excludes cached tokens, which are reported as cache reads.</summary>
    public static TokenUsage ToAnthropic(ResponseUsage usage)
    {
        var cached = Count(usage.InputTokensDetails?.CachedTokens);
        return new TokenUsage(Math.Max(0, Count(usage.InputTokens) - cached), Count(usage.OutputTokens), 0, cached);
    }

    /// <summary>A reported count; missing or negative (a broken provider) is 0, so usage can never credit a balance.</summary>
    private static long Count(long? reported) => Math.Max(0, reported ?? 0);
}
