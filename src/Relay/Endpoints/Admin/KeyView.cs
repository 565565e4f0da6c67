using System.Text.Json.Serialization;
using Relay.Storage;
using Relay.Storage.Accounts;

namespace Relay.Endpoints.Admin;

/// <summary>A client key as the admin API shows it: never the key itself (only when it is created).</summary>
internal class KeyView
{
    public required string Name { get; init; }

    /// <summary>The key's first characters, to recognise it.</summary>
    public required string Prefix { get; init; }

    /// <summary><c>active</c>, <c>disabled</c>, <c>expired</c> or <c>revoked</c>.</summary>
    public required string Status { get; init; }

    public string? User { get; set; }

    public required DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset? LastUsedAt { get; set; }

    public DateTimeOffset? DisabledAt { get; set; }

    public DateTimeOffset? RevokedAt { get; set; }

    /// <summary>Model-name patterns the key may use; null for any.</summary>
    public IReadOnlyList<string>? Models { get; set; }

    public DateTimeOffset? ExpiresAt { get; set; }

    /// <summary>Addresses or CIDR ranges the key may be used from; null for any.</summary>
    public IReadOnlyList<string>? AllowedIps { get; set; }

    public int? Rpm { get; set; }

    public int? Tpm { get; set; }

    public int? Concurrency { get; set; }

    /// <summary>US dollars per <see cref="BudgetPeriod"/>; null for no budget.</summary>
    public decimal? Budget { get; set; }

    /// <summary><c>day</c>, <c>week</c>, <c>month</c> (calendar periods in UTC) or <c>total</c>.</summary>
    public required string BudgetPeriod { get; init; }

    /// <summary>Spent in the current budget period.</summary>
    public required decimal PeriodSpent { get; init; }

    /// <summary>What the budget has left this period (never below 0); null without a budget.</summary>
    public decimal? BudgetRemaining { get; set; }

    /// <summary>When the budget period ends and spending starts again from 0; null without a periodic budget.</summary>
    public DateTimeOffset? BudgetResetsAt { get; set; }

    /// <summary>Spent over the key's whole life.</summary>
    public required decimal Spent { get; init; }

    public static string StatusOf(ApiKeyInfo key, DateTimeOffset now) =>
        key.RevokedAt is not null ? "revoked"
        : key.DisabledAt is not null ? "disabled"
        : key.Limits.ExpiresAt <= now ? "expired"
        : "active";

    public static KeyView From(ApiKeyInfo key, DateTimeOffset now) => Fill(new KeyView
    {
        Name = key.Name, Prefix = key.DisplayPrefix, Status = StatusOf(key, now), CreatedAt = key.CreatedAt,
        BudgetPeriod = BudgetPeriods.Name(key.Limits.BudgetPeriod), PeriodSpent = Usd.FromNanos(key.PeriodSpentNanos), Spent = Usd.FromNanos(key.SpentNanos),
    }, key, now);

    /// <summary>Sets the fields every key view shares from <paramref name="key"/>.</summary>
    protected static T Fill<T>(T view, ApiKeyInfo key, DateTimeOffset now)
        where T : KeyView
    {
        var limits = key.Limits;
        view.User = key.UserName;
        view.LastUsedAt = key.LastUsedAt?.ToUniversalTime();
        view.DisabledAt = key.DisabledAt?.ToUniversalTime();
        view.RevokedAt = key.RevokedAt?.ToUniversalTime();
        view.Models = limits.Models is { Count: > 0 } models ? models : null;
        view.ExpiresAt = limits.ExpiresAt?.ToUniversalTime();
        view.AllowedIps = limits.AllowedIps is { Count: > 0 } ips ? ips : null;
        view.Rpm = limits.RequestsPerMinute;
        view.Tpm = limits.TokensPerMinute;
        view.Concurrency = limits.Concurrency;
        view.Budget = limits.BudgetNanos is { } budget ? Usd.FromNanos(budget) : null;
        view.BudgetRemaining = limits.BudgetNanos is { } b ? Usd.FromNanos(Math.Max(0, b - key.PeriodSpentNanos)) : null;
        view.BudgetResetsAt = limits.BudgetNanos is null ? null : BudgetPeriods.End(limits.BudgetPeriod, now);
        return view;
    }
}

/// <summary>A key just created: the only answer that ever contains the key.</summary>
internal sealed class CreatedKeyView : KeyView
{
    /// <summary>The key itself. Relay keeps only its hash: this is the one time it is shown.</summary>
    [JsonPropertyOrder(-1)]
    public required string Key { get; init; }

    public static CreatedKeyView From(ApiKeyInfo info, string key, DateTimeOffset now) => Fill(new CreatedKeyView
    {
        Key = key, Name = info.Name, Prefix = info.DisplayPrefix, Status = StatusOf(info, now), CreatedAt = info.CreatedAt,
        BudgetPeriod = BudgetPeriods.Name(info.Limits.BudgetPeriod), PeriodSpent = Usd.FromNanos(info.PeriodSpentNanos), Spent = Usd.FromNanos(info.SpentNanos),
    }, info, now);
}
