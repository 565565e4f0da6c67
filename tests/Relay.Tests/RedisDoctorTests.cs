using Relay.Configuration;
using Relay.Diagnostics;
using Relay.Tests.Infrastructure;

namespace Relay.Tests;

/// <summary><c>relay doctor --store</c>'s Redis line, against a real Redis, a stopped one, and none configured.</summary>
public sealed class RedisDoctorTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task AReachableRedis_Passes_WithItsLatencyAndTheScriptsLoaded()
    {
        await using var redis = await RedisServer.StartNewAsync();

        var check = await RedisDoctor.CheckAsync(new RelayConfig { Redis = redis.Url }, Ct);

        Assert.True(check.Status == CheckStatus.Pass, check.Detail);
        Assert.Matches(@"^redis 127\.0\.0\.1:\d+ \(Redis 7[.\d]*\): PING \d+\.\d ms; the 4 admission scripts load; keys under ""relay:""\.$", check.Detail);
    }

    [Fact]
    public async Task AStoppedRedis_Fails_WithAFix()
    {
        var redis = await RedisServer.StartNewAsync();
        var url = redis.Url;
        await redis.DisposeAsync();

        var check = await RedisDoctor.CheckAsync(new RelayConfig { Redis = url }, Ct);

        Assert.Equal(CheckStatus.Fail, check.Status);
        Assert.StartsWith($"redis 127.0.0.1:{redis.Port}: ", check.Detail, StringComparison.Ordinal);
        Assert.Contains("503", check.Fix, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NoRedis_IsSkipped()
    {
        var check = await RedisDoctor.CheckAsync(new RelayConfig(), Ct);

        Assert.Equal(CheckStatus.Skip, check.Status);
    }
}
