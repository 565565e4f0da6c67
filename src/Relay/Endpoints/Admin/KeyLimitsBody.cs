using System.Net;
using Relay.Storage.Accounts;

namespace Relay.Endpoints.Admin;

/// <summary>A key's user and limits as the admin API's create and PATCH bodies give them. A field left out keeps what
/// the key had (nothing, for a new key); a field set to null clears it.</summary>
internal static class KeyLimitsBody
{
    public static readonly string[] Fields = ["user", "models", "expiresAt", "allowedIps", "rpm", "tpm", "concurrency", "budget", "budgetPeriod"];

    /// <summary>The limits after the body's changes; check <see cref="AdminBody.Error"/> afterwards.</summary>
    public static KeyLimits Apply(AdminBody body, KeyLimits current, DateTimeOffset now)
    {
        var limits = current with
        {
            Models = body.Has("models") ? body.Strings("models", AdminBody.NameProblem) : current.Models,
            ExpiresAt = body.Has("expiresAt") ? body.Time("expiresAt") : current.ExpiresAt,
            AllowedIps = body.Has("allowedIps") ? body.Strings("allowedIps", AddressProblem) : current.AllowedIps,
            RequestsPerMinute = body.Has("rpm") ? body.PositiveInt("rpm") : current.RequestsPerMinute,
            TokensPerMinute = body.Has("tpm") ? body.PositiveInt("tpm") : current.TokensPerMinute,
            Concurrency = body.Has("concurrency") ? body.PositiveInt("concurrency") : current.Concurrency,
            BudgetNanos = body.Has("budget") ? body.Usd("budget") : current.BudgetNanos,
            BudgetPeriod = body.Has("budgetPeriod") ? body.Period("budgetPeriod") ?? BudgetPeriod.Total : current.BudgetPeriod,
        };
        if (body.Has("expiresAt") && limits.ExpiresAt <= now)
        {
            body.Fail("expiresAt", "is in the past; to stop a key now, disable or revoke it.");
        }

        return limits;
    }

    /// <summary>The user after the body's changes: the one named, none for null, the current one when left out.</summary>
    public static string? User(AdminBody body, string? current) => body.Has("user") ? body.Name("user") : current;

    /// <summary>An IPv4 or IPv6 address, or a CIDR range of either (<c>10.0.0.0/8</c>, <c>2001:db8::/32</c>).</summary>
    private static string? AddressProblem(string text) =>
        IPAddress.TryParse(text, out _) || (text.Contains('/', StringComparison.Ordinal) && IPNetwork.TryParse(text, out _))
            ? null
            : "is not an IP address or a CIDR range such as 10.0.0.0/8.";
}
