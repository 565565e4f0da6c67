using System.Diagnostics;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Relay.Configuration;
using Relay.Storage;
using Relay.Tests.Infrastructure;
using Relay.Usage;

namespace Relay.Tests;

/// <summary>The database goes away while Relay serves: requests keep being answered (their records wait on disk in
/// the usage spool), and every record reaches the store once it is back, exactly once, also across a restart.</summary>
public sealed class UsageSpoolOutageTests : IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private readonly TempDirectory _folder = new();
    private readonly CountingLoggerProvider _logs = new(LogLevel.Warning);
    private FakeUpstream _upstream = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private string SpoolFolder => _folder.File("spool");

    public async ValueTask InitializeAsync()
    {
        _upstream = await FakeUpstream.StartAsync();
        _upstream.Handler = (ctx, _) => Responses.Json(ctx, 200, Responses.MessageJson(input: 3, output: 2));
    }

    public async ValueTask DisposeAsync()
    {
        await _upstream.DisposeAsync();
        _folder.Dispose();
    }

    [Fact]
    public async Task OutageUnderLoad_RequestsAreAnswered_AndEveryRecordArrivesOnceTheStoreIsBack()
    {
        await using var server = await StartAsync("test");
        var usage = Switch(server);
        usage.Down = true;

        var requestIds = await SendAsync(server, waves: 6, perWave: 25);

        await Eventually.TrueAsync(() => SpoolFileNames.List(SpoolFolder).Count > 0, Patience, "records in the spool");
        Assert.True(usage.Failed > 0);
        Assert.Empty(await server.Store.GetRecentUsageAsync(10, Ct));

        usage.Down = false;
        var records = await WaitForAllAsync(server, requestIds.Count);
        Assert.Equal(requestIds.Order(), records.Select(r => r.RequestId).Order());
        Assert.Single(_logs.Entries, e => e.EventId == 140); // spooling started, said once
        Assert.DoesNotContain(_logs.Entries, e => e.EventId == 5); // nothing given up
    }

    [Fact]
    public async Task StopDuringOutage_PutsRecordsOnDiskPromptly_AndTheNextStartWritesThemExactlyOnce()
    {
        var server = await StartAsync("test");
        Switch(server).Down = true;
        var requestIds = await SendAsync(server, waves: 3, perWave: 20);

        var stopping = Stopwatch.StartNew();
        await server.StopAsync();
        Assert.True(stopping.Elapsed < TimeSpan.FromSeconds(20), $"stop took {stopping.Elapsed}"); // not the 30 s flush
        Assert.Empty(await server.Store.GetRecentUsageAsync(10, Ct));
        Assert.NotEmpty(SpoolFileNames.List(SpoolFolder));
        Assert.Contains(_logs.Entries, e => e.EventId == 148);
        await server.DisposeAsync();

        await using var restarted = await StartAsync("second");
        Assert.Contains(_logs.Entries, e => e.EventId == 145); // the start says records are waiting
        var records = await WaitForAllAsync(restarted, requestIds.Count);
        Assert.Equal(requestIds.Order(), records.Select(r => r.RequestId).Order());
    }

    [Fact]
    public async Task FullSpool_MakesTheWriterWait_AndNothingIsDropped()
    {
        // An earlier run left records up to 100 bytes short of 1 MB: the spool (maxMegabytes 1) has no room for more.
        var earlier = SpoolWriter.FillFile(SpoolFolder, DateTimeOffset.UtcNow.AddHours(-1), 1024 * 1024 - 100, "earlier");

        await using var server = await StartAsync("test", maxMegabytes: 1, storeDown: true);
        var requestIds = await SendAsync(server, waves: 2, perWave: 20);
        await Eventually.TrueAsync(() => _logs.Entries.Any(e => e.EventId == 142), Patience, "the spool says it is full");
        await Eventually.TrueAsync(() => _logs.Entries.Any(e => e.EventId == 4), Patience, "the writer holds its batch and retries");
        Assert.Single(SpoolFileNames.List(SpoolFolder));

        Switch(server).Down = false;
        var records = await WaitForAllAsync(server, earlier.Count + requestIds.Count);
        Assert.Equal(requestIds.Concat(earlier.Select(r => r.RequestId)).Order(), records.Select(r => r.RequestId).Order());
        Assert.DoesNotContain(_logs.Entries, e => e.EventId == 5);
    }

    [Fact]
    public async Task ALockedDatabaseFile_HoldsNoRequestUp_AndItsRecordsArriveOnceWhenTheLockGoes()
    {
        await using var server = await StartAsync("test");
        var queue = server.App.Services.GetRequiredService<UsageQueue>();
        var records = SpoolWriter.Records(300, "locked");

        // Another process's view of the file: an exclusive transaction, so no one else can write until it ends.
        await using var holder = new SqliteConnection($"Data Source={server.Config.DatabasePath};Pooling=False");
        await holder.OpenAsync(Ct);
        await using (var begin = holder.CreateCommand())
        {
            begin.CommandText = "BEGIN EXCLUSIVE;";
            await begin.ExecuteNonQueryAsync(Ct);
        }

        var enqueuing = Stopwatch.StartNew();
        foreach (var chunk in records.Chunk(30))
        {
            foreach (var record in chunk)
            {
                await queue.EnqueueAsync(record);
            }

            await Task.Delay(100, Ct); // spread over several batches, as traffic is
        }

        Assert.True(enqueuing.Elapsed < TimeSpan.FromSeconds(20), $"enqueuing took {enqueuing.Elapsed}");
        await Eventually.TrueAsync(() => SpoolFileNames.List(SpoolFolder).Count > 0, Patience, "records spooled while the file is locked");

        await using (var rollback = holder.CreateCommand())
        {
            rollback.CommandText = "ROLLBACK;";
            await rollback.ExecuteNonQueryAsync(Ct);
        }

        var stored = await WaitForAllAsync(server, records.Count);
        Assert.Equal(records.Select(r => r.RequestId).Order(), stored.Select(r => r.RequestId).Order());
    }

    private static SwitchableUsageStore Switch(RelayTestServer server) =>
        Assert.IsType<SwitchableUsageStore>(server.App.Services.GetRequiredService<IUsageStore>());

    private async Task<RelayTestServer> StartAsync(string keyName, int maxMegabytes = 1024, bool storeDown = false)
    {
        var config = RelayTestServer.DefaultConfig(_upstream.BaseUrl);
        config.SourcePath = _folder.File("relay.json");
        config.UsageSpool = new UsageSpoolConfig { Path = "spool", MaxMegabytes = maxMegabytes };
        return await RelayTestServer.StartAsync(config, builder =>
        {
            builder.Services.AddSingleton<IUsageStore>(services =>
                new SwitchableUsageStore(services.GetRequiredService<IRelayStore>()) { Down = storeDown });
            builder.Logging.AddProvider(_logs);
        }, keyName);
    }

    /// <summary>Concurrent requests in waves; each must be answered 200 while the database is down. Their request ids.</summary>
    private static async Task<List<string>> SendAsync(RelayTestServer server, int waves, int perWave)
    {
        var ids = new List<string>();
        for (var wave = 0; wave < waves; wave++)
        {
            ids.AddRange(await Task.WhenAll(Enumerable.Range(0, perWave).Select(async _ =>
            {
                using var response = await server.Client.PostAsync("v1/messages", JsonBody.Of(JsonBody.Message("claude-sonnet-4-6")), Ct);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                return response.Headers.GetValues("request-id").Single();
            })));
        }

        return ids;
    }

    /// <summary>Waits until the store has <paramref name="count"/> records and the spool is empty, then checks that no
    /// more arrive (a duplicate would).</summary>
    private async Task<IReadOnlyList<UsageRecord>> WaitForAllAsync(RelayTestServer server, int count)
    {
        await Eventually.TrueAsync(async () => (await server.Store.GetRecentUsageAsync(count + 100, Ct)).Count >= count
            && SpoolFileNames.List(SpoolFolder).Count == 0, Patience, $"{count} records in the store and an empty spool",
            async () => $"{(await server.Store.GetRecentUsageAsync(count + 100, Ct)).Count} records, spool: {string.Join(", ", SpoolFileNames.List(SpoolFolder).Select(Path.GetFileName))}");
        await Task.Delay(300, Ct);
        var records = await server.Store.GetRecentUsageAsync(count + 100, Ct);
        Assert.Equal(count, records.Count);
        return records;
    }
}
