using Relay.Errors;
using Relay.Protocol.Anthropic;

namespace Relay.Upstreams;

/// <summary>What a failed send means, for the client and for the route's circuit breaker.</summary>
internal static class UpstreamFailures
{
    /// <summary>The error for a send that threw before the provider answered. The HTTP client refusing the request
    /// itself (an unknown error with no network cause) means the request never left Relay: not the provider's
    /// failure, and no other route would take it either.</summary>
    public static RelayError ForSendFailure(string provider, HttpRequestException ex, string reason) =>
        NeverLeftRelay(ex)
            ? new RelayError(400, ErrorTypes.InvalidRequest, $"Relay could not send this request to provider '{provider}': {reason}", false)
            : RelayError.Unreachable(provider, reason);

    public static bool NeverLeftRelay(HttpRequestException ex) => ex.HttpRequestError == HttpRequestError.Unknown && ex.InnerException is null;

    /// <summary>A reason a person can act on.</summary>
    public static string Describe(HttpRequestException ex) => ex.HttpRequestError switch
    {
        HttpRequestError.NameResolutionError => $"DNS lookup failed ({ex.Message})",
        HttpRequestError.ConnectionError => $"connection failed ({ex.Message})",
        HttpRequestError.SecureConnectionError => $"TLS handshake failed ({ex.Message})",
        HttpRequestError.ResponseEnded => "the connection closed before a complete answer",
        // "An error occurred while sending the request." says nothing by itself; the cause (a reset, say) is inside.
        _ => ex.InnerException is { } inner && !string.IsNullOrEmpty(inner.Message) ? $"{ex.Message} ({inner.Message})" : ex.Message,
    };
}
