using Relay.Protocol.Anthropic;
using Relay.Protocol.OpenAI;

namespace Relay.Protocol.Translation;

/// <summary>OpenAI usage to Anthropic usage: input excludes cached tokens, which are reported as cache reads.</summary>
/// <remarks>Numbers are only ever taken from the provider; nothing is estimated here.</remarks>
public static class UsageMapper
{
    public static TokenUsage ToAnthropic(ChatUsage usage)
    {
        var prompt = usage.PromptTokens ?? 0;
        var cached = usage.PromptTokensDetails?.CachedTokens ?? usage.PromptCacheHitTokens ?? usage.CachedTokens ?? 0;
        var written = usage.PromptTokensDetails?.CacheWriteTokens ?? 0;
        var input = Math.Max(0, prompt - cached - written);
        return new TokenUsage(input, usage.CompletionTokens ?? 0, written, cached);
    }
}
