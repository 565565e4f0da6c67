using System.Globalization;
using Relay.Storage.Accounts;

namespace Relay.Accounting;

/// <summary>
/// <c>anthropic-ratelimit-requests-*</c> and <c>-tokens-*</c> for a key's own per-minute limits, as Anthropic sends
/// them: the limit, what is left, and when the allowance is full again (RFC 3339, UTC).
/// </summary>
/// <remarks>They are set when the response starts, so they replace any the provider sent about Relay's own account
/// there, which says nothing about the client's key; a key without rate limits gets the provider's headers as before.</remarks>
internal static class RateLimitHeaders
{
    private const string Prefix = "anthropic-ratelimit-";

    public static void Add(HttpResponse response, KeyLimits limits, AdmissionDecision decision)
    {
        if (limits.RequestsPerMinute is null && limits.TokensPerMinute is null)
        {
            return;
        }

        var headers = new List<KeyValuePair<string, string>>(6);
        if (limits.RequestsPerMinute is { } rpm)
        {
            AddBucket(headers, "requests", rpm, decision.RequestsRemaining, decision.RequestsReset);
        }

        if (limits.TokensPerMinute is { } tpm)
        {
            AddBucket(headers, "tokens", tpm, decision.TokensRemaining, decision.TokensReset);
        }

        response.OnStarting(static state =>
        {
            var (response, headers) = ((HttpResponse, List<KeyValuePair<string, string>>))state;
            foreach (var name in response.Headers.Keys.Where(n => n.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase)).ToList())
            {
                response.Headers.Remove(name);
            }

            foreach (var (name, value) in headers)
            {
                response.Headers[name] = value;
            }

            return Task.CompletedTask;
        }, (response, headers));
    }

    private static void AddBucket(List<KeyValuePair<string, string>> headers, string kind, int limit, long? remaining, DateTimeOffset? reset)
    {
        headers.Add(new(Prefix + kind + "-limit", limit.ToString(CultureInfo.InvariantCulture)));
        headers.Add(new(Prefix + kind + "-remaining", (remaining ?? 0).ToString(CultureInfo.InvariantCulture)));
        if (reset is { } at)
        {
            // Rounded up to the whole second, so a client that waits until then finds the allowance full.
            var seconds = (at.ToUnixTimeMilliseconds() + 999) / 1000;
            headers.Add(new(Prefix + kind + "-reset",
                DateTimeOffset.FromUnixTimeSeconds(seconds).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture)));
        }
    }
}
