using Microsoft.Extensions.Logging.Abstractions;
using Relay.Configuration;
using Relay.Storage;
using Relay.Storage.Sqlite;
using Relay.Tests.Infrastructure;
using Relay.Usage;

namespace Relay.Tests;

/// <summary>The usage spool's files on a real disk: a record comes back exactly as it went in, a file is replayed by
/// one replay only (each replay here opens the files itself, as another process would, and a file's exclusive lock
/// belongs to the open file, not the process), and a replay resumes where the previous one stopped.</summary>
public sealed class UsageSpoolFileTests : IDisposable
{
    private readonly TempDirectory _folder = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private string SpoolFolder => _folder.File("spool");

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void ASpooledRecord_ComesBackWithEveryField()
    {
        var original = SpoolWriter.Record("req_roundtrip");
        var properties = typeof(UsageRecord).GetProperties();
        Assert.All(properties, p => Assert.NotEqual(Default(p.PropertyType), p.GetValue(original))); // a new field must be set here too

        using var spool = NewSpool();
        Assert.True(spool.TryAppend([original], out var started));
        Assert.True(started);
        Assert.True(spool.HasBacklog);

        using var file = spool.ClaimNext();
        Assert.NotNull(file);
        var copy = Assert.Single(Assert.Single(file.ReadBatches(512)).Records);
        Assert.All(properties, p => Assert.Equal(p.GetValue(original), p.GetValue(copy)));
        Assert.Equal(original.Timestamp.Offset, copy.Timestamp.Offset);
    }

    [Fact]
    public void AClaimedFile_CannotBeClaimedAgain_UntilItsHolderLetsGo()
    {
        var path = SpoolWriter.WriteFile(SpoolFolder, DateTimeOffset.UtcNow, SpoolWriter.Records(3, "held"));

        using (var first = ClaimedSpoolFile.TryClaim(path))
        {
            Assert.NotNull(first);
            Assert.Null(ClaimedSpoolFile.TryClaim(path));
        }

        using var second = ClaimedSpoolFile.TryClaim(path);
        Assert.NotNull(second);
        second.SaveProgress(second.ReadBatches(512).Single().End);
        second.Finish();
        Assert.Empty(Directory.GetFiles(SpoolFolder));
        Assert.Null(ClaimedSpoolFile.TryClaim(path));
    }

    [Fact]
    public async Task TwoReplaysOfOneFolder_WriteEveryRecordExactlyOnce()
    {
        var expected = new List<string>();
        for (var i = 0; i < 40; i++)
        {
            var records = SpoolWriter.Records(25, $"file{i:D2}");
            SpoolWriter.WriteFile(SpoolFolder, DateTimeOffset.UtcNow.AddSeconds(i - 100), records);
            expected.AddRange(records.Select(r => r.RequestId));
        }

        var database = _folder.File("relay.db");
        await using var storeA = await OpenStoreAsync(database);
        await using var storeB = new SqliteRelayStore(database);
        using var spoolA = NewSpool();
        using var spoolB = NewSpool();
        using var replayA = new UsageReplay(spoolA, storeA, NullLogger<UsageReplay>.Instance);
        using var replayB = new UsageReplay(spoolB, storeB, NullLogger<UsageReplay>.Instance);

        await Task.WhenAll(replayA.StartAsync(Ct), replayB.StartAsync(Ct));
        await Eventually.TrueAsync(() => Directory.GetFiles(SpoolFolder).Length == 0, TimeSpan.FromSeconds(60), "an empty spool folder");
        await Task.WhenAll(replayA.StopAsync(Ct), replayB.StopAsync(Ct));

        var stored = await storeA.GetRecentUsageAsync(5000, Ct);
        Assert.Equal(expected.Order(), stored.Select(r => r.RequestId).Order());
    }

    [Fact]
    public async Task AReplay_ResumesAfterTheLastWrittenBatch_AndLeavesATornLastLineOut()
    {
        var records = SpoolWriter.Records(5, "resume");
        var path = SpoolWriter.WriteFile(SpoolFolder, DateTimeOffset.UtcNow, records);
        File.AppendAllText(path, "{\"timestamp\":\"2026-03-01T12:00:00Z\",\"request_id\":\"torn"); // a crash mid-append
        using (var earlier = ClaimedSpoolFile.TryClaim(path))
        {
            // An earlier replay wrote the first two records to the store, then stopped.
            earlier!.SaveProgress(earlier.ReadBatches(2).First().End);
        }

        await using var store = await OpenStoreAsync(_folder.File("relay.db"));
        await store.AppendUsageAsync(records[..2], Ct);
        await ReplayAllAsync(store);

        var stored = await store.GetRecentUsageAsync(100, Ct);
        Assert.Equal(records.Select(r => r.RequestId).Order(), stored.Select(r => r.RequestId).Order());
    }

    [Fact]
    public async Task AnUnreadableLine_KeepsTheFileForTheOperator_AfterWritingTheRecordsBeforeIt()
    {
        var records = SpoolWriter.Records(3, "corrupt");
        var path = SpoolWriter.WriteFile(SpoolFolder, DateTimeOffset.UtcNow, records);
        var lines = File.ReadAllLines(path);
        File.WriteAllText(path, $"{lines[0]}\n{{not json\n{lines[1]}\n{lines[2]}\n");

        await using var store = await OpenStoreAsync(_folder.File("relay.db"));
        await ReplayAllAsync(store);

        Assert.Equal(records[0].RequestId, Assert.Single(await store.GetRecentUsageAsync(100, Ct)).RequestId);
        Assert.True(File.Exists(path + SpoolFileNames.CorruptExtension));
        Assert.Empty(SpoolFileNames.List(SpoolFolder));
    }

    private static object? Default(Type type) => type.IsValueType && Nullable.GetUnderlyingType(type) is null ? Activator.CreateInstance(type) : null;

    private static async Task<SqliteRelayStore> OpenStoreAsync(string path)
    {
        var store = new SqliteRelayStore(path);
        await store.InitializeAsync(Ct);
        return store;
    }

    private UsageSpool NewSpool() => new(
        new RelayConfig { SourcePath = _folder.File("relay.json"), UsageSpool = new UsageSpoolConfig { Path = "spool" } },
        NullLogger<UsageSpool>.Instance, TimeProvider.System);

    private async Task ReplayAllAsync(IUsageStore store)
    {
        using var spool = NewSpool();
        using var replay = new UsageReplay(spool, store, NullLogger<UsageReplay>.Instance);
        await replay.StartAsync(Ct);
        await Eventually.TrueAsync(() => SpoolFileNames.List(SpoolFolder).Count == 0, TimeSpan.FromSeconds(60), "the spool replayed");
        await replay.StopAsync(Ct);
    }
}
