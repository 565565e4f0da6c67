namespace Relay.Storage;

/// <summary>Usage summed per key, per model and overall.</summary>
public sealed record UsageReport(IReadOnlyList<UsageTotals> ByKey, IReadOnlyList<UsageTotals> ByModel, UsageTotals Total);

/// <summary>Sums over a group of usage records; <see cref="Group"/> names the key or model.</summary>
public sealed record UsageTotals(
    string Group,
    long Requests,
    long Errors,
    long InputTokens,
    long OutputTokens,
    long CacheCreationInputTokens,
    long CacheReadInputTokens);
