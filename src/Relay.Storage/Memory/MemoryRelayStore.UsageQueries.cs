using System.Globalization;

namespace Relay.Storage.Memory;

// The usage log as reports and the admin API read it, over the records this process keeps.
public sealed partial class MemoryRelayStore
{
    public Task<UsagePage> GetUsagePageAsync(UsageFilter filter, long? beforeId, int limit, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        lock (_lock)
        {
            var items = _usage
                .Where(e => (beforeId is null || e.Id < beforeId) && Matches(filter, e.Record))
                .Take(limit + 1)
                .ToList();
            if (items.Count <= limit)
            {
                return Task.FromResult(new UsagePage(items, null));
            }

            items.RemoveAt(limit);
            return Task.FromResult(new UsagePage(items, items[^1].Id));
        }
    }

    public Task<IReadOnlyList<UsageGroupTotals>> GetUsageTotalsAsync(UsageFilter filter, UsageGrouping by, CancellationToken cancellationToken)
    {
        Func<UsageRecord, string> group = by switch
        {
            UsageGrouping.Key => r => r.KeyName ?? UsageGroupTotals.None,
            UsageGrouping.User => r => r.UserName ?? UsageGroupTotals.None,
            UsageGrouping.Model => r => r.RequestedModel ?? UsageGroupTotals.None,
            UsageGrouping.Day => r => r.Timestamp.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            UsageGrouping.Provider => r => r.Provider ?? UsageGroupTotals.None,
            _ => throw new ArgumentOutOfRangeException(nameof(by)),
        };
        List<UsageGroupTotals> rows;
        lock (_lock)
        {
            rows = Records().Where(r => Matches(filter, r)).GroupBy(group, StringComparer.Ordinal).Select(g => Totals(g.Key, g)).ToList();
        }

        IReadOnlyList<UsageGroupTotals> ordered = by == UsageGrouping.Day
            ? rows.OrderBy(t => t.Group, StringComparer.Ordinal).ToList()
            : rows.OrderByDescending(t => t.CostNanos).ThenByDescending(t => t.InputTokens + t.OutputTokens)
                .ThenBy(t => t.Group, StringComparer.Ordinal).ToList();
        return Task.FromResult(ordered);
    }

    private static bool Matches(UsageFilter filter, UsageRecord r) =>
        (filter.Since is null || r.Timestamp >= filter.Since)
        && (filter.Until is null || r.Timestamp < filter.Until)
        && (filter.KeyName is null || r.KeyName == filter.KeyName)
        && (filter.KeyId is null || r.KeyId == filter.KeyId)
        && (filter.UserName is null || r.UserName == filter.UserName)
        && (filter.Model is null || r.RequestedModel == filter.Model)
        && (filter.Endpoint is null || r.Endpoint == filter.Endpoint)
        && (filter.Status is null || filter.Status.Matches(r.Status, r.ErrorType));

    private static UsageGroupTotals Totals(string group, IEnumerable<UsageRecord> records)
    {
        var sum = new UsageGroupTotals(group);
        foreach (var r in records)
        {
            var oneHour = Math.Min(r.CacheCreation1hInputTokens, r.CacheCreationInputTokens);
            sum = sum with
            {
                Requests = sum.Requests + 1,
                Errors = sum.Errors + (r.Status >= 400 || r.ErrorType is not null ? 1 : 0),
                InputTokens = sum.InputTokens + r.InputTokens,
                OutputTokens = sum.OutputTokens + r.OutputTokens,
                CacheWrite5mTokens = sum.CacheWrite5mTokens + r.CacheCreationInputTokens - oneHour,
                CacheWrite1hTokens = sum.CacheWrite1hTokens + oneHour,
                CacheReadTokens = sum.CacheReadTokens + r.CacheReadInputTokens,
                ServerToolUses = sum.ServerToolUses + r.ServerToolUses,
                CostNanos = sum.CostNanos + (r.CostNanos ?? 0),
                UnpricedRequests = sum.UnpricedRequests + (r.CostNanos is null ? 1 : 0),
            };
        }

        return sum;
    }
}
