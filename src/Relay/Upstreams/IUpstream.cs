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
    /// <returns>What happened; <see cref="UpstreamResult.Unsent"/> is set when nothing was written, so the caller
    /// can answer with that error (or try another route).</returns>
    Task<UpstreamResult> SendAsync(UpstreamRequest request, CancellationToken cancellationToken);
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

/// <summary>The outcome of one upstream call.</summary>
internal readonly record struct UpstreamResult(int Status, TokenUsage Usage, string? ErrorType, RelayError? Unsent)
{
    public static UpstreamResult NotSent(RelayError error) => new(error.Status, default, error.Type, error);
}
