using System.Net;
using Relay.Configuration;

namespace Relay.Upstreams;

/// <summary>The connection pool each provider gets: YARP's forwarding discipline (no redirects, no cookies, no
/// automatic decompression, so bytes pass as sent) and a bounded connection lifetime so DNS changes are noticed.</summary>
internal static class UpstreamConnections
{
    public static HttpMessageInvoker CreateInvoker(ProviderConfig config) => new(new SocketsHttpHandler
    {
        AllowAutoRedirect = false,
        AutomaticDecompression = DecompressionMethods.None,
        UseCookies = false,
        ConnectTimeout = TimeSpan.FromSeconds(config.ConnectTimeoutSeconds ?? RelayDefaults.ConnectTimeoutSeconds),
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        PooledConnectionIdleTimeout = TimeSpan.FromSeconds(90),
        EnableMultipleHttp2Connections = true,
        // Kestrel hands Relay header values decoded as UTF-8; without this the client would refuse to send a
        // non-ASCII value the user's client sent, and the request would fail without ever reaching the provider.
        RequestHeaderEncodingSelector = (_, _) => System.Text.Encoding.UTF8,
    }, disposeHandler: true);

    /// <summary>An OpenAI-style endpoint: the base URL is the one with its version path (<c>/v1</c>) included, and
    /// <paramref name="path"/> (<c>/chat/completions</c>, <c>/responses</c>) is appended unless it is already there.</summary>
    public static Uri OpenAIEndpoint(string baseUrl, string path)
    {
        var root = baseUrl.TrimEnd('/');
        return new Uri(root.EndsWith(path, StringComparison.OrdinalIgnoreCase) ? root : root + path);
    }

    /// <summary>One Anthropic <c>ping</c> event; Claude Code gives up on a stream after 300 s of silence, so a ping
    /// every <c>pingIntervalSeconds</c> (default 15) keeps it, and proxies in between, waiting.</summary>
    public static TimeSpan PingInterval(ProviderConfig config) => TimeSpan.FromSeconds(config.PingIntervalSeconds ?? 15);
}
