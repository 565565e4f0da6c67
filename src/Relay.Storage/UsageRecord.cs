namespace Relay.Storage;

/// <summary>What one request used and how it went. Written for every request, failed ones included.</summary>
public sealed class UsageRecord
{
    public required DateTimeOffset Timestamp { get; init; }

    public required string RequestId { get; init; }

    /// <summary>The Relay key that made the request; null when authentication failed or the upstream authenticated it.</summary>
    public long? KeyId { get; init; }

    public string? KeyName { get; init; }

    /// <summary><c>messages</c> or <c>count_tokens</c>.</summary>
    public required string Endpoint { get; init; }

    /// <summary>The model name the client sent, suffixes included.</summary>
    public string? RequestedModel { get; init; }

    public string? Provider { get; init; }

    public string? UpstreamModel { get; init; }

    /// <summary>The HTTP status the client got; 499 when the client went away first.</summary>
    public required int Status { get; init; }

    /// <summary>The Anthropic error type when the request failed, also for errors sent inside a stream.</summary>
    public string? ErrorType { get; init; }

    public long InputTokens { get; init; }

    public long OutputTokens { get; init; }

    public long CacheCreationInputTokens { get; init; }

    public long CacheReadInputTokens { get; init; }

    /// <summary>The part of <see cref="CacheCreationInputTokens"/> written for one hour (the rest was written for five
    /// minutes), from the provider's <c>cache_creation.ephemeral_1h_input_tokens</c>.</summary>
    public long CacheCreation1hInputTokens { get; init; }

    /// <summary>Server-tool calls the provider ran and bills per call (web searches; web fetches are free).</summary>
    public long ServerToolUses { get; init; }

    /// <summary>What the request cost, in <see cref="Accounts.Usd"/> nanos; null when no price is known for its model.</summary>
    public long? CostNanos { get; init; }

    /// <summary>The user whose key made the request.</summary>
    public long? UserId { get; init; }

    public string? UserName { get; init; }

    /// <summary>The admission reservation this record settles (<see cref="Accounts.IAdmissionStore"/>): writing the
    /// record charges <see cref="CostNanos"/> to the key and its user and drops the reservation. Not stored.</summary>
    public long? ReservationId { get; init; }

    /// <summary>Milliseconds until the first response byte went to the client; null when none did.</summary>
    public double? FirstByteMs { get; init; }

    public required double DurationMs { get; init; }

    public required bool Streamed { get; init; }

    /// <summary>Upstream attempts made for this request (0 when it never reached one).</summary>
    public int Attempts { get; init; }

    /// <summary>Each attempt as <c>provider/model status ms</c>, separated by "; ", in order.</summary>
    public string? AttemptLog { get; init; }

    /// <summary>What chose the model: <c>model</c>, <c>pattern:NAME</c> or <c>scenario:NAME</c>.</summary>
    public string? RouteRule { get; init; }

    /// <summary>The client's session (Claude Code's <c>x-claude-code-session-id</c>), so usage can be summed per session.</summary>
    public string? SessionId { get; init; }

    /// <summary>The subagent that made the request (<c>x-claude-code-agent-id</c>); null for the main agent.</summary>
    public string? AgentId { get; init; }

    /// <summary>The agent that spawned <see cref="AgentId"/> (<c>x-claude-code-parent-agent-id</c>), for nested agents.</summary>
    public string? ParentAgentId { get; init; }

    /// <summary>What the request is for, when the client says (<c>x-claude-code-request-class</c>: main, subagent, compaction...).</summary>
    public string? RequestClass { get; init; }
}
