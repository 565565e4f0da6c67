using Relay.Protocol.Anthropic;

namespace Relay.Errors;

/// <summary>An error Relay answers itself, before anything else was sent to the client.</summary>
/// <param name="Status">The HTTP status.</param>
/// <param name="Type">The Anthropic <c>error.type</c>.</param>
/// <param name="Message">What went wrong and what to do; never a secret.</param>
/// <param name="Retryable">False adds <c>x-should-retry: false</c>, so Claude Code does not retry for minutes.</param>
internal sealed record RelayError(int Status, string Type, string Message, bool Retryable)
{
    /// <summary>How long the client should wait before retrying, sent as <c>retry-after</c>.</summary>
    public TimeSpan? RetryAfter { get; init; }

    /// <summary>The request field at fault, for protocols whose errors name one (OpenAI's <c>error.param</c>).</summary>
    public string? Param { get; init; }

    public static RelayError InvalidRequest(string message) => new(400, ErrorTypes.InvalidRequest, message, false);

    public static RelayError MissingKey() => new(401, ErrorTypes.Authentication,
        "No API key: send your Relay key as the x-api-key header or as Authorization: Bearer <key>.", false);

    public static RelayError InvalidKey() => new(401, ErrorTypes.Authentication,
        "Invalid API key: it is not a Relay key, or it was revoked. Create one with `relay keys create --name NAME`.", false);

    /// <summary>The key could not be checked: the store failed and this instance had not seen the key lately.</summary>
    public static RelayError KeyStoreUnavailable() => new(503, ErrorTypes.Api,
        "Relay could not check this API key (its database did not answer), so the request was not served; retry shortly.", true);

    /// <summary>Too many requests without a valid key from one address (<c>unauthenticatedLimit</c>). Retrying cannot help
    /// without a valid key, so it is not retryable; <c>retry-after</c> still says when the address may try again.</summary>
    public static RelayError TooManyUnauthenticated(TimeSpan wait) => new(429, ErrorTypes.RateLimit,
        "Too many requests without a valid API key from this address; send a valid Relay key, or wait for retry-after.", false)
    {
        RetryAfter = wait,
    };

    /// <summary>The admin key sent to a model endpoint: refused here, so it can never reach a passthrough provider.</summary>
    public static RelayError AdminKeyOnClientEndpoint() => new(403, ErrorTypes.Permission,
        "The admin key cannot be used for model requests; use a client key.", false);

    public static RelayError NotFound(string message) => new(404, ErrorTypes.NotFound, message, false);

    public static RelayError TooLarge(long limitBytes) => new(413, ErrorTypes.RequestTooLarge,
        $"Request body exceeds Relay's limit of {limitBytes / (1024 * 1024)} MB (maxRequestBodyMB).", false);

    public static RelayError Unreachable(string provider, string reason) => new(502, ErrorTypes.Api,
        $"Relay could not reach provider '{provider}': {reason}", true);

    public static RelayError UpstreamTimeout(string provider, int seconds) => new(504, ErrorTypes.Timeout,
        $"Provider '{provider}' did not start answering within {seconds} s (timeoutSeconds).", true);

    public static RelayError Internal(string requestId) => new(500, ErrorTypes.Api,
        $"Relay hit an internal error (request-id {requestId}); details are in the Relay log.", true);
}
