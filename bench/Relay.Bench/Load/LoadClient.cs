using System.Net;

namespace Relay.Bench.Load;

/// <summary>The HTTP client every load mode sends with: HTTP/1.1 keep-alive connections, no proxy, no decompression,
/// no redirects or cookies, so what is measured is the server's answer as it came.</summary>
internal static class LoadClient
{
    public static HttpMessageInvoker CreateInvoker(int connections) => new(new SocketsHttpHandler
    {
        UseProxy = false,
        AllowAutoRedirect = false,
        AutomaticDecompression = DecompressionMethods.None,
        UseCookies = false,
        MaxConnectionsPerServer = connections,
        ConnectTimeout = TimeSpan.FromSeconds(5),
        PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
        PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
    }, disposeHandler: true);
}
