using Npgsql;
using Relay.Auth;
using Relay.Storage;
using Relay.Storage.Accounts;
using Relay.Storage.Postgres;
using Relay.Tests.Infrastructure;

namespace Relay.Tests;

/// <summary>
/// What only the shared PostgreSQL store must show, on a real server: several instances starting at once migrate the
/// schema once, admission stays atomic across instances, and a batch written again (its commit's acknowledgment
/// lost) is stored and charged once. The contract every store keeps is tested over it in AccountStoreTests,
/// AdmissionStoreTests and UsageQueryTests.
/// </summary>
public sealed class PostgresStoreTests(SharedPostgres postgres)
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 10, 12, 0, 0, TimeSpan.Zero);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Migrations_AppliedBySeveralInstancesStartingAtOnce_EndAtOneVersion()
    {
        var database = await postgres.CreateDatabaseAsync();
        var stores = Enumerable.Range(0, 6).Select(_ => new PostgresRelayStore(database)).ToList();
        try
        {
            Assert.Equal(new SchemaVersion(0, 1), await stores[0].GetSchemaVersionAsync(Ct));

            await Task.WhenAll(stores.Select(s => Task.Run(() => s.InitializeAsync(Ct), Ct)));

            var version = await stores[^1].GetSchemaVersionAsync(Ct);
            Assert.True(version.IsCurrent);
            Assert.True(version.Applied >= 1);
            // One row per migration: none was applied twice.
            Assert.Equal(version.Latest, await ScalarAsync<long>(database, "SELECT COUNT(*) FROM relay_schema_version;"));
            // And the schema works: starting once more changes nothing.
            await stores[0].InitializeAsync(Ct);
            await stores[1].CreateKeyAsync("k", ApiKeys.Hash(ApiKeys.Generate()), "sk-relay-k000", Ct);
            Assert.Equal(1, await stores[2].CountActiveKeysAsync(Ct));
        }
        finally
        {
            foreach (var store in stores)
            {
                await store.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task ConcurrentAdmissions_FromTwoInstancesOnOneDatabase_NeverTakeMoreThanTheLimitsHold()
    {
        var database = await postgres.CreateDatabaseAsync();
        await using var one = await OpenAsync(database);
        await using var two = await OpenAsync(database);
        var user = await one.CreateUserAsync("carol", 9 * 1_000_000L, Ct);
        var key = await CreateKeyAsync(one, "carol");
        // Concurrency 7 and a balance for 9: the slots run out first; then the balance, once slots are freed.
        var request = new AdmissionRequest
        {
            KeyId = key, UserId = user.Id, ChargeUserBalance = true, Now = T0, ReservationExpires = DateTimeOffset.UtcNow.AddDays(1),
            Concurrency = 7, RequestsPerMinute = 1000, ReserveNanos = 1_000_000,
        };

        var decisions = await Task.WhenAll(Enumerable.Range(0, 40).Select(i => Task.Run(() => (i % 2 == 0 ? one : two).AdmitAsync(request, Ct), Ct)));

        Assert.Equal(7, decisions.Count(d => d.Admitted));
        Assert.Equal(993, decisions.Where(d => d.Admitted).Min(d => d.RequestsRemaining));
        Assert.All(decisions.Where(d => !d.Admitted), d => Assert.Equal(AdmissionRefusal.Concurrency, d.Refusal));

        foreach (var admitted in decisions.Where(d => d.Admitted))
        {
            await two.ReleaseAsync(admitted.ReservationId, 0, T0, Ct);
        }

        var more = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => Task.Run(() => (i % 2 == 0 ? two : one).AdmitAsync(request, Ct), Ct)));
        Assert.Equal(2, more.Count(d => d.Admitted));
        Assert.All(more.Where(d => !d.Admitted), d => Assert.Equal(AdmissionRefusal.Balance, d.Refusal));
        Assert.Equal(9 * 1_000_000L, (await one.FindUserAsync("carol", Ct))!.ReservedNanos);
    }

    [Fact]
    public async Task ABatchWrittenAgain_IsStoredAndChargedOnce()
    {
        var database = await postgres.CreateDatabaseAsync();
        await using var one = await OpenAsync(database);
        await using var two = await OpenAsync(database);
        var user = await one.CreateUserAsync("dave", 10_000, Ct);
        var key = await CreateKeyAsync(one, "dave");
        var reservation = (await one.AdmitAsync(new AdmissionRequest
        {
            KeyId = key, UserId = user.Id, ChargeUserBalance = true, Now = T0, ReservationExpires = DateTimeOffset.UtcNow.AddDays(1), ReserveNanos = 5_000,
        }, Ct)).ReservationId;
        UsageRecord[] batch = [Record(key, user.Id, reservation, cost: 1_000), Record(key, user.Id, null, cost: 200), Record(key, null, null, cost: null)];

        await one.AppendUsageAsync(batch, Ct);
        // The writer did not hear that the commit succeeded and writes the batch again, on this instance and on another.
        await one.AppendUsageAsync(batch, Ct);
        await Task.WhenAll(Task.Run(() => one.AppendUsageAsync(batch, Ct), Ct), Task.Run(() => two.AppendUsageAsync(batch, Ct), Ct));
        // A later batch that repeats one record and adds one: only the new one is stored and charged.
        await two.AppendUsageAsync([batch[1], Record(key, user.Id, null, cost: 30)], Ct);

        var page = await two.GetUsagePageAsync(UsageFilter.All, null, 100, Ct);
        Assert.Equal(4, page.Items.Count);
        Assert.Equal([.. batch.Select(r => r.RequestId)], page.Items.Skip(1).Reverse().Select(e => e.Record.RequestId));
        var stored = await two.FindKeyAsync("limited", Ct);
        Assert.Equal(1_230, stored!.SpentNanos);
        var dave = await two.FindUserAsync("dave", Ct);
        Assert.Equal((10_000 - 1_230L, 1_230L, 0L), (dave!.BalanceNanos!.Value, dave.SpentNanos, dave.ReservedNanos));
        Assert.Equal(1_230, await ScalarAsync<long>(database, $"SELECT spent_nanos FROM key_spend WHERE key_id = {key} AND period = 'day';"));
    }

    [Fact]
    public async Task SettlementsAndAdmissionsAtOnce_FromTwoInstances_ChargeExactly()
    {
        // Batches that charge several keys and users, in every order, while admissions lock the same rows: no
        // deadlock escapes the store, and every cost is charged once.
        var database = await postgres.CreateDatabaseAsync();
        await using var one = await OpenAsync(database);
        await using var two = await OpenAsync(database);
        var users = new List<UserInfo>();
        var keys = new List<long>();
        for (var i = 0; i < 3; i++)
        {
            users.Add(await one.CreateUserAsync($"user{i}", 1_000_000_000, Ct));
            keys.Add(await CreateKeyAsync(one, $"user{i}", $"key{i}"));
        }

        var writes = Enumerable.Range(0, 30).Select(n => Task.Run(async () =>
        {
            var store = n % 2 == 0 ? one : two;
            var order = n % 3 == 0 ? new[] { 2, 1, 0 } : n % 3 == 1 ? new[] { 0, 2, 1 } : new[] { 1, 0, 2 };
            await store.AppendUsageAsync([.. order.Select(i => Record(keys[i], users[i].Id, null, cost: 10))], Ct);
        }, Ct));
        var admissions = Enumerable.Range(0, 30).Select(n => Task.Run(() => (n % 2 == 0 ? two : one).AdmitAsync(new AdmissionRequest
        {
            KeyId = keys[n % 3], UserId = users[n % 3].Id, ChargeUserBalance = true, Now = T0, ReservationExpires = T0.AddHours(1),
            BudgetNanos = 1_000_000, RequestsPerMinute = 1000,
        }, Ct), Ct));
        await Task.WhenAll(writes);
        var decisions = await Task.WhenAll(admissions);

        Assert.All(decisions, d => Assert.True(d.Admitted));
        foreach (var i in Enumerable.Range(0, 3))
        {
            Assert.Equal(300, (await one.FindKeyAsync($"key{i}", Ct))!.SpentNanos);
            Assert.Equal(1_000_000_000 - 300L, (await two.FindUserAsync($"user{i}", Ct))!.BalanceNanos);
        }
    }

    private static async Task<PostgresRelayStore> OpenAsync(string database)
    {
        var store = new PostgresRelayStore(database);
        await store.InitializeAsync(Ct);
        return store;
    }

    private static async Task<long> CreateKeyAsync(IRelayStore store, string? userName, string name = "limited")
    {
        var key = ApiKeys.Generate();
        return (await store.CreateKeyAsync(new NewApiKey(name, ApiKeys.Hash(key), ApiKeys.DisplayPrefix(key)) { UserName = userName }, Ct)).Id;
    }

    private static UsageRecord Record(long keyId, long? userId, long? reservationId, long? cost) => new()
    {
        Timestamp = T0,
        RequestId = "req_" + Guid.NewGuid().ToString("N"),
        KeyId = keyId,
        KeyName = "limited",
        UserId = userId,
        Endpoint = "messages",
        Status = 200,
        DurationMs = 1,
        Streamed = false,
        CostNanos = cost,
        ReservationId = reservationId,
    };

    private static async Task<T> ScalarAsync<T>(string database, string sql)
    {
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync(Ct);
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync(Ct))!;
    }
}
