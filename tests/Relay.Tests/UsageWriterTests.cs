using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Relay.Storage;
using Relay.Tests.Infrastructure;

namespace Relay.Tests;

/// <summary>The usage writer against a database that fails for a while: the records go to the spool and are written
/// back once it answers, so every record (and the settlement it carries) is written exactly once, and the outage is
/// logged once, not once per attempt.</summary>
public sealed class UsageWriterTests : RelayWithUpstream
{
    /// <summary>More than the five attempts after which the writer used to drop a batch.</summary>
    private const int Failures = 7;

    private readonly CountingLoggerProvider _logs = new(LogLevel.Warning);

    private FlakyUsageStore Flaky => Assert.IsType<FlakyUsageStore>(Server.App.Services.GetRequiredService<IUsageStore>());

    private protected override void Customize(WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<IUsageStore>(services => new FlakyUsageStore(services.GetRequiredService<IRelayStore>(), Failures));
        builder.Logging.AddProvider(_logs);
    }

    [Fact]
    public async Task AStoreThatFailsManyTimes_ThenRecovers_GetsEveryRecordExactlyOnce()
    {
        Upstream.Handler = (ctx, _) => Responses.Json(ctx, 200, Responses.MessageJson(input: 3, output: 2));

        var statuses = await Task.WhenAll(Enumerable.Range(0, 5).Select(async _ =>
        {
            using var response = await Server.Client.PostAsync("v1/messages", JsonBody.Of(JsonBody.Message("claude-sonnet-4-6")), Ct);
            return response.StatusCode;
        }));
        Assert.All(statuses, s => Assert.Equal(HttpStatusCode.OK, s));

        var records = await Server.WaitForUsageAsync(5, TimeSpan.FromSeconds(20));
        await Task.Delay(200, Ct); // a duplicate written late would show up now

        Assert.Equal(5, (await Server.Store.GetRecentUsageAsync(100, Ct)).Count);
        Assert.Equal(5, records.Select(r => r.RequestId).Distinct().Count());
        Assert.True(Flaky.Failed >= Failures);
        Assert.DoesNotContain(_logs.Entries, e => e.EventId == 5); // nothing lost
        Assert.Single(_logs.Entries, e => e.EventId == 140); // the outage is reported once, not once per attempt
        Assert.Single(_logs.Entries, e => e.EventId == 146);
    }
}

/// <summary>The server's usage store, failing its first appends as a locked or unreachable database would.</summary>
internal sealed class FlakyUsageStore(IUsageStore inner, int failures) : IUsageStore
{
    private int _calls;

    public int Failed => Math.Min(Volatile.Read(ref _calls), failures);

    public Task AppendUsageAsync(IReadOnlyList<UsageRecord> records, CancellationToken cancellationToken) =>
        Interlocked.Increment(ref _calls) <= failures
            ? throw new InvalidOperationException("database is locked")
            : inner.AppendUsageAsync(records, cancellationToken);

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
