using System.Globalization;
using Relay.Clients;
using Relay.Configuration;
using Relay.Tls;

namespace Relay.Hosting;

/// <summary>What is worth a warning once Relay listens: setups that clients will refuse or that expose keys.</summary>
internal static class StartupWarnings
{
    /// <param name="addresses">The addresses Kestrel actually bound.</param>
    /// <param name="activeKeys">How many Relay keys can be used (ignored for a bridge, which checks none).</param>
    public static IReadOnlyList<string> For(RelayConfig config, IReadOnlyList<string> addresses, int activeKeys, TimeProvider time)
    {
        var warnings = new List<string>();
        var bridge = config.BridgeProvider is not null;
        foreach (var address in addresses)
        {
            if (!Uri.TryCreate(address, UriKind.Absolute, out var uri) || GatewayUrl.IsLoopbackHost(uri.Host))
            {
                continue;
            }

            if (uri.Scheme == Uri.UriSchemeHttp)
            {
                warnings.Add($"{address} is plain HTTP on a non-loopback address: Claude Desktop refuses it, and keys cross the network unencrypted. "
                    + "Listen on https:// with \"tls\" (`relay cert` makes a test certificate), or on 127.0.0.1 only.");
            }

            if (bridge)
            {
                warnings.Add($"{address}: a bridge checks no keys itself, so anyone who can reach it can send requests through it (with their own key for the remote). "
                    + "Keep it on 127.0.0.1 unless that is what you want.");
            }
        }

        if (config.MetricsListen is { } metrics && Uri.TryCreate(metrics, UriKind.Absolute, out var metricsUri)
            && metricsUri.Host is "0.0.0.0" or "[::]")
        {
            warnings.Add($"metricsListen {metrics} serves /metrics without a key on every network interface: "
                + "bind it to a private or loopback address that only the scraper can reach.");
        }

        if (!bridge && activeKeys == 0)
        {
            warnings.Add("There are no API keys, so every request is refused with 401: create one with `relay keys create --name NAME`.");
        }

        if (config.Tls is not null)
        {
            using var certificate = TlsCertificateLoader.Load(config, config.SourcePath ?? "relay.json");
            var now = time.GetLocalNow();
            if (certificate.NotAfter < now)
            {
                warnings.Add($"The TLS certificate expired on {certificate.NotAfter.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)}: every client will refuse it.");
            }
            else if (certificate.NotAfter < now.AddDays(14))
            {
                warnings.Add($"The TLS certificate expires on {certificate.NotAfter.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)}.");
            }

            if (certificate.SubjectName.RawData.AsSpan().SequenceEqual(certificate.IssuerName.RawData))
            {
                warnings.Add("The TLS certificate is self-signed: Claude Desktop and Claude Code accept it only on machines that trust it "
                    + "(`relay cert` prints how; Claude Code also reads NODE_EXTRA_CA_CERTS).");
            }
        }

        return warnings;
    }
}
