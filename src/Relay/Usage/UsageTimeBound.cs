using System.Globalization;
using Relay.Cli;

namespace Relay.Usage;

/// <summary>
/// The start or end of a usage period as people write it: a duration back from now (<c>30m</c>, <c>24h</c>, <c>7d</c>,
/// <c>2w</c>), a UTC day (<c>2026-03-01</c>) or an ISO 8601 instant (<c>2026-03-01T12:00:00Z</c>, UTC unless it says
/// otherwise). Shared by <c>relay usage</c> and the admin API, so both read the same text the same way.
/// </summary>
internal static class UsageTimeBound
{
    public const string Forms = "a duration such as 30m, 24h or 7d (at most 100 years), a day such as 2026-03-01, or an ISO 8601 time";

    /// <param name="endOfDay">For an end bound (exclusive): a day then means up to the end of that day, so
    /// <c>--until 2026-03-01</c> includes the whole of March 1st.</param>
    public static bool TryParse(string? text, DateTimeOffset now, bool endOfDay, out DateTimeOffset bound)
    {
        bound = default;
        text = text?.Trim();
        if (string.IsNullOrEmpty(text))
        {
            return false;
        }

        if (KeyLimitOptions.TryParseDuration(text, out var span))
        {
            if (now - DateTimeOffset.MinValue < span)
            {
                return false;
            }

            bound = now - span;
            return true;
        }

        if (DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day))
        {
            var start = new DateTimeOffset(day.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
            // The calendar's last day has no next day to end at: until then is until the end of time.
            bound = !endOfDay ? start : day == DateOnly.MaxValue ? DateTimeOffset.MaxValue : start.AddDays(1);
            return true;
        }

        // A time needs its date and a 'T' (or a space): a bare number is neither a duration nor a time.
        return text.Length > 10 && char.IsAsciiDigit(text[0])
            && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out bound);
    }
}
