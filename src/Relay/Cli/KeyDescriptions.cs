using System.Globalization;
using Relay.Storage;
using Relay.Storage.Accounts;

namespace Relay.Cli;

/// <summary>A key's status, limits and budget in the short words <c>relay keys</c> prints.</summary>
internal static class KeyDescriptions
{
    /// <summary><c>active</c>, <c>disabled</c>, <c>expired</c> or <c>revoked</c> (with when), the strongest first.</summary>
    public static string Status(ApiKeyInfo key, DateTimeOffset now) =>
        key.RevokedAt is { } revoked ? $"revoked {LocalTime(revoked)}"
        : key.DisabledAt is not null ? "disabled"
        : key.Limits.ExpiresAt is { } expires && expires <= now ? "expired"
        : "active";

    /// <summary>Every limit set, separated by "; "; "none" when there is none.</summary>
    public static string Limits(KeyLimits limits)
    {
        var parts = new List<string>();
        if (limits.Models is { Count: > 0 } models)
        {
            parts.Add($"models {string.Join(',', models)}");
        }

        if (limits.AllowedIps is { Count: > 0 } ips)
        {
            parts.Add($"ip {string.Join(',', ips)}");
        }

        if (limits.RequestsPerMinute is { } rpm)
        {
            parts.Add($"{Count(rpm)} rpm");
        }

        if (limits.TokensPerMinute is { } tpm)
        {
            parts.Add($"{Count(tpm)} tpm");
        }

        if (limits.Concurrency is { } concurrency)
        {
            parts.Add($"{Count(concurrency)} concurrent");
        }

        if (limits.ExpiresAt is { } expires)
        {
            parts.Add($"expires {UtcTime(expires)}");
        }

        return parts.Count == 0 ? "none" : string.Join("; ", parts);
    }

    /// <summary>What is left of the budget in its current period, with the period: <c>$7.50 of $10.00 left (week)</c>.</summary>
    public static string Budget(ApiKeyInfo key) =>
        key.Limits.BudgetNanos is { } budget
            ? $"{Usd.Format(budget - key.PeriodSpentNanos)} of {Usd.Format(budget)} left ({BudgetPeriods.Name(key.Limits.BudgetPeriod)})"
            : "no budget";

    public static string LocalTime(DateTimeOffset time) => time.ToLocalTime().ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture);

    /// <summary>Expiry times are given in UTC, so they are shown in UTC.</summary>
    public static string UtcTime(DateTimeOffset time) => time.ToUniversalTime().ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) + " UTC";

    private static string Count(int value) => value.ToString("N0", CultureInfo.InvariantCulture);
}
