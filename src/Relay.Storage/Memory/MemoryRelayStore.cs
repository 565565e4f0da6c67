namespace Relay.Storage.Memory;

/// <summary>
/// A store that keeps everything in this process and forgets it on exit. <c>relay bridge</c> uses it: a bridge
/// issues no keys (the remote gateway checks them) and leaves usage accounting to the remote, so it writes no files.
/// </summary>
/// <remarks>Thread-safe. Keeps the most recent <see cref="Capacity"/> usage records.</remarks>
public sealed partial class MemoryRelayStore : IRelayStore
{
    public const int Capacity = 10_000;

    private readonly Lock _lock = new();
    private readonly LinkedList<UsageEntry> _usage = new();

    /// <summary>The request ids of the records kept, so a batch written again is neither kept nor charged twice.</summary>
    private readonly HashSet<string> _usageRequestIds = new(StringComparer.Ordinal);
    private long _lastUsageId;

    public string Description => "memory (nothing is written to disk)";

    public event Action? KeysChanged;

    public Task InitializeAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Nothing to migrate: always current.</summary>
    public Task<SchemaVersion> GetSchemaVersionAsync(CancellationToken cancellationToken) => Task.FromResult(new SchemaVersion(0, 0));

    public Task AppendUsageAsync(IReadOnlyList<UsageRecord> records, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            foreach (var record in records)
            {
                if (!_usageRequestIds.Add(record.RequestId))
                {
                    continue;
                }

                SettleLocked(record);
                _usage.AddFirst(new UsageEntry(++_lastUsageId, record));
                if (_usage.Count > Capacity)
                {
                    _usageRequestIds.Remove(_usage.Last!.Value.Record.RequestId);
                    _usage.RemoveLast();
                }
            }
        }

        return Task.CompletedTask;
    }

    public Task<UsageReport> GetUsageReportAsync(DateTimeOffset? since, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            var records = Records().Where(r => since is null || r.Timestamp >= since).ToList();
            return Task.FromResult(new UsageReport(
                Sum(records, r => r.KeyName ?? "(no key)"),
                Sum(records, r => r.RequestedModel ?? "(none)"),
                Total("total", records)));
        }
    }

    public Task<IReadOnlyList<SessionUsage>> GetUsageBySessionAsync(DateTimeOffset? since, int limit, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            return Task.FromResult<IReadOnlyList<SessionUsage>>(Records()
                .Where(r => since is null || r.Timestamp >= since)
                .GroupBy(r => r.SessionId ?? SessionUsage.NoSession)
                .Select(g => new SessionUsage(g.Min(r => r.Timestamp), g.Max(r => r.Timestamp),
                    g.Where(r => r.AgentId is not null).Select(r => r.AgentId).Distinct().Count(), Total(g.Key, g)))
                .OrderByDescending(s => s.LastSeen).ThenBy(s => s.SessionId, StringComparer.Ordinal)
                .Take(limit)
                .ToList());
        }
    }

    public Task<IReadOnlyList<UsageRecord>> GetRecentUsageAsync(int limit, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            return Task.FromResult<IReadOnlyList<UsageRecord>>(Records().Take(limit).ToList());
        }
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    /// <summary>The kept records, newest first; call under the lock.</summary>
    private IEnumerable<UsageRecord> Records() => _usage.Select(e => e.Record);

    private static List<UsageTotals> Sum(List<UsageRecord> records, Func<UsageRecord, string> group) =>
        records.GroupBy(group).Select(g => Total(g.Key, g)).OrderByDescending(t => t.InputTokens + t.OutputTokens).ToList();

    private static UsageTotals Total(string group, IEnumerable<UsageRecord> records)
    {
        var list = records as IReadOnlyCollection<UsageRecord> ?? records.ToList();
        return new UsageTotals(group, list.Count, list.Count(r => r.Status >= 400), list.Sum(r => r.InputTokens), list.Sum(r => r.OutputTokens),
            list.Sum(r => r.CacheCreationInputTokens), list.Sum(r => r.CacheReadInputTokens));
    }
}
