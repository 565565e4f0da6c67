using System.Net;
using Microsoft.AspNetCore.HttpOverrides;
using Relay.Configuration;
using IPNetwork = System.Net.IPNetwork;

namespace Relay.Hosting;

/// <summary>
/// <c>trustedProxies</c>: behind nginx or a load balancer every connection comes from the proxy, so a key's address
/// list and the per-address limit for strangers would see only the proxy. ASP.NET's forwarded-headers middleware then
/// takes the client from <c>X-Forwarded-For</c>, walking it from the right only while the hop is a listed proxy, so a
/// client cannot claim an address by sending the header itself.
/// </summary>
internal static class TrustedProxies
{
    public static bool TryParse(string text, out IPNetwork network)
    {
        var trimmed = text.Trim();
        if (IPAddress.TryParse(trimmed, out var address))
        {
            network = new IPNetwork(address, address.GetAddressBytes().Length * 8);
            return true;
        }

        return IPNetwork.TryParse(trimmed, out network);
    }

    /// <summary>Adds the middleware when proxies are configured; without any, the TCP peer stays the client.</summary>
    public static void Use(WebApplication app, RelayConfig config)
    {
        if (config.TrustedProxies.Count == 0)
        {
            return;
        }

        var options = new ForwardedHeadersOptions
        {
            ForwardedHeaders = ForwardedHeaders.XForwardedFor,
            // Every trusted hop is unwound, however many; the first untrusted one is the client.
            ForwardLimit = null,
        };
        options.KnownProxies.Clear();
        options.KnownIPNetworks.Clear();
        foreach (var proxy in config.TrustedProxies)
        {
            if (TryParse(proxy, out var network))
            {
                options.KnownIPNetworks.Add(network);
            }
        }

        app.UseForwardedHeaders(options);
    }
}
