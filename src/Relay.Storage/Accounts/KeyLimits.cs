namespace Relay.Storage.Accounts;

/// <summary>What an operator allows one key. Every null (or empty list) means "no limit of this kind".</summary>
public sealed record KeyLimits
{
    public static KeyLimits None { get; } = new();

    /// <summary>Model-name patterns the key may use (<c>*</c> wildcards, as in <c>models</c> in relay.json).</summary>
    public IReadOnlyList<string>? Models { get; init; }

    /// <summary>After this instant the key is refused (401).</summary>
    public DateTimeOffset? ExpiresAt { get; init; }

    /// <summary>Client addresses or CIDR ranges (IPv4 and IPv6) the key may be used from.</summary>
    public IReadOnlyList<string>? AllowedIps { get; init; }

    public int? RequestsPerMinute { get; init; }

    /// <summary>Tokens per minute: input plus cache writes plus output; cache reads do not count, as with Anthropic's input limits.</summary>
    public int? TokensPerMinute { get; init; }

    /// <summary>Requests this key may have open at once.</summary>
    public int? Concurrency { get; init; }

    /// <summary>What the key may spend per <see cref="BudgetPeriod"/>, in <see cref="Usd"/> nanos.</summary>
    public long? BudgetNanos { get; init; }

    public BudgetPeriod BudgetPeriod { get; init; } = BudgetPeriod.Total;

    /// <summary>Whether any limit needs the admission store (rates, concurrency or money) for this key.</summary>
    public bool NeedsAdmission => RequestsPerMinute is not null || TokensPerMinute is not null || Concurrency is not null || BudgetNanos is not null;

    public bool Equals(KeyLimits? other) =>
        other is not null
        && SameList(Models, other.Models) && ExpiresAt == other.ExpiresAt && SameList(AllowedIps, other.AllowedIps)
        && RequestsPerMinute == other.RequestsPerMinute && TokensPerMinute == other.TokensPerMinute && Concurrency == other.Concurrency
        && BudgetNanos == other.BudgetNanos && BudgetPeriod == other.BudgetPeriod;

    public override int GetHashCode() => HashCode.Combine(ExpiresAt, RequestsPerMinute, TokensPerMinute, Concurrency, BudgetNanos, BudgetPeriod);

    private static bool SameList(IReadOnlyList<string>? a, IReadOnlyList<string>? b) =>
        (a is null || a.Count == 0) ? (b is null || b.Count == 0) : b is not null && a.SequenceEqual(b, StringComparer.Ordinal);
}
