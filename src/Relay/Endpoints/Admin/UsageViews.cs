using Relay.Storage;
using Relay.Storage.Accounts;

namespace Relay.Endpoints.Admin;

/// <summary>One usage record as the admin API shows it.</summary>
internal sealed class UsageItemView
{
    public required long Id { get; init; }

    public required DateTimeOffset Time { get; init; }

    public required string RequestId { get; init; }

    public string? Key { get; init; }

    public string? User { get; init; }

    public required string Endpoint { get; init; }

    /// <summary>The model name the client sent.</summary>
    public string? Model { get; init; }

    public string? Provider { get; init; }

    public string? UpstreamModel { get; init; }

    public required int Status { get; init; }

    public string? ErrorType { get; init; }

    public long InputTokens { get; init; }

    public long OutputTokens { get; init; }

    public long CacheWrite5mTokens { get; init; }

    public long CacheWrite1hTokens { get; init; }

    public long CacheReadTokens { get; init; }

    public long ServerToolUses { get; init; }

    /// <summary>US dollars; null when no price was known for the model.</summary>
    public decimal? Cost { get; init; }

    public double DurationMs { get; init; }

    public double? FirstByteMs { get; init; }

    public bool Streamed { get; init; }

    public int Attempts { get; init; }

    public string? AttemptLog { get; init; }

    public string? RouteRule { get; init; }

    public string? SessionId { get; init; }

    public string? AgentId { get; init; }

    public string? ParentAgentId { get; init; }

    public string? RequestClass { get; init; }

    public static UsageItemView From(UsageEntry entry)
    {
        var r = entry.Record;
        var oneHour = Math.Min(r.CacheCreation1hInputTokens, r.CacheCreationInputTokens);
        return new UsageItemView
        {
            Id = entry.Id,
            Time = r.Timestamp.ToUniversalTime(),
            RequestId = r.RequestId,
            Key = r.KeyName,
            User = r.UserName,
            Endpoint = r.Endpoint,
            Model = r.RequestedModel,
            Provider = r.Provider,
            UpstreamModel = r.UpstreamModel,
            Status = r.Status,
            ErrorType = r.ErrorType,
            InputTokens = r.InputTokens,
            OutputTokens = r.OutputTokens,
            CacheWrite5mTokens = r.CacheCreationInputTokens - oneHour,
            CacheWrite1hTokens = oneHour,
            CacheReadTokens = r.CacheReadInputTokens,
            ServerToolUses = r.ServerToolUses,
            Cost = r.CostNanos is { } nanos ? Usd.FromNanos(nanos) : null,
            DurationMs = r.DurationMs,
            FirstByteMs = r.FirstByteMs,
            Streamed = r.Streamed,
            Attempts = r.Attempts,
            AttemptLog = r.AttemptLog,
            RouteRule = r.RouteRule,
            SessionId = r.SessionId,
            AgentId = r.AgentId,
            ParentAgentId = r.ParentAgentId,
            RequestClass = r.RequestClass,
        };
    }
}

/// <summary>A page of the usage log, newest first.</summary>
internal sealed class UsagePageView
{
    public required IReadOnlyList<UsageItemView> Data { get; init; }

    public required bool HasMore { get; init; }

    /// <summary>Pass as <c>before</c> for the next (older) page; null on the last page.</summary>
    public long? NextBefore { get; init; }
}

/// <summary>Usage summed over one group.</summary>
internal sealed class UsageTotalsView
{
    public required string Group { get; init; }

    public long Requests { get; init; }

    public long Errors { get; init; }

    public long InputTokens { get; init; }

    public long OutputTokens { get; init; }

    public long CacheWrite5mTokens { get; init; }

    public long CacheWrite1hTokens { get; init; }

    public long CacheReadTokens { get; init; }

    public long ServerToolUses { get; init; }

    /// <summary>US dollars, over the priced requests.</summary>
    public decimal Cost { get; init; }

    /// <summary>Requests whose model had no price: not in <see cref="Cost"/>.</summary>
    public long UnpricedRequests { get; init; }

    public static UsageTotalsView From(UsageGroupTotals t) => new()
    {
        Group = t.Group,
        Requests = t.Requests,
        Errors = t.Errors,
        InputTokens = t.InputTokens,
        OutputTokens = t.OutputTokens,
        CacheWrite5mTokens = t.CacheWrite5mTokens,
        CacheWrite1hTokens = t.CacheWrite1hTokens,
        CacheReadTokens = t.CacheReadTokens,
        ServerToolUses = t.ServerToolUses,
        Cost = Usd.FromNanos(t.CostNanos),
        UnpricedRequests = t.UnpricedRequests,
    };
}

internal sealed class UsageTotalsListView
{
    /// <summary>key, user, model, day or provider.</summary>
    public required string By { get; init; }

    public required IReadOnlyList<UsageTotalsView> Data { get; init; }

    public required UsageTotalsView Total { get; init; }
}
