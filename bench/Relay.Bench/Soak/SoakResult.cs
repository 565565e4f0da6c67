namespace Relay.Bench.Soak;

/// <summary>What one <c>soak</c> run counted; written as JSON with <c>--out</c>.</summary>
internal sealed record SoakResult
{
    public required string Url { get; init; }

    public required int Concurrency { get; init; }

    public required double StreamShare { get; init; }

    public required double DurationSeconds { get; init; }

    public required string StartedAt { get; init; }

    public required double ElapsedSeconds { get; init; }

    /// <summary>Every request the client began, refused ones included.</summary>
    public required long Sent { get; init; }

    public required long Streams { get; init; }

    /// <summary>Connections refused: nothing listened (Relay was down), so the request never reached it.</summary>
    public required long Refused { get; init; }

    /// <summary>Connections that failed otherwise before any response: Relay may or may not have read the request.</summary>
    public required long NoAnswer { get; init; }

    /// <summary><see cref="Sent"/> minus <see cref="Refused"/>: the requests Relay should have one usage record for
    /// (give or take <see cref="NoAnswer"/>).</summary>
    public required long Reached { get; init; }

    /// <summary>Requests still running when the client gave up waiting for them (hangs).</summary>
    public required long Unfinished { get; init; }

    /// <summary>Answers by status; error statuses also say whose error it was.</summary>
    public required SortedDictionary<string, long> Statuses { get; init; }

    /// <summary>Requests by <see cref="SoakOutcome"/>.</summary>
    public required SortedDictionary<string, long> Outcomes { get; init; }

    /// <summary>5xx answers that are neither the provider's error nor Relay's wrapping of a provider failure.</summary>
    public required long RelayOwn5xx { get; init; }

    /// <summary>Answers that break a promise Relay makes whatever its providers do (see <see cref="SoakOutcome.IsViolation"/>), plus hangs.</summary>
    public required long Violations { get; init; }

    /// <summary>The first few answers of each outcome that is not a plain success.</summary>
    public required List<string> Samples { get; init; }
}
