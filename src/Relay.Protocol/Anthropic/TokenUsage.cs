namespace Relay.Protocol.Anthropic;

/// <summary>Token counts of one request, in Anthropic's terms (input excludes cached tokens).</summary>
public record struct TokenUsage(long InputTokens, long OutputTokens, long CacheCreationInputTokens, long CacheReadInputTokens)
{
    /// <summary>The part of <see cref="CacheCreationInputTokens"/> written for one hour (<c>cache_creation.ephemeral_1h_input_tokens</c>);
    /// the rest was written for five minutes.</summary>
    public long CacheCreation1hInputTokens { get; set; }

    /// <summary>Server-tool calls the provider ran and bills per call: web searches (<c>server_tool_use.web_search_requests</c>).
    /// Web fetches cost only the tokens they add, so they are not counted.</summary>
    public long ServerToolUses { get; set; }

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

        if (fields.CacheCreation1hInputTokens is { } oneHour)
        {
            CacheCreation1hInputTokens = oneHour;
        }

        if (fields.ServerToolUses is { } serverToolUses)
        {
            ServerToolUses = serverToolUses;
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
    public long? CacheCreation1hInputTokens;
    public long? ServerToolUses;

    public readonly bool HasAny =>
        InputTokens.HasValue || OutputTokens.HasValue || CacheCreationInputTokens.HasValue || CacheReadInputTokens.HasValue
        || CacheCreation1hInputTokens.HasValue || ServerToolUses.HasValue;
}
