namespace Relay.Endpoints;

/// <summary>The body of <c>GET /v1/key</c>: what a key holder may know about their own key. Money in US dollars.</summary>
internal sealed class KeyStatus
{
    public required string Name { get; init; }

    /// <summary>The key's first characters, to recognise it; never the key.</summary>
    public required string Prefix { get; init; }

    /// <summary><c>active</c>, <c>disabled</c> or <c>expired</c>.</summary>
    public required string Status { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset? ExpiresAt { get; init; }

    /// <summary>Model-name patterns the key may use; null for every model Relay serves.</summary>
    public IReadOnlyList<string>? Models { get; init; }

    /// <summary>Addresses or CIDR ranges the key may be used from; null for any.</summary>
    public IReadOnlyList<string>? AllowedIps { get; init; }

    public required KeyStatusLimits Limits { get; init; }

    /// <summary>Null when the key has no budget.</summary>
    public KeyStatusBudget? Budget { get; init; }

    /// <summary>Spent over the key's whole life.</summary>
    public required decimal Spent { get; init; }

    /// <summary>The key's user; null when the key has none.</summary>
    public KeyStatusUser? User { get; init; }

    /// <summary>The key's last requests, newest first.</summary>
    public required IReadOnlyList<KeyStatusUsage> RecentUsage { get; init; }
}

/// <summary>Rate limits; null for none.</summary>
internal sealed class KeyStatusLimits
{
    public int? RequestsPerMinute { get; init; }

    public int? TokensPerMinute { get; init; }

    public int? Concurrency { get; init; }
}

internal sealed class KeyStatusBudget
{
    public required decimal Limit { get; init; }

    /// <summary><c>day</c>, <c>week</c>, <c>month</c> (calendar periods in UTC) or <c>total</c>.</summary>
    public required string Period { get; init; }

    public required decimal PeriodSpent { get; init; }

    /// <summary>Never below 0.</summary>
    public required decimal Remaining { get; init; }

    /// <summary>When spending starts again from 0; null for a <c>total</c> budget.</summary>
    public DateTimeOffset? ResetsAt { get; init; }
}

internal sealed class KeyStatusUser
{
    public required string Name { get; init; }

    /// <summary>What the user's keys may still spend together; null when the user is not prepaid.</summary>
    public decimal? Balance { get; init; }
}

internal sealed class KeyStatusUsage
{
    public required DateTimeOffset Time { get; init; }

    public required string RequestId { get; init; }

    public string? Model { get; init; }

    public required string Endpoint { get; init; }

    public required int Status { get; init; }

    public string? ErrorType { get; init; }

    public long InputTokens { get; init; }

    public long OutputTokens { get; init; }

    public long CacheWriteTokens { get; init; }

    public long CacheReadTokens { get; init; }

    /// <summary>Null when no price was known for the model.</summary>
    public decimal? Cost { get; init; }
}
