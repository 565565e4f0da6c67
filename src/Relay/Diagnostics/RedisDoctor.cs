using System.Globalization;
using Relay.Configuration;
using Relay.Storage.Redis;
using StackExchange.Redis;

namespace Relay.Diagnostics;

/// <summary><c>relay doctor --store</c>'s Redis line: Redis answers (and how fast), and takes the admission scripts.</summary>
internal static class RedisDoctor
{
    public const string Id = "redis";
    public const string Title = "redis";

    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(5);

    public static async Task<DoctorCheck> CheckAsync(RelayConfig config, CancellationToken cancellationToken)
    {
        if (config.Redis is null)
        {
            return new DoctorCheck(Id, Title, CheckStatus.Skip,
                "not configured (optional): rate limits and slots are kept in the store, and other instances' changes apply within 5 s (keys) or 30 s (prices).");
        }

        var connection = RedisConnection.Parse(config.Redis, config.RedisPrefix);
        var options = connection.Options.Clone();
        // Here a Redis that is down is the answer, not something to wait out.
        options.AbortOnConnectFail = true;
        options.ConnectTimeout = (int)ConnectTimeout.TotalMilliseconds;
        try
        {
            await using var redis = await ConnectionMultiplexer.ConnectAsync(options).WaitAsync(cancellationToken);
            var server = redis.GetServer(redis.GetEndPoints()[0]);
            var ping = await redis.GetDatabase().PingAsync().WaitAsync(cancellationToken);
            foreach (var (_, script) in RedisAdmissionScripts.All)
            {
                await server.ScriptLoadAsync(script).WaitAsync(cancellationToken);
            }

            var milliseconds = ping.TotalMilliseconds.ToString("F1", CultureInfo.InvariantCulture);
            return new DoctorCheck(Id, Title, CheckStatus.Pass,
                $"{connection.Description} (Redis {server.Version}): PING {milliseconds} ms; the {RedisAdmissionScripts.All.Count} admission scripts load; keys under \"{connection.Prefix}\".");
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            // StackExchange.Redis's messages name the server and the reason, never the password.
            return new DoctorCheck(Id, Title, CheckStatus.Fail, $"{connection.Description}: {ex.Message}",
                "check \"redis\" (host, port, password, TLS) and that Redis takes connections from here; until it does, requests of keys with rate or "
                + "concurrency limits are refused with 503.");
        }
    }
}
