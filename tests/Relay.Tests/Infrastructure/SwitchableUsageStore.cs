using Relay.Storage;

namespace Relay.Tests.Infrastructure;

/// <summary>The server's real usage store behind a switch: while <see cref="Down"/>, appends fail as an unreachable
/// database's would, and nothing reaches the store. Reads always go through.</summary>
internal sealed class SwitchableUsageStore(IUsageStore inner) : IUsageStore
{
    private int _failed;

    public volatile bool Down;

    public int Failed => Volatile.Read(ref _failed);

    public Task AppendUsageAsync(IReadOnlyList<UsageRecord> records, CancellationToken cancellationToken)
    {
        if (Down)
        {
            Interlocked.Increment(ref _failed);
            throw new InvalidOperationException("connection refused (the database is down)");
        }

        return inner.AppendUsageAsync(records, cancellationToken);
    }

    public Task<UsageReport> GetUsageReportAsync(DateTimeOffset? since, CancellationToken cancellationToken) =>
        inner.GetUsageReportAsync(since, cancellationToken);

    public Task<IReadOnlyList<SessionUsage>> GetUsageBySessionAsync(DateTimeOffset? since, int limit, CancellationToken cancellationToken) =>
        inner.GetUsageBySessionAsync(since, limit, cancellationToken);

    public Task<IReadOnlyList<UsageRecord>> GetRecentUsageAsync(int limit, CancellationToken cancellationToken) =>
        inner.GetRecentUsageAsync(limit, cancellationToken);

    public Task<UsagePage> GetUsagePageAsync(UsageFilter filter, long? beforeId, int limit, CancellationToken cancellationToken) =>
        inner.GetUsagePageAsync(filter, beforeId, limit, cancellationToken);

    public Task<IReadOnlyList<UsageGroupTotals>> GetUsageTotalsAsync(UsageFilter filter, UsageGrouping by, CancellationToken cancellationToken) =>
        inner.GetUsageTotalsAsync(filter, by, cancellationToken);
}
