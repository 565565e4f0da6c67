using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;
using Relay.Protocol.Text;
using Relay.Storage.Accounts;

namespace Relay.Cli;

/// <summary>
/// Reads the values an operator gives for a key's limits and money, as text (the CLI's options; any other front end
/// can use the same rules). Each parser returns false with a message naming the value and what is expected.
/// </summary>
internal static class KeyLimitOptions
{
    /// <summary>Longest model pattern accepted; model ids are far shorter.</summary>
    private const int MaxPatternLength = 200;

    /// <summary>The value that clears a limit (<c>never</c> is accepted for an expiry too).</summary>
    public const string None = "none";

    /// <summary>The largest amount of money accepted: far above any real budget, and its nanos fit a <c>long</c>.</summary>
    private const decimal MaxDollars = 1_000_000_000m;

    /// <summary>Whether <paramref name="text"/> asks to clear the value.</summary>
    public static bool IsNone(string text) =>
        text.Trim().Equals(None, StringComparison.OrdinalIgnoreCase);

    /// <summary>The longest duration accepted: far beyond any key's life or usage history, and far from the ends of
    /// the calendar, so adding it to or taking it from now cannot overflow.</summary>
    public static readonly TimeSpan MaxDuration = TimeSpan.FromDays(36_525);

    /// <summary>A duration such as <c>90m</c>, <c>12h</c>, <c>30d</c> or <c>2w</c> (a whole, positive number and a unit),
    /// at most <see cref="MaxDuration"/> (100 years).</summary>
    public static bool TryParseDuration(string text, out TimeSpan duration)
    {
        duration = default;
        text = text.Trim();
        if (text.Length < 2 || !int.TryParse(text.AsSpan(0, text.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var amount) || amount <= 0)
        {
            return false;
        }

        long minutesPerUnit = char.ToLowerInvariant(text[^1]) switch
        {
            'm' => 1,
            'h' => 60,
            'd' => 60 * 24,
            'w' => 60 * 24 * 7,
            _ => 0,
        };

        // In whole minutes (an int times at most 10080 fits a long), compared before any TimeSpan is made.
        var minutes = amount * minutesPerUnit;
        if (minutes <= 0 || minutes > (long)MaxDuration.TotalMinutes)
        {
            return false;
        }

        duration = TimeSpan.FromMinutes(minutes);
        return true;
    }

    /// <summary>An expiry: <c>none</c>/<c>never</c> (null), a duration from <paramref name="now"/>, or an ISO date or
    /// date and time (UTC unless it carries an offset; a date alone is 00:00 UTC that day). It must lie in the future.</summary>
    public static bool TryParseExpiry(string text, DateTimeOffset now, out DateTimeOffset? expires, [NotNullWhen(false)] out string? error)
    {
        expires = null;
        error = null;
        var value = text.Trim();
        if (IsNone(value) || value.Equals("never", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        if (TryParseDuration(value, out var duration))
        {
            if (duration > DateTimeOffset.MaxValue - now)
            {
                error = $"'{ShortForMessage(text)}' lies beyond the last date there is.";
                return false;
            }

            expires = now + duration;
        }
        else if (IsIsoDate(value) && DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture,
                     DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var date))
        {
            expires = date;
        }
        else
        {
            error = $"'{ShortForMessage(text)}' is not an expiry: give a date such as 2026-12-31 or 2026-12-31T18:00:00+02:00 (UTC unless it has an offset), a duration such as 90m, 12h, 30d or 2w (at most 100 years), or never.";
            return false;
        }

        // Whole milliseconds, as stored, so what is printed is what is kept.
        expires = DateTimeOffset.FromUnixTimeMilliseconds(expires.Value.ToUnixTimeMilliseconds());
        if (expires <= now)
        {
            error = $"'{ShortForMessage(text)}' is in the past; a key that has already expired could never be used.";
            return false;
        }

        return true;
    }

    /// <summary>Model-name patterns, comma-separated (<c>*</c> matches any run of characters), or <c>none</c> (null: every model).</summary>
    public static bool TryParseModels(string text, out IReadOnlyList<string>? models, [NotNullWhen(false)] out string? error)
    {
        models = null;
        error = null;
        if (IsNone(text))
        {
            return true;
        }

        var patterns = SplitList(text);
        foreach (var pattern in patterns)
        {
            if (pattern.Length > MaxPatternLength || pattern.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
            {
                error = $"'{ShortForMessage(pattern)}' is not a model pattern: a model name, with * for any run of characters, without spaces (at most {MaxPatternLength} characters).";
                return false;
            }
        }

        if (patterns.Count == 0)
        {
            error = "give at least one model pattern, such as claude-sonnet-*, or none for every model.";
            return false;
        }

        models = patterns;
        return true;
    }

    /// <summary>Client addresses and CIDR ranges, IPv4 or IPv6, comma-separated, or <c>none</c> (null: from anywhere).
    /// Kept in their canonical form (<c>10.0.0.0/8</c>, <c>2001:db8::/32</c>).</summary>
    public static bool TryParseAddresses(string text, out IReadOnlyList<string>? addresses, [NotNullWhen(false)] out string? error)
    {
        addresses = null;
        error = null;
        if (IsNone(text))
        {
            return true;
        }

        var parsed = new List<string>();
        foreach (var entry in SplitList(text))
        {
            if (entry.Contains('/', StringComparison.Ordinal))
            {
                // IPNetwork clears host bits silently; 10.1.2.3/8 is more likely a typo than a wish for all of 10/8.
                if (!IPNetwork.TryParse(entry, out var network)
                    || !IPAddress.TryParse(entry.AsSpan(0, entry.IndexOf('/', StringComparison.Ordinal)), out var given)
                    || !network.BaseAddress.Equals(given))
                {
                    error = $"'{ShortForMessage(entry)}' is not a CIDR range such as 10.0.0.0/8 or 2001:db8::/32 (the address must have no bits set after the prefix length: 10.0.0.0/8, not 10.1.2.3/8).";
                    return false;
                }

                parsed.Add(network.ToString());
            }
            else if (IPAddress.TryParse(entry, out var address) && !entry.Contains('%', StringComparison.Ordinal))
            {
                parsed.Add(address.ToString());
            }
            else
            {
                error = $"'{ShortForMessage(entry)}' is not an IP address or CIDR range (such as 203.0.113.7, 10.0.0.0/8 or 2001:db8::/32).";
                return false;
            }
        }

        if (parsed.Count == 0)
        {
            error = "give at least one address or range, or none to allow every address.";
            return false;
        }

        addresses = parsed;
        return true;
    }

    /// <summary>A whole number of at least 1 (requests, tokens, open requests), or <c>none</c> (null: no limit).</summary>
    public static bool TryParseCount(string text, out int? count) =>
        TryParseOptional(text, out count, static (string value, out int n) =>
            int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out n) && n >= 1);

    /// <summary>US dollars, such as <c>25</c>, <c>$7.50</c> or (when <paramref name="allowNegative"/>) <c>-2.5</c>, in
    /// <see cref="Usd"/> nanos. A decimal point, never a thousands separator.</summary>
    public static bool TryParseUsd(string text, bool allowNegative, out long nanos)
    {
        nanos = 0;
        var value = text.Trim();
        var negative = value.StartsWith('-');
        if (negative)
        {
            value = value[1..];
        }

        if (value.StartsWith('$'))
        {
            value = value[1..];
        }

        if ((negative && !allowNegative)
            || !decimal.TryParse(value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var dollars)
            || dollars > MaxDollars)
        {
            return false;
        }

        nanos = Usd.ToNanos(negative ? -dollars : dollars);
        return true;
    }

    /// <summary>A budget in US dollars (zero or more), or <c>none</c> (null: no budget).</summary>
    public static bool TryParseBudget(string text, out long? nanos) =>
        TryParseOptional(text, out nanos, static (string value, out long n) => TryParseUsd(value, allowNegative: false, out n));

    /// <summary><c>day</c>, <c>week</c>, <c>month</c> or <c>total</c>.</summary>
    public static bool TryParseBudgetPeriod(string text, out BudgetPeriod period) =>
        BudgetPeriods.TryParse(text, out period) && !string.IsNullOrWhiteSpace(text);

    private delegate bool ValueParser<T>(string text, out T value);

    private static bool TryParseOptional<T>(string text, out T? value, ValueParser<T> parse)
        where T : struct
    {
        value = null;
        if (IsNone(text))
        {
            return true;
        }

        if (!parse(text.Trim(), out var parsed))
        {
            return false;
        }

        value = parsed;
        return true;
    }

    /// <summary>Comma-separated entries, trimmed, empty ones dropped.</summary>
    private static List<string> SplitList(string text) =>
        text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).ToList();

    private static bool IsIsoDate(string text) =>
        text.Length >= 10 && char.IsAsciiDigit(text[0]) && char.IsAsciiDigit(text[3]) && text[4] == '-' && text[7] == '-';

    private static string ShortForMessage(string text) => ClientText.Shorten(text, 60);
}
