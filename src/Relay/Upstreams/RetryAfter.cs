using System.Globalization;

namespace Relay.Upstreams;

/// <summary>Reads how long an upstream asked us to wait: <c>retry-after-ms</c>, or <c>retry-after</c> in seconds or
/// as an HTTP date (the forms Anthropic's SDKs honour).</summary>
internal static class RetryAfter
{
    public static TimeSpan? From(HttpResponseMessage response, DateTimeOffset now)
    {
        if (response.Headers.TryGetValues("retry-after-ms", out var msValues)
            && double.TryParse(msValues.FirstOrDefault(), NumberStyles.Float, CultureInfo.InvariantCulture, out var ms) && ms >= 0)
        {
            return TimeSpan.FromMilliseconds(ms);
        }

        if (response.Headers.RetryAfter is not { } retryAfter)
        {
            return null;
        }

        if (retryAfter.Delta is { } delta)
        {
            return delta;
        }

        return retryAfter.Date is { } date ? (date > now ? date - now : TimeSpan.Zero) : null;
    }

    /// <summary>The statuses worth trying again, elsewhere or later: the rule both official SDKs (Anthropic's and
    /// OpenAI's) retry by, for every provider kind.</summary>
    public static bool IsRetryableStatus(int status) => status is 408 or 409 or 429 or >= 500;
}
