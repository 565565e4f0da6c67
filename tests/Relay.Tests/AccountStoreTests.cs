using System.Security.Cryptography;
using Microsoft.Data.Sqlite;
using Relay.Storage;
using Relay.Storage.Accounts;
using Relay.Storage.Sqlite;
using Relay.Tests.Infrastructure;

namespace Relay.Tests;

/// <summary>Users and keys with limits, kept alike by the SQLite store (a real file), the memory store and the PostgreSQL
/// store (a real database).</summary>
public sealed class AccountStoreTests : IDisposable
{
    private static readonly KeyLimits EveryLimit = new()
    {
        Models = ["claude-sonnet-*", "claude-haiku-4-5"],
        ExpiresAt = DateTimeOffset.FromUnixTimeMilliseconds(4_102_444_800_123),
        AllowedIps = ["10.0.0.0/8", "2001:db8::/32", "127.0.0.1"],
        RequestsPerMinute = 60,
        TokensPerMinute = 100_000,
        Concurrency = 3,
        BudgetNanos = Usd.ToNanos(12.5m),
        BudgetPeriod = BudgetPeriod.Week,
    };

    private readonly TempDirectory _dir = new();
    private readonly TestStores _stores;

    public AccountStoreTests(SharedPostgres postgres)
    {
        _stores = new TestStores(_dir, postgres);
    }

    public static TheoryData<string> Stores => TestStores.Kinds;

    public void Dispose() => _dir.Dispose();

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task TopUp_RaisesKeysChanged_SoCachedKeysLearnTheyArePrepaid(string kind)
    {
        await using var store = await OpenAsync(kind);
        await store.CreateUserAsync("bob", null, Ct);
        var changes = 0;
        store.KeysChanged += () => changes++;

        await store.TopUpAsync("bob", Usd.ToNanos(1), Ct);
        await store.TopUpAsync("nobody", Usd.ToNanos(1), Ct);

        Assert.Equal(1, changes);
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task CreateKey_WithUserAndEveryLimit_ComesBackFromEveryLookup(string kind)
    {
        await using var store = await OpenAsync(kind);
        var alice = await store.CreateUserAsync("alice", Usd.ToNanos(5), Ct);
        var hash = Hash("k1");

        var created = await store.CreateKeyAsync(new NewApiKey("laptop", hash, "sk-relay-abcd") { UserName = "alice", Limits = EveryLimit }, Ct);

        Assert.Equal("alice", created.UserName);
        Assert.Equal(EveryLimit, created.Limits);

        var stored = await store.FindActiveKeyAsync(hash, Ct);
        Assert.NotNull(stored);
        Assert.Equal(created.Id, stored.Id);
        Assert.Equal("laptop", stored.Name);
        Assert.Equal(hash, stored.KeyHash);
        Assert.Equal(alice.Id, stored.UserId);
        Assert.Equal("alice", stored.UserName);
        Assert.True(stored.UserPrepaid);
        Assert.Null(stored.DisabledAt);
        Assert.Equal(EveryLimit, stored.Limits);
        Assert.Equal(EveryLimit.Models, stored.Limits.Models);
        Assert.Equal(EveryLimit.AllowedIps, stored.Limits.AllowedIps);

        var found = await store.FindKeyAsync("laptop", Ct);
        Assert.NotNull(found);
        Assert.Equal("alice", found.UserName);
        Assert.Equal(EveryLimit, found.Limits);
        Assert.Equal("sk-relay-abcd", found.DisplayPrefix);

        var listed = Assert.Single(await store.ListKeysAsync(includeRevoked: false, Ct));
        Assert.Equal(EveryLimit, listed.Limits);
        Assert.Equal("alice", listed.UserName);
        Assert.Equal(0, listed.SpentNanos);
        Assert.Equal(0, listed.PeriodSpentNanos);
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task CreateKey_WithoutUserOrLimits_HasNone(string kind)
    {
        await using var store = await OpenAsync(kind);
        await store.CreateKeyAsync("plain", Hash("k"), "sk-relay-plai", Ct);

        var stored = await store.FindActiveKeyAsync(Hash("k"), Ct);

        Assert.NotNull(stored);
        Assert.Null(stored.UserId);
        Assert.Null(stored.UserName);
        Assert.False(stored.UserPrepaid);
        Assert.Equal(KeyLimits.None, stored.Limits);
        Assert.Null(stored.Limits.Models);
        Assert.Equal(BudgetPeriod.Total, stored.Limits.BudgetPeriod);
        Assert.Null((await store.FindKeyAsync("plain", Ct))!.UserName);
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task Key_OfAUserWhoIsNotPrepaid_IsNotLimitedByABalance(string kind)
    {
        await using var store = await OpenAsync(kind);
        await store.CreateUserAsync("team", null, Ct);
        await store.CreateKeyAsync(new NewApiKey("ci", Hash("k"), "sk-relay-ci00") { UserName = "team" }, Ct);

        var stored = await store.FindActiveKeyAsync(Hash("k"), Ct);

        Assert.Equal("team", stored!.UserName);
        Assert.False(stored.UserPrepaid);
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task CreateKey_ForAnUnknownUser_IsRefusedAndStoresNothing(string kind)
    {
        await using var store = await OpenAsync(kind);

        var error = await Assert.ThrowsAsync<UnknownUserException>(() =>
            store.CreateKeyAsync(new NewApiKey("k", Hash("k"), "sk-relay-k000") { UserName = "nobody" }, Ct));

        Assert.Contains("nobody", error.Message, StringComparison.Ordinal);
        Assert.Empty(await store.ListKeysAsync(includeRevoked: true, Ct));
        Assert.Null(await store.FindActiveKeyAsync(Hash("k"), Ct));
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task CreateKey_DuplicateActiveName_IsRefused(string kind)
    {
        await using var store = await OpenAsync(kind);
        await store.CreateKeyAsync("same", Hash("a"), "sk-relay-aaaa", Ct);

        await Assert.ThrowsAsync<DuplicateKeyNameException>(() => store.CreateKeyAsync("same", Hash("b"), "sk-relay-bbbb", Ct));
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task UpdateKey_ReplacesLimitsAndUser(string kind)
    {
        await using var store = await OpenAsync(kind);
        await store.CreateUserAsync("alice", null, Ct);
        await store.CreateUserAsync("bob", Usd.ToNanos(1), Ct);
        await store.CreateKeyAsync(new NewApiKey("k", Hash("k"), "sk-relay-k000") { UserName = "alice", Limits = EveryLimit }, Ct);
        var changed = EveryLimit with { RequestsPerMinute = null, Models = ["claude-opus-*"], BudgetPeriod = BudgetPeriod.Month };

        var updated = await store.UpdateKeyAsync("k", changed, "bob", Ct);

        Assert.NotNull(updated);
        Assert.Equal("bob", updated.UserName);
        Assert.Equal(changed, updated.Limits);
        var stored = await store.FindActiveKeyAsync(Hash("k"), Ct);
        Assert.Equal(changed, stored!.Limits);
        Assert.Equal("bob", stored.UserName);
        Assert.True(stored.UserPrepaid);

        var cleared = await store.UpdateKeyAsync("k", KeyLimits.None, null, Ct);
        Assert.Null(cleared!.UserName);
        Assert.Equal(KeyLimits.None, cleared.Limits);
        Assert.Null((await store.FindActiveKeyAsync(Hash("k"), Ct))!.UserId);
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task UpdateKey_UnknownKeyOrUser(string kind)
    {
        await using var store = await OpenAsync(kind);
        await store.CreateKeyAsync(new NewApiKey("k", Hash("k"), "sk-relay-k000") { Limits = EveryLimit }, Ct);

        Assert.Null(await store.UpdateKeyAsync("missing", KeyLimits.None, null, Ct));
        await Assert.ThrowsAsync<UnknownUserException>(() => store.UpdateKeyAsync("k", KeyLimits.None, "nobody", Ct));
        Assert.Equal(EveryLimit, (await store.FindKeyAsync("k", Ct))!.Limits); // unchanged
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task DisableAndEnable_AreSeenByAuthenticationAndListing(string kind)
    {
        await using var store = await OpenAsync(kind);
        await store.CreateKeyAsync("k", Hash("k"), "sk-relay-k000", Ct);
        var before = DateTimeOffset.UtcNow.AddSeconds(-1);

        Assert.True(await store.SetKeyDisabledAsync("k", disabled: true, Ct));

        // A disabled key is still found, so authentication can say why it is refused.
        var disabledAt = (await store.FindActiveKeyAsync(Hash("k"), Ct))!.DisabledAt;
        Assert.NotNull(disabledAt);
        Assert.InRange(disabledAt.Value, before, DateTimeOffset.UtcNow.AddSeconds(1));
        Assert.Equal(disabledAt, (await store.FindKeyAsync("k", Ct))!.DisabledAt);
        Assert.Equal(disabledAt, Assert.Single(await store.ListKeysAsync(includeRevoked: false, Ct)).DisabledAt);
        Assert.Equal(1, await store.CountActiveKeysAsync(Ct));

        Assert.True(await store.SetKeyDisabledAsync("k", disabled: false, Ct));
        Assert.Null((await store.FindActiveKeyAsync(Hash("k"), Ct))!.DisabledAt);

        Assert.False(await store.SetKeyDisabledAsync("missing", disabled: true, Ct));
        Assert.True(await store.RevokeKeyAsync("k", Ct));
        Assert.False(await store.SetKeyDisabledAsync("k", disabled: true, Ct));
        Assert.Null(await store.FindActiveKeyAsync(Hash("k"), Ct));
        Assert.Null(await store.FindKeyAsync("k", Ct));
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task ExpiredKey_IsStillFound_SoTheCallerCanSaySo(string kind)
    {
        await using var store = await OpenAsync(kind);
        var past = DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.AddDays(-1).ToUnixTimeMilliseconds());
        await store.CreateKeyAsync(new NewApiKey("old", Hash("k"), "sk-relay-old0") { Limits = new KeyLimits { ExpiresAt = past } }, Ct);

        Assert.Equal(past, (await store.FindActiveKeyAsync(Hash("k"), Ct))!.Limits.ExpiresAt);
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task KeysChanged_IsRaisedByEveryChange(string kind)
    {
        await using var store = await OpenAsync(kind);
        await store.CreateUserAsync("alice", null, Ct);
        var raised = 0;
        store.KeysChanged += () => Interlocked.Increment(ref raised);

        await store.CreateKeyAsync("k", Hash("k"), "sk-relay-k000", Ct);
        Assert.Equal(1, raised);
        await store.UpdateKeyAsync("k", EveryLimit, "alice", Ct);
        Assert.Equal(2, raised);
        await store.SetKeyDisabledAsync("k", disabled: true, Ct);
        Assert.Equal(3, raised);
        await store.SetKeyDisabledAsync("k", disabled: false, Ct);
        Assert.Equal(4, raised);
        await store.RevokeKeyAsync("k", Ct);
        Assert.Equal(5, raised);
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task Users_CreateTopUpFindList(string kind)
    {
        await using var store = await OpenAsync(kind);

        var bob = await store.CreateUserAsync("bob", null, Ct);
        var alice = await store.CreateUserAsync("alice", Usd.ToNanos(10), Ct);
        Assert.Null(bob.BalanceNanos);
        Assert.Equal(Usd.ToNanos(10), alice.BalanceNanos);
        Assert.NotEqual(bob.Id, alice.Id);

        await store.CreateKeyAsync(new NewApiKey("a1", Hash("a1"), "sk-relay-a100") { UserName = "alice" }, Ct);
        await store.CreateKeyAsync(new NewApiKey("a2", Hash("a2"), "sk-relay-a200") { UserName = "alice" }, Ct);
        await store.CreateKeyAsync(new NewApiKey("a3", Hash("a3"), "sk-relay-a300") { UserName = "alice" }, Ct);
        await store.RevokeKeyAsync("a3", Ct);

        var toppedUp = await store.TopUpAsync("alice", Usd.ToNanos(2.25m), Ct);
        Assert.Equal(Usd.ToNanos(12.25m), toppedUp!.BalanceNanos);
        var corrected = await store.TopUpAsync("alice", -Usd.ToNanos(0.25m), Ct);
        Assert.Equal(Usd.ToNanos(12m), corrected!.BalanceNanos);

        // A user who was not prepaid becomes prepaid with the amount.
        Assert.Equal(Usd.ToNanos(3), (await store.TopUpAsync("bob", Usd.ToNanos(3), Ct))!.BalanceNanos);
        Assert.Null(await store.TopUpAsync("nobody", 1, Ct));

        var found = await store.FindUserAsync("alice", Ct);
        Assert.Equal(alice.Id, found!.Id);
        Assert.Equal(2, found.Keys);
        Assert.Equal(0, found.SpentNanos);
        Assert.Equal(0, found.ReservedNanos);
        Assert.Null(await store.FindUserAsync("nobody", Ct));

        var users = await store.ListUsersAsync(Ct);
        Assert.Equal(["alice", "bob"], users.Select(u => u.Name));
        Assert.Equal([2, 0], users.Select(u => u.Keys));
        Assert.Equal([Usd.ToNanos(12m), Usd.ToNanos(3)], users.Select(u => u.BalanceNanos));
        Assert.Equal(found.CreatedAt, users[0].CreatedAt);
        Assert.InRange(found.CreatedAt, DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddSeconds(1));
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task CreateUser_DuplicateName_IsRefused(string kind)
    {
        await using var store = await OpenAsync(kind);
        await store.CreateUserAsync("alice", Usd.ToNanos(1), Ct);

        var error = await Assert.ThrowsAsync<DuplicateUserNameException>(() => store.CreateUserAsync("alice", null, Ct));

        Assert.Contains("alice", error.Message, StringComparison.Ordinal);
        Assert.Equal(Usd.ToNanos(1), Assert.Single(await store.ListUsersAsync(Ct)).BalanceNanos);
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task TopUp_ConcurrentTopUps_AddUpExactly(string kind)
    {
        await using var store = await OpenAsync(kind);
        await store.CreateUserAsync("alice", null, Ct);
        await using var second = kind == "memory" ? null : await OpenAsync(kind); // another instance on the same file or database

        await Task.WhenAll(Enumerable.Range(1, 20).Select(i =>
            Task.Run(() => (i % 2 == 0 || second is null ? store : second).TopUpAsync("alice", Usd.ToNanos(0.000001m) * i, Ct), Ct)));

        Assert.Equal(Usd.ToNanos(0.000001m) * 210, (await store.FindUserAsync("alice", Ct))!.BalanceNanos);
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task ListKeys_ShowsSpendOfTheCurrentBudgetPeriod_AndFindUserWhatIsHeld(string kind)
    {
        await using var store = await OpenAsync(kind);
        var alice = await store.CreateUserAsync("alice", Usd.ToNanos(10), Ct);
        var weekly = await store.CreateKeyAsync(new NewApiKey("weekly", Hash("w"), "sk-relay-w000") { UserName = "alice", Limits = EveryLimit }, Ct);
        await store.CreateKeyAsync(new NewApiKey("total", Hash("t"), "sk-relay-t000") { Limits = new KeyLimits { BudgetNanos = 5 } }, Ct);
        var now = DateTimeOffset.UtcNow;
        var total = (await store.FindKeyAsync("total", Ct))!.Id;
        UsageRecord Spent(long key, DateTimeOffset at, long cost) => new()
        {
            Timestamp = at, RequestId = "req_" + Guid.NewGuid().ToString("N"), KeyId = key, Endpoint = "messages", Status = 200, DurationMs = 1,
            Streamed = false, CostNanos = cost,
        };
        await store.AppendUsageAsync([Spent(weekly.Id, now, 300), Spent(weekly.Id, now.AddDays(-7), 600), Spent(total, now, 4)], Ct);
        await store.AdmitAsync(new AdmissionRequest
        {
            KeyId = weekly.Id, UserId = alice.Id, ChargeUserBalance = true, Now = now, ReservationExpires = now.AddMinutes(10), ReserveNanos = 42,
        }, Ct);
        await store.AdmitAsync(new AdmissionRequest
        {
            KeyId = weekly.Id, UserId = alice.Id, ChargeUserBalance = true, Now = now, ReservationExpires = now.AddSeconds(-1), ReserveNanos = 1000,
        }, Ct);

        var keys = await store.ListKeysAsync(includeRevoked: false, Ct);

        Assert.Equal(["weekly", "total"], keys.Select(k => k.Name));
        Assert.Equal((900, 300), (keys[0].SpentNanos, keys[0].PeriodSpentNanos));
        Assert.Equal((4, 4), (keys[1].SpentNanos, keys[1].PeriodSpentNanos));
        Assert.Equal(300, (await store.FindKeyAsync("weekly", Ct))!.PeriodSpentNanos);
        Assert.Equal(42, (await store.FindUserAsync("alice", Ct))!.ReservedNanos); // the lapsed hold is not counted
    }

    [Fact]
    public async Task Sqlite_ListKeys_ReadsSpendOfTheCurrentBudgetPeriodAndReservationsOfUsers()
    {
        await using var store = await OpenAsync("sqlite");
        var alice = await store.CreateUserAsync("alice", Usd.ToNanos(10), Ct);
        var weekly = await store.CreateKeyAsync(new NewApiKey("weekly", Hash("w"), "sk-relay-w000") { UserName = "alice", Limits = EveryLimit }, Ct);
        var total = await store.CreateKeyAsync(new NewApiKey("total", Hash("t"), "sk-relay-t000") { Limits = new KeyLimits { BudgetNanos = 5 } }, Ct);
        var now = DateTimeOffset.UtcNow;
        var thisWeek = BudgetPeriods.Start(BudgetPeriod.Week, now).ToUnixTimeMilliseconds();
        var lastWeek = BudgetPeriods.Start(BudgetPeriod.Week, now.AddDays(-7)).ToUnixTimeMilliseconds();
        var today = BudgetPeriods.Start(BudgetPeriod.Day, now).ToUnixTimeMilliseconds();
        await ExecuteAsync($"""
            UPDATE api_keys SET spent_nanos = 900 WHERE id = {weekly.Id};
            UPDATE api_keys SET spent_nanos = 4 WHERE id = {total.Id};
            INSERT INTO key_spend VALUES ({weekly.Id}, 'week', {thisWeek}, 300), ({weekly.Id}, 'week', {lastWeek}, 600),
                                         ({weekly.Id}, 'day', {today}, 77);
            INSERT INTO reservations (key_id, user_id, reserved_nanos, estimated_tokens, holds_slot, expires_at)
            VALUES ({weekly.Id}, {alice.Id}, 40, 10, 1, {now.AddMinutes(10).ToUnixTimeMilliseconds()}),
                   ({weekly.Id}, {alice.Id}, 2, 10, 1, {now.AddMinutes(10).ToUnixTimeMilliseconds()}),
                   ({weekly.Id}, {alice.Id}, 1000, 10, 1, {now.AddMinutes(-1).ToUnixTimeMilliseconds()});
            """);

        var keys = await store.ListKeysAsync(includeRevoked: false, Ct);

        Assert.Equal((900, 300), (keys[0].SpentNanos, keys[0].PeriodSpentNanos));
        Assert.Equal((4, 4), (keys[1].SpentNanos, keys[1].PeriodSpentNanos));
        Assert.Equal(300, (await store.FindKeyAsync("weekly", Ct))!.PeriodSpentNanos);
        Assert.Equal(42, (await store.FindUserAsync("alice", Ct))!.ReservedNanos); // the lapsed hold is not counted
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static byte[] Hash(string key) => SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(key));

    private Task<IRelayStore> OpenAsync(string kind) => _stores.OpenAsync(kind);

    private async Task ExecuteAsync(string sql)
    {
        await using var connection = new SqliteConnection($"Data Source={_dir.File("relay.db")}");
        await connection.OpenAsync(Ct);
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(Ct);
    }
}
