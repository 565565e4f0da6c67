using Relay.Storage;
using Relay.Tests.Infrastructure;

namespace Relay.Tests;

/// <summary>The usage log's filtered pages and grouped totals, the same from a real SQLite file, from memory and from a
/// real PostgreSQL database.</summary>
public sealed class UsageQueryTests : IDisposable
{
    private static readonly DateTimeOffset Day1 = new(2026, 3, 1, 10, 0, 0, TimeSpan.Zero);
    private readonly TempDirectory _dir = new();
    private readonly TestStores _stores;

    public UsageQueryTests(SharedPostgres postgres)
    {
        _stores = new TestStores(_dir, postgres);
    }

    public static TheoryData<string> Stores => TestStores.Kinds;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _dir.Dispose();

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task Page_IsNewestFirst_AndTheCursorWalksEveryRecordOnce(string kind)
    {
        await using var store = await OpenAsync(kind);
        await store.AppendUsageAsync([.. Enumerable.Range(0, 7).Select(i => Record(Day1.AddMinutes(i), key: "alice", input: i))], Ct);

        var seen = new List<long>();
        long? before = null;
        var pages = 0;
        do
        {
            var page = await store.GetUsagePageAsync(UsageFilter.All, before, 3, Ct);
            seen.AddRange(page.Items.Select(e => e.Record.InputTokens));
            Assert.True(page.Items.Count <= 3);
            Assert.Equal(page.Items.Select(e => e.Id).OrderDescending(), page.Items.Select(e => e.Id));
            before = page.NextBeforeId;
            pages++;
        }
        while (before is not null);

        Assert.Equal([6, 5, 4, 3, 2, 1, 0], seen);
        Assert.Equal(3, pages);

        // A page that ends exactly at the last record says there is no next page.
        var exact = await store.GetUsagePageAsync(UsageFilter.All, null, 7, Ct);
        Assert.Equal((7, null), (exact.Items.Count, exact.NextBeforeId));
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task Page_AppliesEveryFilter(string kind)
    {
        await using var store = await OpenAsync(kind);
        await store.AppendUsageAsync(
        [
            Record(Day1, key: "alice", user: "acme", model: "claude-sonnet-4-6"),
            Record(Day1.AddHours(1), key: "alice", user: "acme", model: "claude-haiku-4-5", status: 529, error: "overloaded_error"),
            Record(Day1.AddHours(2), key: "bob", user: "zeta", model: "claude-sonnet-4-6", endpoint: "count_tokens"),
            Record(Day1.AddHours(3), key: "bob", model: "claude-sonnet-4-6", status: 200, error: "overloaded_error"), // failed mid-stream
            Record(Day1.AddHours(4), key: "carol", model: "claude-opus-4-6", status: 404, error: "not_found_error", keyId: 9),
        ], Ct);

        async Task<string[]> Hours(UsageFilter filter) =>
            [.. (await store.GetUsagePageAsync(filter, null, 100, Ct)).Items.Select(e => $"{(e.Record.Timestamp - Day1).TotalHours}")];

        Assert.Equal(["1", "0"], await Hours(new UsageFilter { KeyName = "alice" }));
        Assert.Equal(["2", "1", "0"], await Hours(new UsageFilter { Until = Day1.AddHours(3) }));
        Assert.Equal(["4", "3"], await Hours(new UsageFilter { Since = Day1.AddHours(3) }));
        Assert.Equal(["2"], await Hours(new UsageFilter { UserName = "zeta" }));
        Assert.Equal(["3", "2", "0"], await Hours(new UsageFilter { Model = "claude-sonnet-4-6" }));
        Assert.Equal(["2"], await Hours(new UsageFilter { Endpoint = "count_tokens" }));
        Assert.Equal(["2", "0"], await Hours(new UsageFilter { Status = UsageStatusFilter.Ok }));
        Assert.Equal(["4", "3", "1"], await Hours(new UsageFilter { Status = UsageStatusFilter.Error }));
        Assert.Equal(["4"], await Hours(new UsageFilter { Status = UsageStatusFilter.ExactCode(404) }));
        Assert.Equal(["4"], await Hours(new UsageFilter { KeyId = 9 }));
        Assert.Equal(["3"], await Hours(new UsageFilter { KeyName = "bob", Status = UsageStatusFilter.Error, Since = Day1 }));
        Assert.Empty(await Hours(new UsageFilter { KeyName = "alice' OR '1'='1" }));
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task Page_ReturnsEveryStoredField(string kind)
    {
        await using var store = await OpenAsync(kind);
        var written = new UsageRecord
        {
            Timestamp = Day1,
            RequestId = "req_1",
            KeyId = 3,
            KeyName = "alice",
            UserId = 4,
            UserName = "acme",
            Endpoint = "messages",
            RequestedModel = "claude-sonnet-4-6",
            Status = 200,
            CacheCreationInputTokens = 300,
            CacheCreation1hInputTokens = 200,
            CacheReadInputTokens = 50,
            ServerToolUses = 2,
            CostNanos = 1_234_567,
            SessionId = "s-1",
            FirstByteMs = 12.5,
            DurationMs = 20,
            Streamed = true,
        };
        await store.AppendUsageAsync([written], Ct);

        var read = Assert.Single((await store.GetUsagePageAsync(UsageFilter.All, null, 10, Ct)).Items).Record;

        Assert.Equal((written.Timestamp, written.RequestId, written.KeyName, written.UserName, written.UserId),
            (read.Timestamp, read.RequestId, read.KeyName, read.UserName, read.UserId));
        Assert.Equal((300L, 200L, 50L, 2L, (long?)1_234_567), (read.CacheCreationInputTokens, read.CacheCreation1hInputTokens,
            read.CacheReadInputTokens, read.ServerToolUses, read.CostNanos));
        Assert.Equal(("s-1", 12.5, true, 3L), (read.SessionId, read.FirstByteMs, read.Streamed, read.KeyId));
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task Totals_SumTokensCostAndTheCacheWriteSplit(string kind)
    {
        await using var store = await OpenAsync(kind);
        await store.AppendUsageAsync(
        [
            Record(Day1, key: "alice", user: "acme", model: "m-a", input: 100, output: 10, cost: 5_000,
                cacheWrite: 1000, cacheWrite1h: 600, cacheRead: 40, toolUses: 1),
            Record(Day1.AddHours(1), key: "alice", user: "acme", model: "m-b", input: 10, output: 1, cost: null, status: 500, error: "api_error"),
            // A provider that reports more 1h writes than writes in all: counted as all 1h, as pricing does.
            Record(Day1.AddDays(1), key: "bob", model: "m-a", input: 1, output: 1, cost: 20_000, provider: "other", cacheWrite: 10, cacheWrite1h: 50),
        ], Ct);

        var byKey = await store.GetUsageTotalsAsync(UsageFilter.All, UsageGrouping.Key, Ct);
        Assert.Equal(["bob", "alice"], byKey.Select(t => t.Group)); // dearest first
        var alice = byKey[1];
        Assert.Equal((2L, 1L, 110L, 11L), (alice.Requests, alice.Errors, alice.InputTokens, alice.OutputTokens));
        Assert.Equal((400L, 600L, 40L, 1L), (alice.CacheWrite5mTokens, alice.CacheWrite1hTokens, alice.CacheReadTokens, alice.ServerToolUses));
        Assert.Equal((5_000L, 1L), (alice.CostNanos, alice.UnpricedRequests));
        Assert.Equal((0L, 10L), (byKey[0].CacheWrite5mTokens, byKey[0].CacheWrite1hTokens));

        var byUser = await store.GetUsageTotalsAsync(UsageFilter.All, UsageGrouping.User, Ct);
        Assert.Equal([(UsageGroupTotals.None, 1L), ("acme", 2L)], byUser.Select(t => (t.Group, t.Requests)));

        var byDay = await store.GetUsageTotalsAsync(UsageFilter.All, UsageGrouping.Day, Ct);
        Assert.Equal([("2026-03-01", 2L), ("2026-03-02", 1L)], byDay.Select(t => (t.Group, t.Requests))); // oldest first

        var byModel = await store.GetUsageTotalsAsync(new UsageFilter { Status = UsageStatusFilter.Ok }, UsageGrouping.Model, Ct);
        Assert.Equal([("m-a", 2L, 25_000L)], byModel.Select(t => (t.Group, t.Requests, t.CostNanos)));

        var byProvider = await store.GetUsageTotalsAsync(new UsageFilter { Since = Day1.AddHours(12) }, UsageGrouping.Provider, Ct);
        Assert.Equal(["other"], byProvider.Select(t => t.Group));

        var total = UsageGroupTotals.Sum("total", byKey);
        Assert.Equal((3L, 25_000L, 1L, 1010L), (total.Requests, total.CostNanos, total.UnpricedRequests, total.CacheWrite5mTokens + total.CacheWrite1hTokens));
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task Totals_OfNothing_AreEmpty(string kind)
    {
        await using var store = await OpenAsync(kind);

        Assert.Empty(await store.GetUsageTotalsAsync(new UsageFilter { KeyName = "nobody" }, UsageGrouping.Key, Ct));
        var page = await store.GetUsagePageAsync(UsageFilter.All, null, 10, Ct);
        Assert.Equal((0, null), (page.Items.Count, page.NextBeforeId));
    }

    [Theory]
    [InlineData("ok", true, null)]
    [InlineData(" Error ", false, null)]
    [InlineData("429", null, 429)]
    public void StatusFilter_Parses(string text, bool? succeeded, int? code)
    {
        Assert.True(UsageStatusFilter.TryParse(text, out var filter));
        Assert.Equal((succeeded, code), (filter!.Succeeded, filter.Code));
    }

    [Theory]
    [InlineData("fine")]
    [InlineData("99")]
    [InlineData("600")]
    [InlineData("-1")]
    [InlineData("")]
    public void StatusFilter_RefusesOtherText(string text) => Assert.False(UsageStatusFilter.TryParse(text, out _));

    private Task<IRelayStore> OpenAsync(string kind) => _stores.OpenAsync(kind);

    private static UsageRecord Record(DateTimeOffset at, string? key = null, string? user = null, string model = "claude-sonnet-4-6",
        int status = 200, string? error = null, long input = 1, long output = 1, long? cost = 0, string endpoint = "messages",
        string provider = "up", long? keyId = null, long cacheWrite = 0, long cacheWrite1h = 0, long cacheRead = 0, long toolUses = 0) => new()
    {
        Timestamp = at,
        RequestId = "req_" + Guid.NewGuid().ToString("N"),
        KeyId = keyId ?? (key is null ? null : 1),
        KeyName = key,
        UserName = user,
        Endpoint = endpoint,
        RequestedModel = model,
        Provider = provider,
        UpstreamModel = "m",
        Status = status,
        ErrorType = error,
        InputTokens = input,
        OutputTokens = output,
        CacheCreationInputTokens = cacheWrite,
        CacheCreation1hInputTokens = cacheWrite1h,
        CacheReadInputTokens = cacheRead,
        ServerToolUses = toolUses,
        CostNanos = cost,
        DurationMs = 10,
        Streamed = false,
    };
}
