namespace Relay.Protocol.Anthropic;

/// <summary>Token counts of one request, in Anthropic's terms (input excludes cached tokens).</summary>
public record struct TokenUsage(long InputTokens, long OutputTokens, long CacheCreationInputTokens, long CacheReadInputTokens)
{
    /// <summary>Applies the fields a later event reported; Anthropic's <c>message_delta</c> usage is cumulative.</summary>
    public void Apply(in UsageFields fields)
    {
        if (fields.InputTokens is { } input)
        {
            InputTokens = input;
        }

        if (fields.OutputTokens is { } output)
        {
            OutputTokens = output;
        }

        if (fields.CacheCreationInputTokens is { } creation)
        {
            CacheCreationInputTokens = creation;
        }

        if (fields.CacheReadInputTokens is { } read)
        {
            CacheReadInputTokens = read;
        }
    }
}

/// <summary>The usage fields one JSON object carried; absent fields are null.</summary>
public struct UsageFields
{
    public long? InputTokens;
    public long? OutputTokens;
    public long? CacheCreationInputTokens;
    public long? CacheReadInputTokens;

    public readonly bool HasAny =>
        InputTokens.HasValue || OutputTokens.HasValue || CacheCreationInputTokens.HasValue || CacheReadInputTokens.HasValue;
}
