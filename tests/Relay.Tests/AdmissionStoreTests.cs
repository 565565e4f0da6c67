using Relay.Auth;
using Relay.Storage;
using Relay.Storage.Accounts;
using Relay.Storage.Sqlite;
using Relay.Tests.Infrastructure;

namespace Relay.Tests;

/// <summary>
/// The limits state every instance shares (<see cref="IAdmissionStore"/>), on a real SQLite file, in memory, on a real
/// PostgreSQL database, and in a real Redis over a SQLite file (the rate limits and slots in Redis, the money in
/// SQLite): each
/// limit, its retry-after, reservations that lapse, settlement that charges once, and admission that stays atomic
/// under concurrent calls from many connections.
/// </summary>
public sealed class AdmissionStoreTests : IDisposable
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 10, 12, 0, 0, TimeSpan.Zero);

    private readonly TempDirectory _directory = new();
    private readonly TestStores _stores;

    public AdmissionStoreTests(SharedPostgres postgres)
    {
        _stores = new TestStores(_directory, postgres);
    }

    public static TheoryData<string> Stores => ["sqlite", "memory", "postgres", "redis"];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _directory.Dispose();

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task RequestsPerMinute_RefusesTheRequestOverTheLimit_UntilTheBucketRefills(string kind)
    {
        await using var store = await OpenAsync(kind);
        var key = await CreateKeyAsync(store);
        AdmissionRequest At(DateTimeOffset now) => Request(key, now) with { RequestsPerMinute = 3 };

        var first = await store.AdmitAsync(At(T0), Ct);
        var second = await store.AdmitAsync(At(T0), Ct);
        var third = await store.AdmitAsync(At(T0), Ct);
        var refused = await store.AdmitAsync(At(T0), Ct);

        Assert.Equal([2L, 1L, 0L], [first.RequestsRemaining!.Value, second.RequestsRemaining!.Value, third.RequestsRemaining!.Value]);
        Assert.Equal(T0.AddSeconds(20), first.RequestsReset);
        Assert.Equal(T0.AddSeconds(60), third.RequestsReset);
        Assert.Equal(AdmissionRefusal.Requests, refused.Refusal);
        Assert.Equal(0, refused.ReservationId);
        // Three a minute refill one every 20 s.
        Assert.Equal(TimeSpan.FromSeconds(20), refused.RetryAfter);
        Assert.Equal(AdmissionRefusal.Requests, (await store.AdmitAsync(At(T0.AddSeconds(19.9)), Ct)).Refusal);
        Assert.True((await store.AdmitAsync(At(T0.AddSeconds(20)), Ct)).Admitted);
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task TokensPerMinute_AdmitsWhileAnythingIsLeft_ThenWaitsUntilTheDeficitIsRefilled(string kind)
    {
        await using var store = await OpenAsync(kind);
        var key = await CreateKeyAsync(store);
        AdmissionRequest At(DateTimeOffset now) => Request(key, now) with { TokensPerMinute = 1000, EstimatedTokens = 600 };

        var first = await store.AdmitAsync(At(T0), Ct);
        var second = await store.AdmitAsync(At(T0), Ct);
        var refused = await store.AdmitAsync(At(T0), Ct);

        Assert.Equal(400, first.TokensRemaining);
        Assert.True(second.Admitted);
        Assert.Equal(0, second.TokensRemaining);
        Assert.Equal(T0.AddSeconds(72), second.TokensReset); // from -200 to 1000 at 1000 a minute
        Assert.Equal(AdmissionRefusal.Tokens, refused.Refusal);
        // 200 tokens short at 1000 a minute: 12 s brings the level to exactly 0, which is not enough; 13 s is.
        Assert.Equal(TimeSpan.FromSeconds(13), refused.RetryAfter);
        Assert.Equal(AdmissionRefusal.Tokens, (await store.AdmitAsync(At(T0.AddSeconds(12)), Ct)).Refusal);
        Assert.True((await store.AdmitAsync(At(T0.AddSeconds(13)), Ct)).Admitted);
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task Release_CorrectsTheTokenBucketByTheRealCount(string kind)
    {
        await using var store = await OpenAsync(kind);
        var key = await CreateKeyAsync(store, new KeyLimits { TokensPerMinute = 1000 });
        AdmissionRequest Tokens(long estimate) => Request(key, T0) with { TokensPerMinute = 1000, EstimatedTokens = estimate };

        var over = await store.AdmitAsync(Tokens(100), Ct);
        await store.ReleaseAsync(over.ReservationId, 700, T0, Ct);
        var afterOver = await store.AdmitAsync(Tokens(0), Ct);
        var under = await store.AdmitAsync(Tokens(250), Ct);
        await store.ReleaseAsync(under.ReservationId, 50, T0, Ct);
        var afterUnder = await store.AdmitAsync(Tokens(0), Ct);

        Assert.Equal(900, over.TokensRemaining);
        Assert.Equal(300, afterOver.TokensRemaining);
        Assert.Equal(50, under.TokensRemaining);
        Assert.Equal(250, afterUnder.TokensRemaining);
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task Concurrency_RefusesWhileEverySlotIsHeld_AndAReleaseFreesOne(string kind)
    {
        await using var store = await OpenAsync(kind);
        var key = await CreateKeyAsync(store);
        var request = Request(key, T0) with { Concurrency = 2 };

        var first = await store.AdmitAsync(request, Ct);
        var second = await store.AdmitAsync(request, Ct);
        var refused = await store.AdmitAsync(request, Ct);
        await store.ReleaseAsync(first.ReservationId, 0, T0, Ct);
        var afterRelease = await store.AdmitAsync(request, Ct);

        Assert.True(first.Admitted && second.Admitted);
        Assert.NotEqual(first.ReservationId, second.ReservationId);
        Assert.Equal(AdmissionRefusal.Concurrency, refused.Refusal);
        Assert.Equal(TimeSpan.FromSeconds(1), refused.RetryAfter);
        Assert.True(afterRelease.Admitted);
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task Budget_AdmitsWhileAnythingIsLeftAfterWhatIsHeld_AndSettlementReplacesTheHoldWithTheCost(string kind)
    {
        await using var store = await OpenAsync(kind);
        var key = await CreateKeyAsync(store);
        var request = Request(key, T0) with { BudgetNanos = 1000, ReserveNanos = 400 };

        var admitted = new List<AdmissionDecision>();
        for (var i = 0; i < 3; i++)
        {
            admitted.Add(await store.AdmitAsync(request, Ct));
        }

        var refused = await store.AdmitAsync(request, Ct);
        Assert.All(admitted, d => Assert.True(d.Admitted));
        Assert.Equal([600L, 200L, -200L], admitted.Select(d => d.BudgetRemainingNanos!.Value));
        Assert.Equal(AdmissionRefusal.Budget, refused.Refusal);
        Assert.Null(refused.RetryAfter);

        // Spent 300 + held 800: still nothing left.
        await store.AppendUsageAsync([Record(key, admitted[0].ReservationId, cost: 300)], Ct);
        Assert.Equal(AdmissionRefusal.Budget, (await store.AdmitAsync(request, Ct)).Refusal);
        // Spent 600 + held 400 = the budget: nothing left.
        await store.AppendUsageAsync([Record(key, admitted[1].ReservationId, cost: 300)], Ct);
        Assert.Equal(AdmissionRefusal.Budget, (await store.AdmitAsync(request, Ct)).Refusal);
        // Spent 700, nothing held: 300 left, so one more request may start (and hold 400).
        await store.AppendUsageAsync([Record(key, admitted[2].ReservationId, cost: 100)], Ct);
        var last = await store.AdmitAsync(request, Ct);
        Assert.True(last.Admitted);
        Assert.Equal(-100, last.BudgetRemainingNanos);
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task Balance_AdmitsWhileAnythingIsLeftAfterWhatIsHeld_AndSettlementTakesTheCostFromIt(string kind)
    {
        await using var store = await OpenAsync(kind);
        var user = await store.CreateUserAsync("alice", 1000, Ct);
        var key = await CreateKeyAsync(store, userName: "alice");
        // The user's reserved total is read at the real time: these holds must outlive it.
        var request = Request(key, T0) with { UserId = user.Id, ChargeUserBalance = true, ReserveNanos = 400, ReservationExpires = DateTimeOffset.UtcNow.AddDays(1) };

        var admitted = new List<AdmissionDecision>();
        for (var i = 0; i < 3; i++)
        {
            admitted.Add(await store.AdmitAsync(request, Ct));
        }

        var refused = await store.AdmitAsync(request, Ct);
        var holding = await store.FindUserAsync("alice", Ct);
        await store.AppendUsageAsync([Record(key, admitted[0].ReservationId, cost: 300, user.Id)], Ct);
        var settled = await store.FindUserAsync("alice", Ct);

        Assert.All(admitted, d => Assert.True(d.Admitted));
        Assert.Equal([600L, 200L, -200L], admitted.Select(d => d.BalanceRemainingNanos!.Value));
        Assert.Equal(AdmissionRefusal.Balance, refused.Refusal);
        Assert.Equal((1000L, 0L, 1200L), (holding!.BalanceNanos!.Value, holding.SpentNanos, holding.ReservedNanos));
        Assert.Equal((700L, 300L, 800L), (settled!.BalanceNanos!.Value, settled.SpentNanos, settled.ReservedNanos));
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task AUserWhoIsNotPrepaid_IsChargedButHasNoBalance(string kind)
    {
        await using var store = await OpenAsync(kind);
        var user = await store.CreateUserAsync("bob", null, Ct);
        var key = await CreateKeyAsync(store, userName: "bob");

        await store.AppendUsageAsync([Record(key, null, cost: 250, user.Id), Record(key, null, cost: 50, user.Id)], Ct);

        var after = await store.FindUserAsync("bob", Ct);
        Assert.Null(after!.BalanceNanos);
        Assert.Equal(300, after.SpentNanos);
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task Settlement_ChargesEachRecordOnce(string kind)
    {
        await using var store = await OpenAsync(kind);
        var key = await CreateKeyAsync(store);
        var reservation = (await store.AdmitAsync(Request(key, T0) with { BudgetNanos = 10_000, ReserveNanos = 5_000 }, Ct)).ReservationId;

        await store.AppendUsageAsync([Record(key, reservation, cost: 1234)], Ct);
        await store.AppendUsageAsync([Record(key, null, cost: null), Record(key, null, cost: 0)], Ct);

        // Exactly 1234 spent, nothing held: a budget of 1235 has one nano left, a budget of 1234 none.
        Assert.True((await store.AdmitAsync(Request(key, T0) with { BudgetNanos = 1235 }, Ct)).Admitted);
        Assert.Equal(AdmissionRefusal.Budget, (await store.AdmitAsync(Request(key, T0) with { BudgetNanos = 1234 }, Ct)).Refusal);
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task PeriodicBudgets_CountOnlyTheCurrentPeriod(string kind)
    {
        await using var store = await OpenAsync(kind);
        var key = await CreateKeyAsync(store);
        // T0 is Tuesday 10 March 2026, 12:00 UTC.
        await store.AppendUsageAsync([Record(key, null, cost: 500)], Ct);
        AdmissionRequest Budget(BudgetPeriod period, DateTimeOffset now) => Request(key, now) with { BudgetNanos = 500, BudgetPeriod = period };

        Assert.Equal(AdmissionRefusal.Budget, (await store.AdmitAsync(Budget(BudgetPeriod.Day, T0.AddHours(11.9)), Ct)).Refusal);
        Assert.True((await store.AdmitAsync(Budget(BudgetPeriod.Day, T0.AddHours(12)), Ct)).Admitted);
        Assert.Equal(AdmissionRefusal.Budget, (await store.AdmitAsync(Budget(BudgetPeriod.Week, new DateTimeOffset(2026, 3, 15, 23, 0, 0, TimeSpan.Zero)), Ct)).Refusal);
        Assert.True((await store.AdmitAsync(Budget(BudgetPeriod.Week, new DateTimeOffset(2026, 3, 16, 0, 0, 0, TimeSpan.Zero)), Ct)).Admitted);
        Assert.Equal(AdmissionRefusal.Budget, (await store.AdmitAsync(Budget(BudgetPeriod.Month, new DateTimeOffset(2026, 3, 31, 23, 0, 0, TimeSpan.Zero)), Ct)).Refusal);
        Assert.True((await store.AdmitAsync(Budget(BudgetPeriod.Month, new DateTimeOffset(2026, 4, 1, 0, 0, 0, TimeSpan.Zero)), Ct)).Admitted);
        Assert.Equal(AdmissionRefusal.Budget, (await store.AdmitAsync(Budget(BudgetPeriod.Total, T0.AddYears(1)), Ct)).Refusal);
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task AReservationThatExpires_FreesItsSlotAndItsMoney(string kind)
    {
        await using var store = await OpenAsync(kind);
        var key = await CreateKeyAsync(store);
        AdmissionRequest At(DateTimeOffset now) => Request(key, now) with
        {
            Concurrency = 1, BudgetNanos = 1000, ReserveNanos = 1000, ReservationExpires = now.AddSeconds(10),
        };

        var held = await store.AdmitAsync(At(T0), Ct);
        var whileHeld = await store.AdmitAsync(At(T0.AddSeconds(9)), Ct);
        var afterExpiry = await store.AdmitAsync(At(T0.AddSeconds(10)), Ct);

        Assert.True(held.Admitted);
        Assert.Equal(AdmissionRefusal.Concurrency, whileHeld.Refusal);
        Assert.True(afterExpiry.Admitted);
        Assert.Equal(0, afterExpiry.BudgetRemainingNanos);
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task Checks_RunInOrder_AndARefusedRequestTakesNothing(string kind)
    {
        await using var store = await OpenAsync(kind);
        var key = await CreateKeyAsync(store);
        var everything = Request(key, T0) with
        {
            RequestsPerMinute = 2, TokensPerMinute = 1000, EstimatedTokens = 10, Concurrency = 1, BudgetNanos = 100, ReserveNanos = 100,
        };

        var admitted = await store.AdmitAsync(everything, Ct);
        // Concurrency fails first (requests and tokens are left); the budget would fail too.
        var refused = await store.AdmitAsync(everything, Ct);
        await store.ReleaseAsync(admitted.ReservationId, 10, T0, Ct);
        await store.AppendUsageAsync([Record(key, admitted.ReservationId, cost: 0)], Ct);
        var again = await store.AdmitAsync(everything, Ct);
        var outOfRequests = await store.AdmitAsync(everything with { Concurrency = null, BudgetNanos = null }, Ct);

        Assert.True(admitted.Admitted);
        Assert.Equal(AdmissionRefusal.Concurrency, refused.Refusal);
        Assert.Equal((1L, 990L), (refused.RequestsRemaining!.Value, refused.TokensRemaining!.Value));
        Assert.True(again.Admitted);
        Assert.Equal((0L, 980L), (again.RequestsRemaining!.Value, again.TokensRemaining!.Value));
        Assert.Equal(AdmissionRefusal.Requests, outOfRequests.Refusal);
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task ConcurrentAdmissions_NeverTakeMoreThanTheBudgetHolds(string kind)
    {
        await using var store = await OpenAsync(kind);
        var key = await CreateKeyAsync(store);
        // A budget for exactly ten reservations; 50 requests from 50 connections at once.
        var request = Request(key, T0) with { BudgetNanos = 10 * 1_000_000L, ReserveNanos = 1_000_000, Concurrency = 30 };

        var decisions = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => Task.Run(() => store.AdmitAsync(request, Ct), Ct)));

        Assert.Equal(10, decisions.Count(d => d.Admitted));
        Assert.Equal(10, decisions.Where(d => d.Admitted).Select(d => d.ReservationId).Distinct().Count());
        // With Redis, a request refused for its money holds its slot for a moment before giving it back: a request
        // that meets it then is refused for concurrency instead (RedisAdmissionStore's remarks). Never admitted.
        AdmissionRefusal[] refusals = kind == "redis" ? [AdmissionRefusal.Budget, AdmissionRefusal.Concurrency] : [AdmissionRefusal.Budget];
        Assert.All(decisions.Where(d => !d.Admitted), d => Assert.Contains(d.Refusal, refusals));
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task ConcurrentAdmissions_NeverTakeMoreThanTheBalanceHolds(string kind)
    {
        await using var store = await OpenAsync(kind);
        var user = await store.CreateUserAsync("carol", 10 * 1_000_000L, Ct);
        var key = await CreateKeyAsync(store, userName: "carol");
        var request = Request(key, T0) with
        {
            UserId = user.Id, ChargeUserBalance = true, ReserveNanos = 1_000_000, ReservationExpires = DateTimeOffset.UtcNow.AddDays(1),
        };

        var decisions = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => Task.Run(() => store.AdmitAsync(request, Ct), Ct)));

        Assert.Equal(10, decisions.Count(d => d.Admitted));
        Assert.All(decisions.Where(d => !d.Admitted), d => Assert.Equal(AdmissionRefusal.Balance, d.Refusal));
        Assert.Equal(10 * 1_000_000L, (await store.FindUserAsync("carol", Ct))!.ReservedNanos);
    }

    [Fact]
    public async Task ConcurrentAdmissions_FromTwoStoresOnOneFile_AreSerialized()
    {
        // Two instances (or an instance and the CLI) sharing the database must agree: the concurrency limit holds across them.
        var path = _directory.File("shared.db");
        await using var one = new SqliteRelayStore(path);
        await using var two = new SqliteRelayStore(path);
        await one.InitializeAsync(Ct);
        await two.InitializeAsync(Ct);
        var key = await CreateKeyAsync(one);
        var request = Request(key, T0) with { Concurrency = 7, RequestsPerMinute = 1000 };

        var decisions = await Task.WhenAll(Enumerable.Range(0, 40).Select(i => Task.Run(() => (i % 2 == 0 ? one : two).AdmitAsync(request, Ct), Ct)));

        Assert.Equal(7, decisions.Count(d => d.Admitted));
        Assert.Equal(993, decisions.Where(d => d.Admitted).Min(d => d.RequestsRemaining));
    }

    private async Task<IRelayStore> OpenAsync(string kind) =>
        kind == "redis" ? await RedisAdmission.OverAsync(await _stores.OpenAsync("sqlite")) : await _stores.OpenAsync(kind);

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task ABatchWrittenAgain_IsStoredAndChargedOnce(string kind)
    {
        await using var store = await OpenAsync(kind);
        var user = await store.CreateUserAsync("dave", 10_000, Ct);
        var key = await CreateKeyAsync(store, userName: "dave");
        var held = await store.AdmitAsync(Request(key, T0) with { UserId = user.Id, ChargeUserBalance = true, ReserveNanos = 5_000 }, Ct);
        UsageRecord[] batch = [Record(key, held.ReservationId, 1_000, user.Id), Record(key, null, 200, user.Id), Record(key, null, null)];

        await store.AppendUsageAsync(batch, Ct);
        // The writer never heard that the first write committed (or replays its spool after a crash): the same again,
        // then a batch that repeats one record and adds one.
        await store.AppendUsageAsync(batch, Ct);
        await store.AppendUsageAsync([batch[1], Record(key, null, 30, user.Id)], Ct);

        var page = await store.GetUsagePageAsync(UsageFilter.All, null, 100, Ct);
        Assert.Equal(4, page.Items.Count);
        Assert.Equal(4, page.Items.Select(e => e.Record.RequestId).Distinct().Count());
        Assert.Equal(1_230, (await store.FindKeyAsync("limited", Ct))!.SpentNanos);
        var dave = await store.FindUserAsync("dave", Ct);
        Assert.Equal((10_000 - 1_230L, 1_230L, 0L), (dave!.BalanceNanos!.Value, dave.SpentNanos, dave.ReservedNanos));
    }

    /// <summary>A key; the admission requests carry its limits, but a release reads the stored token limit.</summary>
    private static async Task<long> CreateKeyAsync(IRelayStore store, KeyLimits? limits = null, string? userName = null)
    {
        var key = ApiKeys.Generate();
        var created = await store.CreateKeyAsync(
            new NewApiKey("limited", ApiKeys.Hash(key), ApiKeys.DisplayPrefix(key)) { Limits = limits ?? KeyLimits.None, UserName = userName }, Ct);
        return created.Id;
    }

    private static AdmissionRequest Request(long keyId, DateTimeOffset now) => new()
    {
        KeyId = keyId,
        Now = now,
        ReservationExpires = now.AddHours(1),
    };

    private static UsageRecord Record(long keyId, long? reservationId, long? cost, long? userId = null) => new()
    {
        UserId = userId,
        Timestamp = T0,
        RequestId = "req_" + Guid.NewGuid().ToString("N"),
        KeyId = keyId,
        Endpoint = "messages",
        Status = 200,
        DurationMs = 1,
        Streamed = false,
        CostNanos = cost,
        ReservationId = reservationId,
    };
}
