using System.Net;
using Relay.Configuration;
using Relay.Storage.Redis;

namespace Relay.Tests;

/// <summary>relay.json's <c>redis</c>: the URL forms, StackExchange.Redis's own form, and problems named without the
/// password.</summary>
public sealed class RedisConnectionTests
{
    [Fact]
    public void RedisUrl_GivesHostPortDatabaseAndPassword_AndTheDescriptionHidesThePassword()
    {
        var redis = RedisConnection.Parse("redis://:s3cret%2Fpw@cache.internal:6380/2");

        var endpoint = Assert.IsType<DnsEndPoint>(Assert.Single(redis.Options.EndPoints));
        Assert.Equal(("cache.internal", 6380, 2, "s3cret/pw", false), (endpoint.Host, endpoint.Port, redis.Options.DefaultDatabase, redis.Options.Password, redis.Options.Ssl));
        Assert.Null(redis.Options.User);
        Assert.Equal("redis cache.internal:6380/2", redis.Description);
        Assert.Equal("relay:", redis.Prefix);
        // Relay starts while Redis is down, and admissions fail at once instead of queueing.
        Assert.False(redis.Options.AbortOnConnectFail);
    }

    [Fact]
    public void RedissUrl_IsTls_WithAUserAndTheDefaultPort()
    {
        var redis = RedisConnection.Parse("rediss://relay:pw@redis.example.com", "station-a:");

        var endpoint = Assert.IsType<DnsEndPoint>(Assert.Single(redis.Options.EndPoints));
        Assert.Equal(("redis.example.com", 6379, true, "redis.example.com"), (endpoint.Host, endpoint.Port, redis.Options.Ssl, redis.Options.SslHost));
        Assert.Equal(("relay", "pw"), (redis.Options.User, redis.Options.Password));
        Assert.Equal("redis redis.example.com:6379 (TLS)", redis.Description);
        Assert.Equal("station-a:", redis.Prefix);
    }

    [Fact]
    public void APasswordWithoutAColon_IsThePassword()
    {
        var redis = RedisConnection.Parse("redis://hunter2hunter2@127.0.0.1:7000");

        Assert.Equal(("hunter2hunter2", (string?)null), (redis.Options.Password, redis.Options.User));
        Assert.Equal("redis 127.0.0.1:7000", redis.Description);
    }

    [Fact]
    public void StackExchangeForm_PassesThrough_WithoutThePasswordInTheDescription()
    {
        var redis = RedisConnection.Parse("10.0.0.5:6379,password=topsecret,ssl=true");

        Assert.Equal(("topsecret", true), (redis.Options.Password, redis.Options.Ssl));
        Assert.DoesNotContain("topsecret", redis.Description, StringComparison.Ordinal);
        Assert.Contains("10.0.0.5:6379", redis.Description, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("redis://:pw@host:6379/x", "'/x' is not a database number")]
    [InlineData("redis://:pw@host:6379?prefix=a", "\"redisPrefix\"")]
    [InlineData("redis://", "is not a URL")]
    public void BadUrls_AreConfigErrors_ThatNeverRepeatThePassword(string url, string expected)
    {
        var config = new RelayConfig { Redis = url };

        var error = Assert.Throws<ConfigException>(() => ConfigValidator.Validate(config, "relay.json", _ => null));

        Assert.StartsWith("relay.json: key redis: ", error.Message, StringComparison.Ordinal);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("pw", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AnEmptyPrefix_IsAConfigError()
    {
        var config = new RelayConfig { Redis = "redis://127.0.0.1:6379", RedisPrefix = "" };

        var error = Assert.Throws<ConfigException>(() => ConfigValidator.Validate(config, "relay.json", _ => null));

        Assert.Contains("key redisPrefix:", error.Message, StringComparison.Ordinal);
    }
}
