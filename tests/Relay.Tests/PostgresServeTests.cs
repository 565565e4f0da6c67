using System.Net;
using System.Net.Http.Json;
using Relay.Auth;
using Relay.Configuration;
using Relay.Storage;
using Relay.Storage.Accounts;
using Relay.Tests.Infrastructure;

namespace Relay.Tests;

/// <summary>Relay over real Kestrel with <c>"database"</c> naming a real PostgreSQL database: requests are admitted
/// against the key's budget and the user's balance, and their usage records settle what they cost.</summary>
public sealed class PostgresServeTests(SharedPostgres postgres)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Requests_AreAdmittedRecordedAndCharged_InTheDatabase()
    {
        var server = await postgres.ServerAsync();
        var config = RelayTestServer.DefaultConfig(null);
        config.Database = server.Url(await server.CreateDatabaseAsync());
        config.Prices["claude-haiku-4-5"] = new PriceConfig { Input = 1, Output = 1 };
        await using var relay = await RelayTestServer.StartAsync(config);
        Assert.StartsWith("postgresql 127.0.0.1:", relay.Store.Description, StringComparison.Ordinal);
        await relay.Store.CreateUserAsync("erin", Usd.ToNanos(1), Ct);
        var key = ApiKeys.Generate();
        await relay.Store.CreateKeyAsync(new NewApiKey("metered", ApiKeys.Hash(key), ApiKeys.DisplayPrefix(key))
        {
            UserName = "erin", Limits = new KeyLimits { BudgetNanos = Usd.ToNanos(1), Concurrency = 2 },
        }, Ct);
        using var client = relay.CreateClient(key);

        for (var i = 0; i < 3; i++)
        {
            using var response = await client.PostAsJsonAsync("v1/messages",
                new { model = "claude-haiku-4-5", max_tokens = 50, messages = new[] { new { role = "user", content = $"Hello {i}" } } }, Ct);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        var records = await relay.WaitForUsageAsync(3);
        Assert.Equal(3, records.Count);
        Assert.All(records, r => Assert.Equal("metered", r.KeyName));
        var cost = records.Sum(r => r.CostNanos!.Value);
        Assert.True(cost > 0);
        Assert.Equal(cost, (await relay.Store.FindKeyAsync("metered", Ct))!.SpentNanos);
        var erin = await relay.Store.FindUserAsync("erin", Ct);
        Assert.Equal((Usd.ToNanos(1) - cost, cost, 0L), (erin!.BalanceNanos!.Value, erin.SpentNanos, erin.ReservedNanos));
    }
}
