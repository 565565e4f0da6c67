using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using Relay.Cli;
using Relay.Storage.Accounts;

namespace Relay.Endpoints.Admin;

/// <summary>A key's user and limits as the admin API's create and PATCH bodies give them, checked by the same rules as
/// <c>relay keys</c> (<see cref="KeyLimitOptions"/>). A field left out keeps what the key had (nothing, for a new
/// key); a field set to null clears it.</summary>
internal static class KeyLimitsBody
{
    public static readonly string[] Fields = ["user", "models", "expiresAt", "allowedIps", "rpm", "tpm", "concurrency", "budget", "budgetPeriod"];

    private delegate bool ListParser(string text, out IReadOnlyList<string>? items, [NotNullWhen(false)] out string? error);

    /// <summary>The limits after the body's changes; check <see cref="AdminBody.Error"/> afterwards.</summary>
    public static KeyLimits Apply(AdminBody body, KeyLimits current, DateTimeOffset now)
    {
        var limits = Read(body, current, now);
        if (limits.BudgetNanos is not null)
        {
            return limits;
        }

        // As with relay keys: a period needs a budget, and a budget cleared takes its period with it.
        if (body.Has("budgetPeriod") && limits.BudgetPeriod != BudgetPeriod.Total)
        {
            body.Fail("budgetPeriod", "needs a budget: give budget too.");
        }

        return limits with { BudgetPeriod = BudgetPeriod.Total };
    }

    private static KeyLimits Read(AdminBody body, KeyLimits current, DateTimeOffset now) => current with
    {
        Models = body.Has("models") ? Each(body, "models", KeyLimitOptions.TryParseModels) : current.Models,
        ExpiresAt = body.Has("expiresAt") ? Expiry(body, now) : current.ExpiresAt,
        AllowedIps = body.Has("allowedIps") ? Each(body, "allowedIps", KeyLimitOptions.TryParseAddresses) : current.AllowedIps,
        RequestsPerMinute = body.Has("rpm") ? body.PositiveInt("rpm") : current.RequestsPerMinute,
        TokensPerMinute = body.Has("tpm") ? body.PositiveInt("tpm") : current.TokensPerMinute,
        Concurrency = body.Has("concurrency") ? body.PositiveInt("concurrency") : current.Concurrency,
        BudgetNanos = body.Has("budget") ? body.Usd("budget") : current.BudgetNanos,
        BudgetPeriod = body.Has("budgetPeriod") ? body.Period("budgetPeriod") ?? BudgetPeriod.Total : current.BudgetPeriod,
    };

    /// <summary>The user after the body's changes: the one named, none for null, the current one when left out.</summary>
    public static string? User(AdminBody body, string? current) => body.Has("user") ? body.Name("user") : current;

    /// <summary>Each entry read alone, so a comma inside one cannot turn it into two; none or [] is null.</summary>
    private static IReadOnlyList<string>? Each(AdminBody body, string field, ListParser parse)
    {
        if (body.Strings(field) is not { } entries)
        {
            return null;
        }

        var parsed = new List<string>(entries.Count);
        foreach (var entry in entries)
        {
            if (entry.Contains(',', StringComparison.Ordinal) || KeyLimitOptions.IsNone(entry))
            {
                body.Fail(field, $"'{entry}' is not one entry; give each as its own string, or null for no restriction.");
                return null;
            }

            if (!parse(entry, out var items, out var error))
            {
                body.Fail(field, error);
                return null;
            }

            parsed.AddRange(items ?? []);
        }

        return parsed;
    }

    /// <summary>An ISO date or time (UTC unless it has an offset), or a duration from now such as 30d; in the future.</summary>
    private static DateTimeOffset? Expiry(AdminBody body, DateTimeOffset now)
    {
        if (body.Text("expiresAt") is not { } text)
        {
            return null;
        }

        if (!KeyLimitOptions.TryParseExpiry(text, now, out var expires, out var error))
        {
            body.Fail("expiresAt", error);
            return null;
        }

        return expires;
    }
}
