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

/// <summary>Usage summed over one client session (records without a session id form one group).</summary>
/// <param name="Agents">How many distinct subagents made requests in the session (the main agent not counted).</param>
public sealed record SessionUsage(DateTimeOffset FirstSeen, DateTimeOffset LastSeen, long Agents, UsageTotals Totals)
{
    /// <summary>The group name used for records that carried no session id.</summary>
    public const string NoSession = "(no session)";

    public string SessionId => Totals.Group;
}
