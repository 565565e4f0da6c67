namespace Relay.Routing;

/// <summary>Exponential backoff with jitter between rounds of retries: 0.5 s, 1 s, 2 s … capped at 8 s, each
/// scaled by a random 50–100 % so that clients failing together do not retry together.</summary>
internal static class Backoff
{
    public static TimeSpan ForRound(int round, TimeSpan? retryAfter)
    {
        var exponential = TimeSpan.FromMilliseconds(Math.Min(8000, 500 * Math.Pow(2, Math.Max(0, round - 1))));
        var jittered = exponential * (0.5 + (Random.Shared.NextDouble() * 0.5));
        return retryAfter is { } wait && wait > jittered ? wait : jittered;
    }
}
