using Relay.Storage;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Relay.Auth;
using Relay.Configuration;
using Relay.Tests.Infrastructure;

namespace Relay.Tests;

/// <summary>The circuit breaker never takes a model out of service on its own, and only the provider's own failures
/// count against it.</summary>
public sealed class ModelAvailabilityTests : IAsyncLifetime
{
    private const string AdminKey = "admin-key-for-tests-0123456789";
    private FakeUpstream _upstream = null!;
    private RelayTestServer _relay = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _upstream = await FakeUpstream.StartAsync();
        var config = RelayTestServer.DefaultConfig(null);
        config.AdminKey = AdminKey;
        config.CircuitBreaker = new CircuitBreakerConfig { Failures = 3, CooldownSeconds = 30 };
        config.Providers["only"] = new() { Type = "anthropic", BaseUrl = _upstream.BaseUrl, ApiKey = "k1" };
        config.Providers["dead-openai"] = new() { Type = "openai", BaseUrl = $"http://127.0.0.1:{ClosedPort()}/v1", ApiKey = "k2" };
        config.Models["single"] = new() { Routes = ["only/single-upstream"] };
        config.Models["translated"] = new() { Routes = ["dead-openai/some-model"], MaxAttempts = 1 };
        _relay = await RelayTestServer.StartAsync(config);
    }

    public async ValueTask DisposeAsync()
    {
        await _relay.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    [Fact]
    public async Task OneClientsFailingRequests_NeverTakeTheModelAwayFromAnother()
    {
        // Key A's prompt trips a provider error every time; key B's ordinary requests must keep working.
        _upstream.Handler = (ctx, captured) => captured.BodyText.Contains("poison", StringComparison.Ordinal)
            ? Responses.Json(ctx, 500, Responses.ErrorJson("api_error", "internal error"))
            : Responses.Json(ctx, 200, Responses.MessageJson("fine"));
        var keyA = ApiKeys.Generate();
        await _relay.Store.CreateKeyAsync("client-a", ApiKeys.Hash(keyA), ApiKeys.DisplayPrefix(keyA), Ct);
        using var clientA = _relay.CreateClient(keyA);
        var clientB = _relay.Client;

        var bStatuses = new List<HttpStatusCode>();
        var aFailures = Task.Run(async () =>
        {
            for (var i = 0; i < 20; i++)
            {
                using var response = await clientA.PostAsync("v1/messages", JsonBody.Of(JsonBody.Message("single", text: "poison")), Ct);
                Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
            }
        }, Ct);
        while (!aFailures.IsCompleted)
        {
            using var response = await clientB.PostAsync("v1/messages", JsonBody.Of(JsonBody.Message("single")), Ct);
            bStatuses.Add(response.StatusCode);
        }

        await aFailures;
        for (var i = 0; i < 5; i++)
        {
            using var after = await clientB.PostAsync("v1/messages", JsonBody.Of(JsonBody.Message("single")), Ct);
            bStatuses.Add(after.StatusCode);
        }

        Assert.NotEmpty(bStatuses);
        Assert.All(bStatuses, s => Assert.Equal(HttpStatusCode.OK, s));
    }

    [Fact]
    public async Task EveryRouteOpen_TheRouteIsStillTried_AndItsAnswerDecides()
    {
        _upstream.Handler = (ctx, _) => Responses.Json(ctx, 500, Responses.ErrorJson("api_error", "down"));
        for (var i = 0; i < 2; i++)
        {
            (await Post("single")).Dispose(); // two attempts each: the circuit opens (3 failures)
        }

        Assert.Equal("open", await RouteState("only/single-upstream"));
        var calls = _upstream.Requests.Count;

        using (var stillDown = await Post("single"))
        {
            // The provider's own answer, not a 529 Relay made up without asking it.
            await AnthropicAssert.IsErrorAsync(stillDown, HttpStatusCode.InternalServerError, "api_error", retryable: true);
        }

        Assert.True(_upstream.Requests.Count > calls);
        _upstream.Handler = (ctx, _) => Responses.Json(ctx, 200, Responses.MessageJson("back"));
        using var back = await Post("single");
        Assert.Equal(HttpStatusCode.OK, back.StatusCode);
        Assert.Equal("healthy", await RouteState("only/single-upstream"));
    }

    [Fact]
    public async Task HalfOpenProbe_ClosesTheCircuitWhenTheAnswerBegins_NotWhenTheStreamEnds()
    {
        await using var relay = await StartWithShortCooldownAsync();
        _upstream.Handler = (ctx, _) => Responses.Json(ctx, 500, Responses.ErrorJson("api_error", "down"));
        for (var i = 0; i < 2; i++)
        {
            (await relay.Client.PostAsync("v1/messages", JsonBody.Of(JsonBody.Message("single")), Ct)).Dispose();
        }

        Assert.Equal("open", await RouteState("only/single-upstream", relay));
        await Task.Delay(TimeSpan.FromSeconds(1.2), Ct);

        // The probe is a long stream: its first events come at once, the rest much later.
        var release = new TaskCompletionSource();
        _upstream.Handler = async (ctx, _) =>
        {
            var events = Responses.StreamEvents(["first ", "last"]);
            ctx.Response.ContentType = "text/event-stream";
            await ctx.Response.WriteAsync(string.Concat(events.Take(3)), Ct);
            await ctx.Response.Body.FlushAsync(Ct);
            await release.Task.WaitAsync(TimeSpan.FromSeconds(20), Ct);
            await ctx.Response.WriteAsync(string.Concat(events.Skip(3)), Ct);
        };
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/messages") { Content = JsonBody.Of(JsonBody.Message("single", stream: true)) };
        using var probe = await relay.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, Ct);
        var reader = new StreamReader(await probe.Content.ReadAsStreamAsync(Ct));
        Assert.StartsWith("event: message_start", await reader.ReadLineAsync(Ct), StringComparison.Ordinal);

        Assert.Equal("healthy", await RouteState("only/single-upstream", relay));
        release.SetResult();
        Assert.Contains("message_stop", await reader.ReadToEndAsync(Ct), StringComparison.Ordinal);
    }

    [Fact]
    public async Task CountTokens_IsAnsweredLocallyWhateverTheRoutesHealth()
    {
        for (var i = 0; i < 4; i++)
        {
            using var failed = await Post("translated");
            Assert.Equal(HttpStatusCode.BadGateway, failed.StatusCode);
        }

        Assert.Equal("open", await RouteState("dead-openai/some-model"));
        using var count = await _relay.Client.PostAsync("v1/messages/count_tokens",
            JsonBody.Of("""{"model":"translated","messages":[{"role":"user","content":"count these words please"}]}"""), Ct);

        Assert.Equal(HttpStatusCode.OK, count.StatusCode);
        using var json = JsonDocument.Parse(await count.Content.ReadAsStringAsync(Ct));
        Assert.True(json.RootElement.GetProperty("input_tokens").GetInt64() > 0);
    }

    [Fact]
    public async Task NonAsciiHeaderValue_ReachesTheProvider_AndNeverCountsAgainstIt()
    {
        using var handler = new SocketsHttpHandler { RequestHeaderEncodingSelector = (_, _) => Encoding.UTF8 };
        using var client = new HttpClient(handler) { BaseAddress = new Uri(_relay.BaseUrl + "/") };
        client.DefaultRequestHeaders.Add("x-api-key", _relay.Key);
        client.DefaultRequestHeaders.Add("anthropic-version", "2023-06-01");
        client.DefaultRequestHeaders.TryAddWithoutValidation("x-claude-code-session-id", "sesión-日本");

        for (var i = 0; i < 5; i++)
        {
            using var response = await client.PostAsync("v1/messages", JsonBody.Of(JsonBody.Message("single")), Ct);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.Equal("sesión-日本", _upstream.LastRequest.Header("x-claude-code-session-id"));
        Assert.Equal("healthy", await RouteState("only/single-upstream"));
    }

    [Fact]
    public async Task RequestsTheProviderRejectsAsInvalid_DoNotCountAgainstIt()
    {
        _upstream.Handler = (ctx, _) => Responses.Json(ctx, 400, Responses.ErrorJson("invalid_request_error", "messages: text content blocks must be non-empty"));

        for (var i = 0; i < 6; i++)
        {
            using var response = await Post("single");
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Contains("text content blocks must be non-empty", await response.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        }

        Assert.Equal("healthy", await RouteState("only/single-upstream"));
        Assert.Equal(6, _upstream.Requests.Count); // refused requests are not retried either
    }

    [Fact]
    public async Task HealthProbes_AuthenticateExactlyLikeRequests()
    {
        // A station that wants its key in x-api-key and a tenant header on everything, probes included.
        _upstream.Handler = (ctx, request) => request.Header("x-api-key") != "sk-station-0123456789" || request.Header("x-tenant") != "team-a" || request.Header("authorization") is not null
            ? Responses.Json(ctx, 401, """{"error":{"message":"No auth credentials found","code":401}}""")
            : request.Method == "GET"
                ? Responses.Json(ctx, 200, """{"object":"list","data":[]}""")
                : Responses.Json(ctx, 200, """{"id":"c","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":1}}""");
        var config = RelayTestServer.DefaultConfig(null);
        config.AdminKey = AdminKey;
        config.Providers["station"] = new()
        {
            Type = "openai", BaseUrl = _upstream.BaseUrl + "/v1", ApiKey = "sk-station-0123456789", AuthScheme = "x-api-key",
            Headers = new() { ["x-tenant"] = "team-a" }, HealthCheck = new HealthCheckConfig { IntervalSeconds = 1 },
        };
        config.Models["station-model"] = new() { Routes = ["station/house-model"] };
        await using var relay = await RelayTestServer.StartAsync(config);

        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (_upstream.Requests.Count(r => r.Method == "GET") < 2 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100, Ct);
        }

        Assert.All(_upstream.Requests.Where(r => r.Method == "GET"), probe => Assert.Equal("sk-station-0123456789", probe.Header("x-api-key")));
        Assert.Equal("healthy", await RouteState("station/house-model", relay));
        using var response = await relay.Client.PostAsync("v1/messages", JsonBody.Of(JsonBody.Message("station-model")), Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    private async Task<RelayTestServer> StartWithShortCooldownAsync()
    {
        var config = RelayTestServer.DefaultConfig(null);
        config.AdminKey = AdminKey;
        config.CircuitBreaker = new CircuitBreakerConfig { Failures = 2, CooldownSeconds = 1 };
        config.Providers["only"] = new() { Type = "anthropic", BaseUrl = _upstream.BaseUrl, ApiKey = "k1" };
        config.Models["single"] = new() { Routes = ["only/single-upstream"], MaxAttempts = 1 };
        return await RelayTestServer.StartAsync(config);
    }

    private Task<HttpResponseMessage> Post(string model) => _relay.Client.PostAsync("v1/messages", JsonBody.Of(JsonBody.Message(model)), Ct);

    private async Task<string?> RouteState(string route, RelayTestServer? relay = null) =>
        (await (relay ?? _relay).RouteAsync(AdminKey, route)).GetProperty("state").GetString();

    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
