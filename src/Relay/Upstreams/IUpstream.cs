using Relay.Errors;
using Relay.Protocol.Anthropic;
using Relay.Protocol.Corrections;
using Relay.Protocol.OpenAI;
using Relay.Routing;

namespace Relay.Upstreams;

/// <summary>A provider Relay can send a Messages request to. Writes the client's response itself, streaming.</summary>
internal interface IUpstream
{
    string Name { get; }

    /// <summary>True when the provider authenticates clients itself (<c>apiKey: passthrough</c>).</summary>
    bool ForwardsClientCredentials { get; }

    /// <summary>Sends the request and streams the answer to <see cref="UpstreamRequest.Context"/>.</summary>
    /// <returns>What happened. When nothing was written (<see cref="UpstreamResult.Written"/> false) the caller
    /// may try another route, or answer with <see cref="UpstreamResult.Unsent"/> / <see cref="UpstreamResult.Held"/>.</returns>
    Task<UpstreamResult> SendAsync(UpstreamRequest request, CancellationToken cancellationToken);

    /// <summary>One active health probe, authenticated exactly like a request; null reason means healthy.</summary>
    Task<string?> ProbeAsync(string? path, CancellationToken cancellationToken);

    /// <summary>True when Relay answers this endpoint itself (a local estimate, the mock), so route health does not apply.</summary>
    bool AnswersLocally(MessagesEndpointKind endpoint);

    /// <summary>The corrections this kind of provider can apply (learned from refusals).</summary>
    bool CanApply(CorrectionKind kind);

    /// <summary>The output limit the operator configured for this upstream model, which learned limits never override.</summary>
    int? ConfiguredMaxTokens(string upstreamModel);
}

/// <summary>Everything an upstream needs for one call.</summary>
internal sealed class UpstreamRequest
{
    public required HttpContext Context { get; init; }

    /// <summary>The client's protocol: how an answer translated from another protocol is written.</summary>
    public required Doors.IFrontDoor Door { get; init; }

    public required MessagesEndpointKind Endpoint { get; init; }

    /// <summary>The client's body with the model already rewritten to <see cref="Target"/>'s (unchanged for <c>provider/*</c>).</summary>
    public required ReadOnlyMemory<byte> Body { get; init; }

    public required MessagesRequestInfo Info { get; init; }

    public required RouteTarget Target { get; init; }

    /// <summary>True when the client's credential was a Relay key, which must never leave Relay.</summary>
    public required bool ClientUsedRelayKey { get; init; }

    public required RequestTiming Timing { get; init; }

    /// <summary>What to change for this provider and model, learned from its refusals: parameters to leave out
    /// (named in the provider's protocol) and translator switches. Output limits are already in <see cref="Body"/>.</summary>
    public ProviderCorrections Corrections { get; init; } = ProviderCorrections.None;

    /// <summary>Called once when the provider's answer begins (success status and first bytes), so a circuit probe
    /// succeeds then rather than when a long stream ends.</summary>
    public Action? AnswerBegan { get; init; }

    /// <summary>Told the tokens seen so far when the call is cancelled part-way (the client left, Relay is stopping),
    /// so the usage record keeps them.</summary>
    public Action<TokenUsage>? UsageSoFar { get; init; }

    /// <summary>The output limit <see cref="Body"/> carries instead of the client's (configured or learned), if any:
    /// for a pass-through of the client's own body, which must get the same limit.</summary>
    public long? MaxTokensCap { get; init; }

    /// <summary>The most output the provider may generate for this call (0 or less: no limit known), which caps an
    /// output estimate.</summary>
    public long OutputLimit => MaxTokensCap ?? Info.MaxTokens;
}

/// <summary>The provider refused the request as invalid (400/422) before anything reached the client: its words,
/// which may say what Relay can correct.</summary>
internal sealed record UpstreamRefusal(int Status, ChatErrorInfo Error);

/// <summary>An upstream's error answer that was read but not forwarded, so another route can be tried first.
/// If no other attempt succeeds it is forwarded exactly as received.</summary>
internal sealed record HeldResponse(int Status, KeyValuePair<string, string[]>[] Headers, byte[] Body, TimeSpan? RetryAfter)
{
    /// <summary>Whether another route or a later attempt could get a better answer (429, 5xx, 529...).</summary>
    public bool Retryable => Upstreams.RetryAfter.IsRetryableStatus(Status);
}

/// <summary>The outcome of one upstream call.</summary>
/// <param name="Status">The status the client got, or would get.</param>
/// <param name="Usage">Tokens, as the upstream reported them.</param>
/// <param name="ErrorType">The Anthropic error type when it failed, also for errors inside a stream.</param>
/// <param name="Unsent">Set when Relay must answer this error itself (nothing was written).</param>
/// <param name="Held">Set when an upstream error answer was held back for a possible retry (nothing was written).</param>
/// <param name="UpstreamFailed">Whether the failure is the upstream's fault, for its circuit breaker.</param>
/// <param name="HeadersMs">Milliseconds until the upstream's response headers, if it answered.</param>
internal readonly record struct UpstreamResult(int Status, TokenUsage Usage, string? ErrorType, RelayError? Unsent, HeldResponse? Held,
    bool UpstreamFailed, double? HeadersMs)
{
    public static UpstreamResult NotSent(RelayError error) => new(error.Status, default, error.Type, error, null, error.Retryable, null);

    /// <summary>Set when the provider refused the request as invalid; the dispatcher may correct it and try again.</summary>
    public UpstreamRefusal? Refusal { get; init; }

    /// <summary>True when something was sent to the client, so nothing may be retried.</summary>
    public bool Written => Unsent is null && Held is null;

    /// <summary>True when trying again (elsewhere or later) could succeed.</summary>
    public bool Retryable => Held?.Retryable ?? Unsent?.Retryable == true;
}
