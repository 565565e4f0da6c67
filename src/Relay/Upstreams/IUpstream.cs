using Relay.Errors;
using Relay.Protocol.Anthropic;
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

    /// <summary>One active health probe; null reason means healthy.</summary>
    Task<string?> ProbeAsync(string? path, CancellationToken cancellationToken);
}

/// <summary>Everything an upstream needs for one call.</summary>
internal sealed class UpstreamRequest
{
    public required HttpContext Context { get; init; }

    public required MessagesEndpointKind Endpoint { get; init; }

    /// <summary>The client's body with the model already rewritten to <see cref="Target"/>'s (unchanged for <c>provider/*</c>).</summary>
    public required ReadOnlyMemory<byte> Body { get; init; }

    public required MessagesRequestInfo Info { get; init; }

    public required RouteTarget Target { get; init; }

    /// <summary>True when the client's credential was a Relay key, which must never leave Relay.</summary>
    public required bool ClientUsedRelayKey { get; init; }

    public required RequestTiming Timing { get; init; }
}

/// <summary>An upstream's error answer that was read but not forwarded, so another route can be tried first.
/// If no other attempt succeeds it is forwarded exactly as received.</summary>
internal sealed record HeldResponse(int Status, KeyValuePair<string, string[]>[] Headers, byte[] Body, TimeSpan? RetryAfter);

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

    /// <summary>True when something was sent to the client, so nothing may be retried.</summary>
    public bool Written => Unsent is null && Held is null;

    /// <summary>True when trying again (elsewhere or later) could succeed.</summary>
    public bool Retryable => Held is not null || Unsent?.Retryable == true;
}
