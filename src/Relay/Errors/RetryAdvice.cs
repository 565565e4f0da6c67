using System.Globalization;

namespace Relay.Errors;

/// <summary>
/// The <c>retry-after</c> Relay tells clients: whole seconds, rounded up (Claude Code reads the header as an integer).
/// A provider wait longer than Claude Code sits through becomes an error that says how long, so the user learns it at
/// once instead of watching retries that cannot succeed.
/// </summary>
internal static class RetryAdvice
{
    /// <summary>The longest <c>retry-after</c> Claude Code waits out by itself; above it, it stops retrying.</summary>
    public static readonly TimeSpan ClientLimit = TimeSpan.FromSeconds(60);

    public static string Seconds(TimeSpan wait) => WholeSeconds(wait).ToString(CultureInfo.InvariantCulture);

    public static bool IsTooLong(TimeSpan? wait) => wait > ClientLimit;

    /// <summary>The error message for a wait over <see cref="ClientLimit"/>; <paramref name="detail"/> is what the provider said.</summary>
    public static string LongWaitMessage(string provider, TimeSpan wait, string? detail) =>
        $"Provider '{provider}' asked to wait {Describe(wait)} before trying again, longer than clients retry by themselves: "
        + "try again later, or give this model a fallback route to another provider."
        + (string.IsNullOrWhiteSpace(detail) ? "" : $" Provider's answer: {detail}");

    /// <summary>A provider's error as the client should get it: a wait longer than clients retry by themselves is said
    /// in the message and marked not to be retried.</summary>
    public static RelayError ForClient(RelayError error, string provider) =>
        IsTooLong(error.RetryAfter)
            ? error with { Message = LongWaitMessage(provider, error.RetryAfter!.Value, error.Message), Retryable = false }
            : error;

    private static long WholeSeconds(TimeSpan wait) => (long)Math.Ceiling(Math.Max(0, wait.TotalSeconds));

    private static string Describe(TimeSpan wait)
    {
        var seconds = WholeSeconds(wait);
        return seconds switch
        {
            < 120 => $"{seconds} s",
            < 7200 => $"{seconds} s (about {Math.Round(seconds / 60.0).ToString(CultureInfo.InvariantCulture)} min)",
            _ => $"{seconds} s (about {Math.Round(seconds / 3600.0, 1).ToString(CultureInfo.InvariantCulture)} h)",
        };
    }
}
