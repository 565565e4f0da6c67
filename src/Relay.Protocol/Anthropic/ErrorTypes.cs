namespace Relay.Protocol.Anthropic;

/// <summary>The <c>error.type</c> values of the Anthropic Messages API, with the HTTP status each one goes with.</summary>
public static class ErrorTypes
{
    public const string InvalidRequest = "invalid_request_error";       // 400
    public const string Authentication = "authentication_error";        // 401
    public const string Billing = "billing_error";                      // 402
    public const string Permission = "permission_error";                // 403
    public const string NotFound = "not_found_error";                   // 404
    public const string RequestTooLarge = "request_too_large";          // 413
    public const string RateLimit = "rate_limit_error";                 // 429
    public const string Api = "api_error";                              // 500
    public const string Timeout = "timeout_error";                      // 504
    public const string Overloaded = "overloaded_error";                // 529

    /// <summary>The error type Anthropic uses for a status, for upstream errors that arrive without one.</summary>
    public static string ForStatus(int status) => status switch
    {
        400 or 422 => InvalidRequest,
        401 => Authentication,
        402 => Billing,
        403 => Permission,
        404 => NotFound,
        413 => RequestTooLarge,
        429 => RateLimit,
        504 or 408 => Timeout,
        529 or 503 => Overloaded,
        _ => Api,
    };
}
