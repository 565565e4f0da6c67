using Relay.Auth;
using Relay.Storage;
using Relay.Storage.Accounts;
using Relay.Storage.Redis;
using Relay.Storage.Sqlite;
using Relay.Tests.Infrastructure;
using StackExchange.Redis;

namespace Relay.Tests;

/// <summary>
/// <see cref="RedisAdmissionStore"/> on a real Redis over a real SQLite file, beyond the contract that
/// <see cref="AdmissionStoreTests"/> runs on every store: two instances (two connections) agreeing on one Redis, slots of
/// instances that died lapsing, what a money refusal gives back, and failing closed when Redis is gone.
/// </summary>
public sealed class RedisAdmissionStoreTests : IAsyncLifetime
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 10, 12, 0, 0, TimeSpan.Zero);

    private readonly TempDirectory _directory = new();
    private RedisServer _redis = null!;
    private SqliteRelayStore _sqlite = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _redis = await RedisServer.StartNewAsync();
        _sqlite = new SqliteRelayStore(_directory.File("relay.db"));
        await _sqlite.InitializeAsync(Ct);
    }

    public async ValueTask DisposeAsync()
    {
        await _sqlite.DisposeAsync();
        await _redis.DisposeAsync();
        _directory.Dispose();
    }

    [Fact]
    public async Task TwoInstances_WithTheirOwnConnectionsAndStores_NeverTogetherExceedALimit()
    {
        await using var secondSqlite = new SqliteRelayStore(_directory.File("relay.db"));
        await secondSqlite.InitializeAsync(Ct);
        await using var firstRedis = await RedisAdmission.ConnectAsync(_redis.Url);
        await using var secondRedis = await RedisAdmission.ConnectAsync(_redis.Url);
        var one = new RedisAdmissionStore(firstRedis, "relay:", _sqlite);
        var two = new RedisAdmissionStore(secondRedis, "relay:", secondSqlite);
        var slots = await CreateKeyAsync();
        var money = await CreateKeyAsync();

        var slotRequest = Request(slots) with { Concurrency = 7, RequestsPerMinute = 1000, TokensPerMinute = 100_000, EstimatedTokens = 10 };
        var slotDecisions = await Task.WhenAll(Enumerable.Range(0, 40).Select(i => Task.Run(() => (i % 2 == 0 ? one : two).AdmitAsync(slotRequest, Ct), Ct)));
        // A budget for exactly ten reservations, rate-limited too so every request goes through Redis first.
        var moneyRequest = Request(money) with { RequestsPerMinute = 1000, BudgetNanos = 10 * 1_000_000L, ReserveNanos = 1_000_000 };
        var moneyDecisions = await Task.WhenAll(Enumerable.Range(0, 40).Select(i => Task.Run(() => (i % 2 == 0 ? one : two).AdmitAsync(moneyRequest, Ct), Ct)));

        Assert.Equal(7, slotDecisions.Count(d => d.Admitted));
        Assert.Equal(993, slotDecisions.Where(d => d.Admitted).Min(d => d.RequestsRemaining));
        Assert.Equal(100_000 - 70, slotDecisions.Where(d => d.Admitted).Min(d => d.TokensRemaining));
        Assert.All(slotDecisions.Where(d => !d.Admitted), d => Assert.Equal(AdmissionRefusal.Concurrency, d.Refusal));
        Assert.Equal(10, moneyDecisions.Count(d => d.Admitted));
        Assert.All(moneyDecisions.Where(d => d.Admitted), d => Assert.True(d.ReservationId > 0)); // the SQL store's ids, settled there
        // Refused for money, they gave back their request: only the ten admitted took one.
        var next = await one.AdmitAsync(moneyRequest with { BudgetNanos = null }, Ct);
        Assert.Equal(1000 - 11, next.RequestsRemaining);
    }

    [Fact]
    public async Task ASlotThatIsNeverReleased_LapsesAtItsExpiry()
    {
        // An instance that died mid-request never releases its slot.
        await using var redis = await RedisAdmission.ConnectAsync(_redis.Url);
        var store = new RedisAdmissionStore(redis, "relay:", _sqlite);
        var key = await CreateKeyAsync();
        AdmissionRequest At(DateTimeOffset now) => Request(key, now) with { Concurrency = 1, ReservationExpires = now.AddSeconds(10) };

        var held = await store.AdmitAsync(At(T0), Ct);
        var whileHeld = await store.AdmitAsync(At(T0.AddSeconds(9.999)), Ct);
        var afterExpiry = await store.AdmitAsync(At(T0.AddSeconds(10)), Ct);

        Assert.True(held.Admitted);
        Assert.True(held.ReservationId < 0); // no money held: a Redis id, which settlement in SQL never finds
        Assert.Equal(AdmissionRefusal.Concurrency, whileHeld.Refusal);
        Assert.True(afterExpiry.Admitted);
        Assert.NotEqual(held.ReservationId, afterExpiry.ReservationId);
    }

    [Fact]
    public async Task AMoneyRefusal_GivesBackTheRequestTheTokensAndTheSlot()
    {
        await using var redis = await RedisAdmission.ConnectAsync(_redis.Url);
        var store = new RedisAdmissionStore(redis, "relay:", _sqlite);
        var user = await _sqlite.CreateUserAsync("dave", 0, Ct);
        var key = await CreateKeyAsync("dave");
        var limits = Request(key) with { RequestsPerMinute = 2, TokensPerMinute = 1000, EstimatedTokens = 300, Concurrency = 1 };

        var broke = await store.AdmitAsync(limits with { UserId = user.Id, ChargeUserBalance = true, ReserveNanos = 5 }, Ct);
        var overBudget = await store.AdmitAsync(limits with { BudgetNanos = 0, ReserveNanos = 5 }, Ct);
        var free = await store.AdmitAsync(limits, Ct);

        Assert.Equal((AdmissionRefusal.Balance, 0L, 0L), (broke.Refusal, broke.ReservationId, broke.BalanceRemainingNanos!.Value));
        // The refusals report the allowance as they found it and left it: nothing taken.
        Assert.Equal((2L, 1000L), (broke.RequestsRemaining!.Value, broke.TokensRemaining!.Value));
        Assert.Equal(AdmissionRefusal.Budget, overBudget.Refusal);
        Assert.Equal((2L, 1000L), (overBudget.RequestsRemaining!.Value, overBudget.TokensRemaining!.Value));
        Assert.True(free.Admitted, "the slot was given back");
        Assert.Equal((1L, 700L), (free.RequestsRemaining!.Value, free.TokensRemaining!.Value));
        Assert.Equal(0, (await _sqlite.FindUserAsync("dave", Ct))!.ReservedNanos);
    }

    [Fact]
    public async Task AReleaseByTheSqlId_FreesTheRedisSlot_AndTheMoneyStaysHeldUntilSettlement()
    {
        await using var redis = await RedisAdmission.ConnectAsync(_redis.Url);
        var store = new RedisAdmissionStore(redis, "relay:", _sqlite);
        var key = await CreateKeyAsync();
        var request = Request(key) with { Concurrency = 1, TokensPerMinute = 1000, EstimatedTokens = 100, BudgetNanos = 1000, ReserveNanos = 600 };

        var first = await store.AdmitAsync(request, Ct);
        var whileRunning = await store.AdmitAsync(request with { BudgetNanos = null }, Ct);
        await store.ReleaseAsync(first.ReservationId, 400, T0, Ct);
        var afterRelease = await store.AdmitAsync(request with { BudgetNanos = null, EstimatedTokens = 0 }, Ct);

        Assert.True(first.ReservationId > 0);
        Assert.Equal((400L, 900L), (first.BudgetRemainingNanos!.Value, first.TokensRemaining!.Value));
        Assert.Equal(AdmissionRefusal.Concurrency, whileRunning.Refusal);
        Assert.True(afterRelease.Admitted);
        Assert.Equal(600, afterRelease.TokensRemaining); // the estimate of 100 replaced by the real 400
        // The money stays held until the usage record settles it.
        Assert.Equal(AdmissionRefusal.Budget, (await store.AdmitAsync(Request(key) with { BudgetNanos = 600, ReserveNanos = 1 }, Ct)).Refusal);
    }

    [Fact]
    public async Task RedisGone_AdmissionThrows_AndTakesNoMoney()
    {
        await using var redis = await RedisAdmission.ConnectAsync(_redis.Url);
        var store = new RedisAdmissionStore(redis, "relay:", _sqlite);
        var key = await CreateKeyAsync();
        await _redis.DisposeAsync();

        var started = DateTime.UtcNow;
        await Assert.ThrowsAnyAsync<RedisException>(() => store.AdmitAsync(Request(key) with { RequestsPerMinute = 10, BudgetNanos = 1000, ReserveNanos = 1000 }, Ct));

        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(2), "refused at once, not after a command timeout");
        // The SQL store was never asked: the whole budget is still there.
        Assert.Equal(0, (await _sqlite.AdmitAsync(Request(key) with { BudgetNanos = 1000, ReserveNanos = 1000 }, Ct)).BudgetRemainingNanos);
    }

    private async Task<long> CreateKeyAsync(string? userName = null)
    {
        var key = ApiKeys.Generate();
        var created = await _sqlite.CreateKeyAsync(
            new NewApiKey("limited-" + Guid.NewGuid().ToString("N")[..8], ApiKeys.Hash(key), ApiKeys.DisplayPrefix(key)) { UserName = userName }, Ct);
        return created.Id;
    }

    private static AdmissionRequest Request(long keyId, DateTimeOffset? now = null) => new()
    {
        KeyId = keyId,
        Now = now ?? T0,
        ReservationExpires = (now ?? T0).AddHours(1),
    };
}
