namespace Relay.Storage.Accounts;

/// <summary>
/// What one request asks of its key's limits, checked and taken in one atomic step by <see cref="IAdmissionStore"/>.
/// Null limits are not checked.
/// </summary>
public sealed record AdmissionRequest
{
    public required long KeyId { get; init; }

    /// <summary>The key's user, whose balance is checked and reserved when <see cref="ChargeUserBalance"/>.</summary>
    public long? UserId { get; init; }

    public required DateTimeOffset Now { get; init; }

    public int? RequestsPerMinute { get; init; }

    public int? TokensPerMinute { get; init; }

    /// <summary>Tokens taken from the per-minute allowance now; corrected to the real count on release.</summary>
    public long EstimatedTokens { get; init; }

    public int? Concurrency { get; init; }

    public long? BudgetNanos { get; init; }

    public BudgetPeriod BudgetPeriod { get; init; }

    /// <summary>Whether the user is prepaid, so the balance must cover the request.</summary>
    public bool ChargeUserBalance { get; init; }

    /// <summary>Held against the budget and balance until the request's usage record settles the real cost.</summary>
    public long ReserveNanos { get; init; }

    /// <summary>When the reservation (and the concurrency slot) lapses if the request's end is never reported
    /// (the instance died): longer than any request may run.</summary>
    public required DateTimeOffset ReservationExpires { get; init; }
}

public enum AdmissionRefusal
{
    None,
    Requests,
    Tokens,
    Concurrency,
    Budget,
    Balance,
}

/// <summary>The answer to an <see cref="AdmissionRequest"/>, with what the rate-limit headers report.</summary>
public sealed record AdmissionDecision
{
    public AdmissionRefusal Refusal { get; init; }

    public bool Admitted => Refusal == AdmissionRefusal.None;

    /// <summary>Names the reservation to release and settle; 0 when refused.</summary>
    public long ReservationId { get; init; }

    /// <summary>For a refused rate or concurrency limit: when trying again can succeed.</summary>
    public TimeSpan? RetryAfter { get; init; }

    public long? RequestsRemaining { get; init; }

    /// <summary>When the request allowance is full again.</summary>
    public DateTimeOffset? RequestsReset { get; init; }

    public long? TokensRemaining { get; init; }

    public DateTimeOffset? TokensReset { get; init; }

    /// <summary>Budget left in the period after this request's reservation.</summary>
    public long? BudgetRemainingNanos { get; init; }

    /// <summary>The user's balance left after everything reserved.</summary>
    public long? BalanceRemainingNanos { get; init; }
}
