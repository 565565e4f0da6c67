using System.Globalization;
using StackExchange.Redis;

namespace Relay.Storage.Redis;

/// <summary>Where Redis is and how to reach it, parsed once from relay.json's <c>redis</c> and <c>redisPrefix</c>.</summary>
/// <param name="Options">What StackExchange.Redis connects with (it holds the password).</param>
/// <param name="Prefix">Put before every key and channel name Relay uses, so several stations can share one Redis.</param>
/// <param name="Description">For people: the server without its password.</param>
public sealed record RedisConnection(ConfigurationOptions Options, string Prefix, string Description)
{
    public const string DefaultPrefix = "relay:";

    private const int DefaultPort = 6379;

    /// <summary>Reads <c>redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]</c>, <c>rediss://…</c> (TLS) or StackExchange.Redis's own
    /// <c>host:port,password=…</c> form.</summary>
    /// <exception cref="FormatException">The value is neither; the message names what is wrong, never the password.</exception>
    public static RedisConnection Parse(string value, string? prefix = null)
    {
        var options = value.StartsWith("redis://", StringComparison.OrdinalIgnoreCase) || value.StartsWith("rediss://", StringComparison.OrdinalIgnoreCase)
            ? FromUrl(value)
            : FromStackExchangeString(value);

        // A Redis that is down at start or later must not stop Relay from starting: admissions that need it fail (503)
        // until it is back, and StackExchange.Redis keeps reconnecting in the background.
        options.AbortOnConnectFail = false;
        // Fail closed at once while disconnected instead of queueing every admission for the command timeout.
        options.BacklogPolicy = BacklogPolicy.FailFast;
        options.ClientName ??= "relay";
        return new RedisConnection(options, prefix ?? DefaultPrefix, Describe(options));
    }

    private static ConfigurationOptions FromUrl(string value)
    {
        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || uri.Host.Length == 0)
        {
            throw new FormatException("is not a URL such as \"redis://127.0.0.1:6379\" or \"redis://:PASSWORD@HOST:6379/0\".");
        }

        if (uri.Query.Length > 0 || uri.Fragment.Length > 0)
        {
            throw new FormatException("takes no ?query or #fragment; the key prefix is set with \"redisPrefix\".");
        }

        var options = new ConfigurationOptions { Ssl = uri.Scheme.Equals("rediss", StringComparison.OrdinalIgnoreCase) };
        var host = uri.IdnHost;
        options.EndPoints.Add(host, uri.IsDefaultPort || uri.Port < 0 ? DefaultPort : uri.Port);
        if (options.Ssl)
        {
            options.SslHost = host;
        }

        if (uri.UserInfo.Length > 0)
        {
            var colon = uri.UserInfo.IndexOf(':', StringComparison.Ordinal);
            var user = Uri.UnescapeDataString(colon < 0 ? uri.UserInfo : uri.UserInfo[..colon]);
            var password = colon < 0 ? null : Uri.UnescapeDataString(uri.UserInfo[(colon + 1)..]);
            if (password is null)
            {
                // redis://PASSWORD@HOST is how many tools write a password without a user name.
                (user, password) = ("", user);
            }

            options.User = user.Length == 0 ? null : user;
            options.Password = password;
        }

        var path = uri.AbsolutePath.Trim('/');
        if (path.Length > 0)
        {
            if (!int.TryParse(path, NumberStyles.None, CultureInfo.InvariantCulture, out var database) || database > 1000)
            {
                throw new FormatException($"'/{path}' is not a database number such as /0.");
            }

            options.DefaultDatabase = database;
        }

        return options;
    }

    private static ConfigurationOptions FromStackExchangeString(string value)
    {
        ConfigurationOptions options;
        try
        {
            options = ConfigurationOptions.Parse(value);
        }
        catch (ArgumentException)
        {
            // Its message may repeat the value, password and all.
            throw new FormatException("is neither a redis:// URL nor a StackExchange.Redis configuration such as \"HOST:6379,password=…\".");
        }

        if (options.EndPoints.Count == 0)
        {
            throw new FormatException("names no server; write \"redis://HOST:6379\".");
        }

        return options;
    }

    private static string Describe(ConfigurationOptions options)
    {
        var servers = string.Join(",", options.EndPoints.Select(e => e switch
        {
            System.Net.DnsEndPoint dns => $"{dns.Host}:{dns.Port}",
            _ => e.ToString(),
        }));
        return $"redis {servers}{(options.DefaultDatabase is { } db ? $"/{db}" : "")}{(options.Ssl ? " (TLS)" : "")}";
    }
}
