namespace Relay.Protocol.Corrections;

/// <summary>What a provider's refusal says Relay can change in the request without changing what the user asked.</summary>
public enum CorrectionKind
{
    /// <summary>The model's output limit: <c>max_tokens</c> is capped at <see cref="RequestCorrection.Value"/>.</summary>
    MaxOutputTokens,

    /// <summary>The model's context window (<see cref="RequestCorrection.Value"/>): <c>max_tokens</c> is capped at the window
    /// minus the input, which <see cref="RequestCorrection.InputTokens"/> gives for the refused request.</summary>
    ContextWindow,

    /// <summary>A top-level request parameter the provider does not accept is left out.</summary>
    DropParameter,

    /// <summary>A JSON Schema keyword the provider does not accept is left out of tool parameter schemas.</summary>
    DropSchemaKeyword,

    /// <summary>The provider wants <c>max_completion_tokens</c> instead of <c>max_tokens</c>.</summary>
    UseMaxCompletionTokens,
}

/// <summary>One correction read from a provider's refusal.</summary>
/// <param name="Kind">What to change.</param>
/// <param name="Value">The limit, for <see cref="CorrectionKind.MaxOutputTokens"/> and <see cref="CorrectionKind.ContextWindow"/>.</param>
/// <param name="Name">The parameter or schema keyword, for the drop kinds.</param>
/// <param name="InputTokens">For <see cref="CorrectionKind.ContextWindow"/>: the refused request's input, as the provider counted it.</param>
/// <param name="RequestedTotal">For <see cref="CorrectionKind.ContextWindow"/> when the provider gives only input and output
/// together (Kimi): the input is this minus the <c>max_tokens</c> that was sent.</param>
public readonly record struct RequestCorrection(CorrectionKind Kind, long Value = 0, string? Name = null, long? InputTokens = null, long? RequestedTotal = null)
{
    /// <summary>The refused request's input tokens, when the refusal says, given the <c>max_tokens</c> that was sent.</summary>
    public long? InputGiven(long sentMaxTokens) => InputTokens ?? (RequestedTotal - sentMaxTokens is { } input and > 0 ? input : null);

    public static RequestCorrection MaxOutput(long limit) => new(CorrectionKind.MaxOutputTokens, limit);

    public static RequestCorrection Context(long window, long? inputTokens) => new(CorrectionKind.ContextWindow, window, InputTokens: inputTokens);

    public static RequestCorrection Drop(string parameter) => new(CorrectionKind.DropParameter, Name: parameter);

    public static RequestCorrection DropKeyword(string keyword) => new(CorrectionKind.DropSchemaKeyword, Name: keyword);

    /// <summary>How <c>relay routes</c> and the log describe it.</summary>
    public override string ToString() => Kind switch
    {
        CorrectionKind.MaxOutputTokens => $"max_tokens <= {Value}",
        CorrectionKind.ContextWindow => $"context window {Value} tokens",
        CorrectionKind.DropParameter => $"drops parameter {Name}",
        CorrectionKind.DropSchemaKeyword => $"drops schema keyword {Name}",
        CorrectionKind.UseMaxCompletionTokens => "sends max_completion_tokens",
        _ => Kind.ToString(),
    };
}
