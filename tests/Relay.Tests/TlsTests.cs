using System.Net;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Relay.Cli;
using Relay.Configuration;
using Relay.Hosting;
using Relay.Tests.Infrastructure;
using Relay.Tls;

namespace Relay.Tests;

/// <summary>HTTPS listening with a PEM or PFX certificate, <c>relay cert</c>, and the start-up warnings.</summary>
public sealed class TlsTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Https_WithPemCertificate_ServesClientsThatTrustIt_AndOnlyThem()
    {
        using var certificate = SelfSignedCertificate.Create(["localhost", "127.0.0.1"], 30, TimeProvider.System);
        var config = HttpsConfig(WritePem(certificate));

        await using var relay = await RelayTestServer.StartAsync(config);
        Assert.StartsWith("https://127.0.0.1:", relay.BaseUrl, StringComparison.Ordinal);

        using var trusting = Trusting(certificate, relay);
        using var response = await trusting.PostAsync("v1/messages", JsonBody.Of(JsonBody.Message("claude-haiku-4-5")), TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(certificate.Thumbprint, _lastSeenThumbprint);

        // A client with the default trust store refuses a self-signed certificate, as Claude Desktop would.
        using var untrusting = relay.CreateClient(relay.Key);
        var failure = await Assert.ThrowsAsync<HttpRequestException>(() => untrusting.GetAsync("v1/models", TestContext.Current.CancellationToken));
        Assert.Equal(HttpRequestError.SecureConnectionError, failure.HttpRequestError);
    }

    [Fact]
    public async Task Https_TheWebConsolesSessionCookie_IsSecure()
    {
        using var certificate = SelfSignedCertificate.Create(["127.0.0.1"], 30, TimeProvider.System);
        var config = HttpsConfig(WritePem(certificate));
        config.AdminKey = AdminClient.AdminKey;
        await using var relay = await RelayTestServer.StartAsync(config);
        using var trusting = Trusting(certificate, relay);

        using var response = await trusting.PostAsync("console/api/session", JsonBody.Of($$"""{"adminKey":"{{AdminClient.AdminKey}}"}"""), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var flags = Assert.Single(response.Headers.GetValues("Set-Cookie")).Split(';', StringSplitOptions.TrimEntries).Select(f => f.ToLowerInvariant());
        Assert.Contains("secure", flags);
        Assert.Contains("httponly", flags);
    }

    [Fact]
    public async Task Https_WithPasswordProtectedPfx()
    {
        using var certificate = SelfSignedCertificate.Create(["127.0.0.1"], 30, TimeProvider.System);
        var pfx = _dir.File("relay.pfx");
        await File.WriteAllBytesAsync(pfx, certificate.Export(X509ContentType.Pkcs12, "s3cret"), TestContext.Current.CancellationToken);
        var config = HttpsConfig(new TlsConfig { Pfx = "relay.pfx", Password = "s3cret" });

        await using var relay = await RelayTestServer.StartAsync(config);
        using var client = Trusting(certificate, relay);
        using var response = await client.GetAsync("v1/models", TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    [InlineData("""{"listen":"https://127.0.0.1:8443"}""", "key listen: 'https://127.0.0.1:8443' is https:// and needs a certificate")]
    [InlineData("""{"listen":"http://127.0.0.1:8787","tls":{"pfx":"relay.pfx"}}""", "key tls: is set, but no listen URL is https://")]
    [InlineData("""{"listen":"https://127.0.0.1:8443","tls":{"pfx":"relay.pfx","certificate":"relay.crt","key":"relay.key"}}""", "key tls: give either")]
    [InlineData("""{"listen":"https://127.0.0.1:8443","tls":{"certificate":"relay.crt"}}""", "key tls.key: PEM needs both")]
    [InlineData("""{"listen":"https://127.0.0.1:8443","tls":{"certificate":"missing.crt","key":"missing.key"}}""", "key tls.certificate: the file")]
    [InlineData("""{"listen":"https://127.0.0.1:8443","tls":{"certificate":"relay.crt","key":"other.key"}}""", "key tls.certificate: the certificate cannot be loaded")]
    public async Task TlsSettings_AreCheckedAtLoad_NamingTheKey(string json, string expected)
    {
        using var one = SelfSignedCertificate.Create(["localhost"], 30, TimeProvider.System);
        using var other = SelfSignedCertificate.Create(["localhost"], 30, TimeProvider.System);
        WritePem(one);
        await File.WriteAllTextAsync(_dir.File("other.key"), other.GetRSAPrivateKey()!.ExportPkcs8PrivateKeyPem(), TestContext.Current.CancellationToken);
        var path = _dir.File("relay.json");
        await File.WriteAllTextAsync(path, json, TestContext.Current.CancellationToken);

        var error = Assert.Throws<ConfigException>(() => ConfigLoader.Load(path));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.StartsWith(path, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CertCommand_WritesAUsableCertificate_AndExplainsHowToTrustIt()
    {
        using var output = new StringWriter();
        using var error = new StringWriter();

        var exit = await RelayCli.RunAsync(["cert", "--out", _dir.Path, "--host", "relay.internal", "--host", "192.168.7.7", "--days", "90"], output, error,
            TestContext.Current.CancellationToken);

        Assert.True(exit == 0, error.ToString());
        var text = output.ToString();
        Assert.Contains("security add-trusted-cert", text, StringComparison.Ordinal); // macOS
        Assert.Contains("certutil -addstore -user Root", text, StringComparison.Ordinal); // Windows
        Assert.Contains("NODE_EXTRA_CA_CERTS", text, StringComparison.Ordinal);
        using var certificate = X509Certificate2.CreateFromPemFile(_dir.File("relay.crt"), _dir.File("relay.key"));
        var san = certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single();
        Assert.Equal(["relay.internal"], san.EnumerateDnsNames());
        Assert.Equal([IPAddress.Parse("192.168.7.7")], san.EnumerateIPAddresses());
        Assert.False(certificate.Extensions.OfType<X509BasicConstraintsExtension>().Single().CertificateAuthority);
        Assert.InRange((certificate.NotAfter - DateTime.Now).TotalDays, 89, 91);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(_dir.File("relay.key")));
        }

        // A second run does not overwrite a key by accident.
        Assert.Equal(1, await RelayCli.RunAsync(["cert", "--out", _dir.Path], output, error, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Serve_OverHttps_WithACertFromRelayCert_WarnsThatItIsSelfSigned()
    {
        Assert.Equal(0, (await RelayProcess.RunAsync(_dir.Path, "cert", "--host", "127.0.0.1")).ExitCode);
        var port = FreePort();
        await File.WriteAllTextAsync(_dir.File("relay.json"), $$"""
            {
              "listen": "https://127.0.0.1:{{port}}",
              "tls": { "certificate": "relay.crt", "key": "relay.key" },
              "providers": { "demo": { "type": "mock", "chunkDelayMs": 0 } },
              "models": { "claude-*": { "routes": ["demo/echo"] } }
            }
            """, TestContext.Current.CancellationToken);

        await using var relay = RelayProcess.Start(_dir.Path, "serve");
        var banner = await relay.WaitForOutputAsync("Press Ctrl+C", TimeSpan.FromSeconds(30));

        Assert.Contains($"https://127.0.0.1:{port}", banner, StringComparison.Ordinal);
        Assert.Contains("self-signed", banner, StringComparison.Ordinal);
        using var certificate = X509CertificateLoader.LoadCertificateFromFile(_dir.File("relay.crt"));
        using var handler = new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, presented, _, _) => presented?.Thumbprint == certificate.Thumbprint };
        using var client = new HttpClient(handler);
        using var response = await client.GetAsync($"https://127.0.0.1:{port}/", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public void StartupWarnings_PlainHttpOffLoopback_NoKeys_AndABridgeOnTheNetwork()
    {
        var config = new RelayConfig();

        Assert.Empty(StartupWarnings.For(config, ["http://127.0.0.1:8787", "http://[::1]:8787"], 1, TimeProvider.System));
        var network = Assert.Single(StartupWarnings.For(config, ["http://0.0.0.0:8787"], 1, TimeProvider.System));
        Assert.Contains("Claude Desktop refuses it", network, StringComparison.Ordinal);
        Assert.Contains("no API keys", Assert.Single(StartupWarnings.For(config, ["http://127.0.0.1:8787"], 0, TimeProvider.System)), StringComparison.Ordinal);

        var bridge = BridgeCommand.CreateConfig("http://10.0.0.5:3000", "http://0.0.0.0:18080", 600);
        var bridgeWarnings = StartupWarnings.For(bridge, ["http://0.0.0.0:18080"], 0, TimeProvider.System);
        Assert.Equal(2, bridgeWarnings.Count);
        Assert.Contains(bridgeWarnings, w => w.Contains("checks no keys itself", StringComparison.Ordinal));
        Assert.Empty(StartupWarnings.For(bridge, ["http://127.0.0.1:18080"], 0, TimeProvider.System));
    }

    private string? _lastSeenThumbprint;

    private HttpClient Trusting(X509Certificate2 certificate, RelayTestServer relay)
    {
        var handler = new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, presented, _, _) =>
                {
                    _lastSeenThumbprint = (presented as X509Certificate2)?.Thumbprint;
                    return _lastSeenThumbprint == certificate.Thumbprint;
                },
            },
        };
        var client = new HttpClient(handler) { BaseAddress = new Uri(relay.BaseUrl + "/") };
        client.DefaultRequestHeaders.Add("x-api-key", relay.Key);
        return client;
    }

    private TlsConfig WritePem(X509Certificate2 certificate)
    {
        File.WriteAllText(_dir.File("relay.crt"), certificate.ExportCertificatePem());
        File.WriteAllText(_dir.File("relay.key"), certificate.GetRSAPrivateKey()!.ExportPkcs8PrivateKeyPem());
        return new TlsConfig { Certificate = "relay.crt", Key = "relay.key" };
    }

    private RelayConfig HttpsConfig(TlsConfig tls)
    {
        var config = RelayTestServer.DefaultConfig(null);
        config.Listen = ["https://127.0.0.1:0"];
        config.Tls = tls;
        config.SourcePath = _dir.File("relay.json"); // tls paths are relative to it
        return config;
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
