using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using Relay.Cli;
using Relay.Configuration;
using Relay.Tests.Infrastructure;

namespace Relay.Tests;

/// <summary>
/// <c>relay bridge</c>: the same engine as serve with a passthrough provider and the <c>provider/*</c> route. The client's
/// request reaches the remote byte for byte with the client's key, and answers stream back unbuffered.
/// </summary>
public sealed class BridgeTests : IAsyncLifetime
{
    private const string RemoteKey = "remote-gateway-key-0123456789";

    private FakeUpstream _remote = null!;
    private RelayTestServer _bridge = null!;

    public async ValueTask InitializeAsync()
    {
        _remote = await FakeUpstream.StartAsync();
        _bridge = await RelayTestServer.StartAsync(BridgeCommand.CreateConfig(_remote.BaseUrl, "http://127.0.0.1:0", timeoutSeconds: 30));
    }

    public async ValueTask DisposeAsync()
    {
        await _bridge.DisposeAsync();
        await _remote.DisposeAsync();
    }

    [Fact]
    public async Task Request_ReachesTheRemoteByteIdentical_ModelIncluded_WithTheClientsKey()
    {
        using var client = _bridge.CreateClient(RemoteKey, bearer: true);
        client.DefaultRequestHeaders.Add("anthropic-beta", "claude-code-20250219,context-1m-2025-08-07");
        // A name no config knows, a [1m] suffix, odd spacing and fields Relay has never heard of: all must survive.
        var body = "{\"max_tokens\": 100,\n  \"model\" : \"gpt-5.5-anything[1m]\", \"messages\":[{\"role\":\"user\",\"content\":\"hé \\u2603\"}], \"safeguards\":[{\"type\":\"x\"}]}";

        using var response = await client.PostAsync("v1/messages?beta=true", JsonBody.Of(body), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var request = _remote.LastRequest;
        Assert.Equal(body, request.BodyText);
        Assert.Equal("/v1/messages?beta=true", request.PathAndQuery);
        Assert.Equal($"Bearer {RemoteKey}", request.Header("authorization"));
        Assert.Null(request.Header("x-api-key"));
        Assert.Equal("claude-code-20250219,context-1m-2025-08-07", request.Header("anthropic-beta"));
        Assert.Equal(Responses.MessageJson(), await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task XApiKey_AndCountTokens_GoThroughToo()
    {
        using var client = _bridge.CreateClient(RemoteKey);
        _remote.Handler = (ctx, _) => Responses.Json(ctx, 200, """{"input_tokens":42}""");
        var body = """{"model":"claude-sonnet-4-6","messages":[{"role":"user","content":"count me"}]}""";

        using var response = await client.PostAsync("v1/messages/count_tokens", JsonBody.Of(body), TestContext.Current.CancellationToken);

        Assert.Equal("""{"input_tokens":42}""", await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        Assert.Equal("/v1/messages/count_tokens", _remote.LastRequest.PathAndQuery);
        Assert.Equal(RemoteKey, _remote.LastRequest.Header("x-api-key"));
        Assert.Equal(body, _remote.LastRequest.BodyText);
    }

    [Fact]
    public async Task RemoteErrors_ReachTheClientUnchanged()
    {
        var error = Responses.ErrorJson("authentication_error", "invalid x-api-key");
        _remote.Handler = (ctx, _) => Responses.Json(ctx, 401, error);
        using var client = _bridge.CreateClient("wrong-key");

        using var response = await client.PostAsync("v1/messages", JsonBody.Of(JsonBody.Message("claude-sonnet-4-6")), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(error, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Models_AreTheRemotesOwnList()
    {
        const string list = """{"data":[{"type":"model","id":"claude-opus-4-7","display_name":"Opus","created_at":"2026-01-01T00:00:00Z"}],"has_more":false,"first_id":"claude-opus-4-7","last_id":"claude-opus-4-7"}""";
        _remote.Handler = (ctx, _) => Responses.Json(ctx, 200, list);
        using var client = _bridge.CreateClient(RemoteKey, bearer: true);

        using var response = await client.GetAsync("v1/models?limit=1000", TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(list, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        Assert.Equal(("GET", "/v1/models?limit=1000"), (_remote.LastRequest.Method, _remote.LastRequest.PathAndQuery));
        Assert.Equal($"Bearer {RemoteKey}", _remote.LastRequest.Header("authorization"));

        using var one = await client.GetAsync("v1/models/claude-opus-4-7", TestContext.Current.CancellationToken);
        Assert.Equal("/v1/models/claude-opus-4-7", _remote.LastRequest.PathAndQuery);
    }

    /// <summary>The same check as <see cref="StreamingTests.Stream_IsNotBuffered_FirstEventArrivesLongBeforeTheLastIsSent"/>,
    /// through the bridge: a hand-written forwarder typically reads every answer whole, which this must not.</summary>
    [Fact]
    public async Task Stream_IsNotBuffered_FirstEventArrivesLongBeforeTheLastIsSent()
    {
        using var client = _bridge.CreateClient(RemoteKey, bearer: true);
        await UnbufferedStreamCheck.RunAsync(_remote, client, "claude-sonnet-4-6");
    }

    [Fact]
    public async Task ToAnotherRelay_TheRemotesKeyWorksThroughTheBridge()
    {
        // The usual setup: a gateway elsewhere (here another Relay with its own keys) and the bridge on loopback.
        await using var remoteRelay = await RelayTestServer.StartAsync(RelayTestServer.DefaultConfig(null));
        await using var bridge = await RelayTestServer.StartAsync(BridgeCommand.CreateConfig(remoteRelay.BaseUrl, "http://127.0.0.1:0", 30));
        using var client = bridge.CreateClient(remoteRelay.Key, bearer: true);

        using var response = await client.PostAsync("v1/messages", JsonBody.Of(JsonBody.Message("claude-haiku-4-5", stream: true, text: "through the bridge")), TestContext.Current.CancellationToken);
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        using var models = await client.GetAsync("v1/models", TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("through", text, StringComparison.Ordinal); // the mock echoes the prompt, three words per delta
        Assert.Contains("event: message_stop", text, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, models.StatusCode);
        var record = Assert.Single(await remoteRelay.WaitForUsageAsync(1));
        Assert.Equal(("test", "claude-haiku-4-5", 200), (record.KeyName, record.RequestedModel, record.Status));
        // The bridge itself keeps one record per request too (in memory), with no key of its own.
        var local = Assert.Single(await bridge.WaitForUsageAsync(1));
        Assert.Equal(("remote", "claude-haiku-4-5", (string?)null), (local.Provider, local.UpstreamModel, local.KeyName));
    }

    [Fact]
    public async Task RemoteDown_IsAnAnthropicShaped502NamingIt()
    {
        await using var bridge = await RelayTestServer.StartAsync(BridgeCommand.CreateConfig($"http://127.0.0.1:{FreePort()}", "http://127.0.0.1:0", 30));
        using var client = bridge.CreateClient(RemoteKey);

        using var response = await client.PostAsync("v1/messages", JsonBody.Of(JsonBody.Message("claude-sonnet-4-6")), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.Contains("\"api_error\"", text, StringComparison.Ordinal);
        Assert.Contains("'remote'", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Executable_PrintsWhereItForwards_AndOneLinePerRequest()
    {
        using var dir = new TempDirectory();
        var url = $"http://127.0.0.1:{FreePort()}";
        await using var bridge = RelayProcess.Start(dir.Path, "bridge", "--to", _remote.BaseUrl + "/v1/", "--listen", url);
        var banner = await bridge.WaitForOutputAsync("Press Ctrl+C", TimeSpan.FromSeconds(30));
        Assert.Contains($"-> {_remote.BaseUrl.TrimEnd('/')}", banner, StringComparison.Ordinal);
        Assert.DoesNotContain("warning", banner, StringComparison.Ordinal); // loopback: nothing to warn about

        using var client = new HttpClient { BaseAddress = new Uri(url + "/") };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", RemoteKey);
        for (var i = 0; i < 3; i++)
        {
            (await client.PostAsync("v1/messages", JsonBody.Of(JsonBody.Message("claude-sonnet-4-6")), TestContext.Current.CancellationToken)).Dispose();
        }

        (await client.GetAsync("v1/models", TestContext.Current.CancellationToken)).Dispose();
        await Task.Delay(300, TestContext.Current.CancellationToken);
        bridge.Interrupt();
        Assert.Equal(0, await bridge.WaitForExitAsync(TimeSpan.FromSeconds(20)));

        var lines = bridge.Stdout.Split('\n');
        Assert.Equal(3, lines.Count(l => l.Contains(" messages claude-sonnet-4-6 -> remote/claude-sonnet-4-6 200 ", StringComparison.Ordinal)));
        Assert.Single(lines, l => l.Contains("GET /v1/models -> remote 200", StringComparison.Ordinal));
        Assert.DoesNotContain(RemoteKey, bridge.Stdout, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(dir.Path)); // no relay.json, no database
    }

    [Fact]
    public async Task StarRoute_InAnyConfig_SendsTheModelTheClientAskedFor()
    {
        var config = RelayTestServer.DefaultConfig(_remote.BaseUrl);
        config.Models["team-*"] = new ModelConfig { Routes = ["up/*"] };
        await using var relay = await RelayTestServer.StartAsync(config);
        var body = """{"model" :"team-large[1m]","max_tokens":5,"messages":[]}""";

        using var response = await relay.Client.PostAsync("v1/messages", JsonBody.Of(body), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(body, _remote.LastRequest.BodyText);
        Assert.Equal("sk-upstream-secret-123456", _remote.LastRequest.Header("x-api-key")); // not a passthrough provider: its own key
        var record = Assert.Single(await relay.WaitForUsageAsync(1));
        Assert.Equal(("up", "team-large[1m]"), (record.Provider, record.UpstreamModel));
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
