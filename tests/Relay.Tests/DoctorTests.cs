using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Relay.Cli;
using Relay.Configuration;
using Relay.Tests.Infrastructure;
using Relay.Tls;

namespace Relay.Tests;

/// <summary><c>relay doctor</c> against Relay and against gateways with the faults people otherwise find by hand.</summary>
public sealed class DoctorTests : IAsyncLifetime
{
    private RelayTestServer _relay = null!;

    public async ValueTask InitializeAsync() => _relay = await RelayTestServer.StartAsync(HealthyConfig());

    public async ValueTask DisposeAsync() => await _relay.DisposeAsync();

    [Fact]
    public async Task HealthyRelay_BothClientsWork_ExitZero()
    {
        var (exit, report, text) = await DoctorAsync(_relay.BaseUrl, "--key", _relay.Key);

        Assert.True(exit == 0, text);
        Assert.Equal("works", Verdict(report, "claudeCode"));
        Assert.Equal("works", Verdict(report, "claudeDesktop"));
        Assert.All(report["checks"]!.AsArray(), c => Assert.Equal("pass", (string?)c!["status"]));
        Assert.Equal(["claude-sonnet-4-6", "claude-opus-4-7"], report["desktopModels"]!.AsArray().Select(m => (string)m!));
        Assert.StartsWith("incremental", Check(report, "stream")["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.DoesNotContain(_relay.Key, text, StringComparison.Ordinal); // masked everywhere
        Assert.Contains(_relay.Key[..12], (string?)report["key"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task HumanOutput_HasAVerdictPerClient()
    {
        using var output = new StringWriter();
        var exit = await RelayCli.RunAsync(["doctor", _relay.BaseUrl, "--key", _relay.Key], output, TextWriter.Null, TestContext.Current.CancellationToken);

        Assert.Equal(0, exit);
        var text = output.ToString();
        Assert.Contains("Claude Code:     works", text, StringComparison.Ordinal);
        Assert.Contains("Claude Desktop:  works", text, StringComparison.Ordinal);
        Assert.DoesNotContain(_relay.Key, text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WrongKey_BothFail_AndTheFixIsAboutTheKey()
    {
        var wrong = "sk-relay-" + new string('x', 43);

        var (exit, report, text) = await DoctorAsync(_relay.BaseUrl, "--key", wrong);

        Assert.Equal(1, exit);
        Assert.Equal("fails", Verdict(report, "claudeCode"));
        Assert.Equal("fails", Verdict(report, "claudeDesktop"));
        Assert.Contains("401", Check(report, "messages")["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Contains(Fixes(report, "claudeCode"), f => f.Contains("key is refused", StringComparison.Ordinal));
        Assert.DoesNotContain(wrong, text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UrlEndingInV1_BothFail_AndTheFixDropsIt()
    {
        var (exit, report, _) = await DoctorAsync(_relay.BaseUrl + "/v1", "--key", _relay.Key);

        Assert.Equal(1, exit);
        Assert.Equal("warn", (string?)Check(report, "url")["status"]);
        Assert.Contains("/v1/v1/messages", Check(report, "url")["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("fails", Verdict(report, "claudeCode"));
        Assert.Equal("fails", Verdict(report, "claudeDesktop"));
        Assert.Contains($"use {_relay.BaseUrl} (clients add /v1 themselves)", Fixes(report, "claudeCode"));
    }

    [Fact]
    public async Task TrailingSlash_StillWorks_ButDesktopGetsAWarning()
    {
        var (exit, report, _) = await DoctorAsync(_relay.BaseUrl + "/", "--key", _relay.Key);

        Assert.Equal(0, exit);
        Assert.Equal("works", Verdict(report, "claudeCode"));
        Assert.Equal("works-with-warnings", Verdict(report, "claudeDesktop"));
    }

    [Fact]
    public async Task BufferedStreams_AreFound_ClientsWorkWithWarnings()
    {
        // A gateway that answers correctly but holds every stream back until it is complete, like a forwarder that reads answers whole.
        await using var gateway = await FakeUpstream.StartAsync();
        gateway.Handler = async (ctx, captured) =>
        {
            if (captured.Method == "GET")
            {
                await Responses.Json(ctx, 200, """{"data":[{"type":"model","id":"claude-sonnet-4-6","display_name":"S","created_at":"2026-01-01T00:00:00Z"}],"has_more":false,"first_id":"claude-sonnet-4-6","last_id":"claude-sonnet-4-6"}""");
            }
            else if (!captured.BodyText.Contains("\"stream\":true", StringComparison.Ordinal))
            {
                await Responses.Json(ctx, 200, Responses.MessageJson("OK"));
            }
            else
            {
                await Task.Delay(800, ctx.RequestAborted);
                var whole = Encoding.UTF8.GetBytes(string.Concat(Responses.StreamEvents(["1 ", "2 ", "3 ", "4"])));
                ctx.Response.ContentType = "text/event-stream";
                ctx.Response.ContentLength = whole.Length;
                await ctx.Response.Body.WriteAsync(whole, ctx.RequestAborted);
            }
        };

        var (exit, report, _) = await DoctorAsync(gateway.BaseUrl, "--key", "gateway-key-123456789");

        Assert.Equal(0, exit);
        var stream = Check(report, "stream");
        Assert.Equal("warn", (string?)stream["status"]);
        Assert.Contains("buffered", stream["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Contains("Content-Length", stream["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("works-with-warnings", Verdict(report, "claudeCode"));
        Assert.Equal("works-with-warnings", Verdict(report, "claudeDesktop"));
        Assert.Contains(Fixes(report, "claudeDesktop"), f => f.Contains("relay bridge", StringComparison.Ordinal));
    }

    [Fact]
    public async Task DeadPort_BothFail_AtTheTcpCheck()
    {
        var (exit, report, _) = await DoctorAsync($"http://127.0.0.1:{FreePort()}", "--key", _relay.Key);

        Assert.Equal(1, exit);
        Assert.Equal("fail", (string?)Check(report, "tcp")["status"]);
        Assert.Contains("connection refused", Check(report, "tcp")["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Null(report["checks"]!.AsArray().FirstOrDefault(c => (string?)c!["id"] == "messages")); // nothing further to try
        Assert.Equal("fails", Verdict(report, "claudeCode"));
        Assert.Equal("fails", Verdict(report, "claudeDesktop"));
        Assert.Contains(Fixes(report, "claudeCode"), f => f.Contains("relay serve", StringComparison.Ordinal));
    }

    [Fact]
    public async Task UntrustedCertificate_BothFail_ButTheRestIsStillChecked()
    {
        using var dir = new TempDirectory();
        using var certificate = SelfSignedCertificate.Create(["127.0.0.1"], 30, TimeProvider.System);
        await File.WriteAllTextAsync(dir.File("relay.crt"), certificate.ExportCertificatePem(), TestContext.Current.CancellationToken);
        await File.WriteAllTextAsync(dir.File("relay.key"), certificate.GetRSAPrivateKey()!.ExportPkcs8PrivateKeyPem(), TestContext.Current.CancellationToken);
        var config = HealthyConfig();
        config.Listen = ["https://127.0.0.1:0"];
        config.Tls = new TlsConfig { Certificate = "relay.crt", Key = "relay.key" };
        config.SourcePath = dir.File("relay.json");
        await using var https = await RelayTestServer.StartAsync(config);

        var (exit, report, _) = await DoctorAsync(https.BaseUrl, "--key", https.Key);

        Assert.Equal(1, exit);
        var tls = Check(report, "tls");
        Assert.Equal("fail", (string?)tls["status"]);
        Assert.Contains("does not trust it", tls["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Contains("relay cert", tls["fix"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("pass", (string?)Check(report, "messages")["status"]);
        Assert.Equal("fails", Verdict(report, "claudeCode"));
        Assert.Equal("fails", Verdict(report, "claudeDesktop"));
    }

    [Fact]
    public async Task ModelsDesktopWouldDrop_AreAWarningForDesktopOnly()
    {
        var config = HealthyConfig();
        config.Models.Clear();
        config.Models["deepseek-chat"] = new ModelConfig { Routes = ["demo/echo"] };
        config.Models["house-model"] = new ModelConfig { Routes = ["demo/echo"], Family = "sonnet" };
        await using var relay = await RelayTestServer.StartAsync(config);

        var (exit, report, _) = await DoctorAsync(relay.BaseUrl, "--key", relay.Key);

        Assert.Equal(0, exit);
        Assert.Equal(["house-model"], report["desktopModels"]!.AsArray().Select(m => (string)m!)); // kept by its family tier
        Assert.Equal("works", Verdict(report, "claudeCode"));
    }

    private static RelayConfig HealthyConfig()
    {
        var config = new RelayConfig { Listen = ["http://127.0.0.1:0"] };
        // A small pause between chunks, like a model, so the stream check can see it is incremental.
        config.Providers["demo"] = new ProviderConfig { Type = "mock", ChunkDelayMs = 25 };
        config.Models["claude-sonnet-4-6"] = new ModelConfig { Routes = ["demo/echo"], Family = "sonnet" };
        config.Models["claude-opus-4-7"] = new ModelConfig { Routes = ["demo/echo"], Family = "opus" };
        return config;
    }

    private static async Task<(int Exit, JsonObject Report, string Text)> DoctorAsync(string url, params string[] options)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = await RelayCli.RunAsync(["doctor", url, "--json", "--timeout", "20", .. options], output, error, TestContext.Current.CancellationToken);
        var text = output.ToString();
        return (exit, JsonNode.Parse(text)!.AsObject(), text + error);
    }

    private static JsonObject Check(JsonObject report, string id) =>
        report["checks"]!.AsArray().Single(c => (string?)c!["id"] == id)!.AsObject();

    private static string? Verdict(JsonObject report, string client) => (string?)report[client]!["verdict"];

    private static IEnumerable<string> Fixes(JsonObject report, string client) => report[client]!["fixes"]!.AsArray().Select(f => (string)f!);

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
