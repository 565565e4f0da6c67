using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Relay.Configuration;
using Relay.Storage.Accounts;
using Relay.Tests.Infrastructure;

namespace Relay.Tests;

/// <summary>
/// Relay instances sharing one SQLite file and one real Redis, over real Kestrel: a key revoked through one instance
/// (or the CLI) is refused by the other within a second, though its key cache would hold it; a price set through one
/// is billed by the other at once; and with Redis gone a limited key's request is refused with 503 in the client's
/// own protocol (fail closed).
/// </summary>
/// <remarks>The instance that must hear the change runs on a clock that stands still, so its 5 s key cache would hold a
/// revoked key for ever: only the change feed can make it let go.</remarks>
public sealed class RedisScaleOutTests : IAsyncLifetime
{
    private static readonly TimeSpan Within = TimeSpan.FromSeconds(1);

    private readonly TempDirectory _directory = new();
    private RedisServer _redis = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => _redis = await RedisServer.StartNewAsync();

    public async ValueTask DisposeAsync()
    {
        await _redis.DisposeAsync();
        _directory.Dispose();
    }

    [Fact]
    public async Task AKeyRevokedThroughOneInstance_IsRefusedByTheOther_WithinASecond()
    {
        await using var one = await StartAsync("one");
        await using var two = await StartAsync("two", frozenClock: true);
        using var onTwo = two.CreateClient(one.Key);
        Assert.Equal(HttpStatusCode.OK, await SendAsync(onTwo)); // now in two's key cache
        using var admin = new AdminClient(one.CreateClient(AdminClient.AdminKey));

        Assert.Equal(HttpStatusCode.NoContent, (await admin.Delete("admin/api/keys/one")).Status);

        Assert.True(await RefusedWithinAsync(onTwo), "the other instance still accepted the revoked key after 1 s");
    }

    [Fact]
    public async Task APriceSetThroughOneInstance_IsBilledByTheOtherAtOnce()
    {
        await using var one = await StartAsync("one");
        await using var two = await StartAsync("two");
        using var admin = new AdminClient(one.CreateClient(AdminClient.AdminKey));
        using var twoAdmin = new AdminClient(two.CreateClient(AdminClient.AdminKey));

        Assert.Equal(HttpStatusCode.OK, (await admin.Put("admin/api/prices/claude-haiku-4-5", """{"input":3,"output":5}""")).Status);

        var clock = Stopwatch.StartNew();
        while (!await HasAdminPriceAsync(twoAdmin) && clock.Elapsed < Within)
        {
            await Task.Delay(20, Ct);
        }

        Assert.True(clock.Elapsed < Within, "the other instance did not see the price within 1 s (it re-reads prices every 30 s)");
        Assert.Equal(HttpStatusCode.OK, await SendAsync(two.Client));
        var record = Assert.Single(await two.WaitForUsageAsync(1));
        Assert.True(record.InputTokens > 0);
        Assert.Equal(record.InputTokens * 3_000 + record.OutputTokens * 5_000, record.CostNanos);
    }

    [Fact]
    public async Task AKeyRevokedWithTheCli_IsRefusedByARunningInstance_WithinASecond()
    {
        await using var server = await StartAsync("one", frozenClock: true);
        var configFile = server.WriteConfigFile();
        Assert.Equal(HttpStatusCode.OK, await SendAsync(server.Client));

        var (exit, _, stderr) = await RelayProcess.RunAsync(_directory.Path, "keys", "revoke", "one", "--config", configFile);

        Assert.True(exit == 0, stderr);
        Assert.Equal("", stderr);
        Assert.True(await RefusedWithinAsync(server.Client), "the running instance still accepted the key revoked with the CLI after 1 s");
    }

    [Fact]
    public async Task RedisGone_ALimitedKeysRequestIs503_InEachDoorsProtocol()
    {
        await using var server = await StartAsync("one");
        var key = await LimitedKeys.CreateAsync(server, new KeyLimits { RequestsPerMinute = 100 });
        using (var before = await LimitedKeys.SendAsync(server, "messages", key, "claude-haiku-4-5"))
        {
            Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        }

        await _redis.DisposeAsync();

        foreach (var door in LimitedKeys.Doors)
        {
            using var response = await LimitedKeys.SendAsync(server, door, key, "claude-haiku-4-5");
            var message = await LimitedKeys.AssertErrorAsync(response, door, HttpStatusCode.ServiceUnavailable, "api_error", retryable: true);
            Assert.Contains("limits store failed", message, StringComparison.Ordinal);
        }

        // A key without limits needs no admission, so Redis being gone does not touch it.
        Assert.Equal(HttpStatusCode.OK, await SendAsync(server.Client));
    }

    private async Task<RelayTestServer> StartAsync(string keyName, bool frozenClock = false)
    {
        var config = RelayTestServer.DefaultConfig(null);
        config.Database = _directory.File("shared.db");
        config.Redis = _redis.Url;
        config.AdminKey = AdminClient.AdminKey;
        return await RelayTestServer.StartAsync(config, frozenClock ? builder => builder.Services.AddSingleton<TimeProvider>(new FrozenClock()) : null, keyName);
    }

    private static async Task<HttpStatusCode> SendAsync(HttpClient client)
    {
        using var response = await client.PostAsync("v1/messages", JsonBody.Of(JsonBody.Message("claude-haiku-4-5")), Ct);
        return response.StatusCode;
    }

    private static async Task<bool> RefusedWithinAsync(HttpClient client)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < Within)
        {
            if (await SendAsync(client) == HttpStatusCode.Unauthorized)
            {
                return true;
            }

            await Task.Delay(20, Ct);
        }

        return false;
    }

    private static async Task<bool> HasAdminPriceAsync(AdminClient admin) =>
        (await admin.Get("admin/api/prices"))["data"].EnumerateArray()
            .Any(p => p.GetProperty("model").GetString() == "claude-haiku-4-5" && p.GetProperty("source").GetString() == "admin");

    /// <summary>Time that stands still: a key cached by this instance would stay cached.</summary>
    private sealed class FrozenClock : TimeProvider
    {
        private readonly DateTimeOffset _now = DateTimeOffset.UtcNow;

        public override DateTimeOffset GetUtcNow() => _now;
    }
}
