using Relay.Storage.Accounts;

namespace Relay.Storage;

/// <summary>A client key as people see it: never the key itself.</summary>
public sealed record ApiKeyInfo(long Id, string Name, string DisplayPrefix, DateTimeOffset CreatedAt, DateTimeOffset? RevokedAt, DateTimeOffset? LastUsedAt)
{
    public string? UserName { get; init; }

    public KeyLimits Limits { get; init; } = KeyLimits.None;

    public DateTimeOffset? DisabledAt { get; init; }

    /// <summary>Spent in the current budget period (the key's whole life for a <see cref="BudgetPeriod.Total"/> budget).</summary>
    public long PeriodSpentNanos { get; init; }

    /// <summary>Spent over the key's whole life.</summary>
    public long SpentNanos { get; init; }
}

/// <summary>A key as authentication and admission need it.</summary>
public sealed record StoredApiKey(long Id, string Name, byte[] KeyHash)
{
    public long? UserId { get; init; }

    public string? UserName { get; init; }

    /// <summary>Whether the key's user is prepaid, so its balance limits the key.</summary>
    public bool UserPrepaid { get; init; }

    public KeyLimits Limits { get; init; } = KeyLimits.None;

    public DateTimeOffset? DisabledAt { get; init; }
}

/// <summary>What creating a key stores.</summary>
public sealed record NewApiKey(string Name, byte[] KeyHash, string DisplayPrefix)
{
    public string? UserName { get; init; }

    public KeyLimits Limits { get; init; } = KeyLimits.None;
}
