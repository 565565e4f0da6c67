using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Relay.Configuration;
using Relay.Tests.Infrastructure;

namespace Relay.Tests;

/// <summary>What clients see when upstreams fail in each way they really do, and that every attempt is recorded.</summary>
public sealed class RoutingFailureTests : IAsyncLifetime
{
    private const string AdminKey = "admin-key-for-tests-0123456789";
    private FakeUpstream _primary = null!;
    private FakeUpstream _secondary = null!;
    private RelayTestServer _relay = null!;

    public async ValueTask InitializeAsync()
    {
        _primary = await FakeUpstream.StartAsync();
        _secondary = await FakeUpstream.StartAsync();
        var config = RelayTestServer.DefaultConfig(null);
        config.AdminKey = AdminKey;
        config.CircuitBreaker = new CircuitBreakerConfig { Failures = 2, CooldownSeconds = 1 };
        config.Providers["p1"] = new() { Type = "anthropic", BaseUrl = _primary.BaseUrl, ApiKey = "k1", TimeoutSeconds = 1 };
        config.Providers["p2"] = new() { Type = "anthropic", BaseUrl = _secondary.BaseUrl, ApiKey = "k2" };
        config.Providers["dead"] = new() { Type = "anthropic", BaseUrl = $"http://127.0.0.1:{ClosedPort()}", ApiKey = "k3" };
        config.Models["chain"] = new() { Routes = ["p1/first", "p2/second"] };
        config.Models["dead-first"] = new() { Routes = ["dead/gone", "p2/second"] };
        config.Models["only-primary"] = new() { Routes = ["p1/only"], MaxAttempts = 2, RetryBudgetSeconds = 5 };
        config.Models["capped"] = new() { Routes = [new RouteConfig { Route = "p2/small", MaxTokens = 100 }] };
        _relay = await RelayTestServer.StartAsync(config);
        _secondary.Handler = (ctx, _) => Responses.Json(ctx, 200, Responses.MessageJson("from secondary"));
    }

    public async ValueTask DisposeAsync()
    {
        await _relay.DisposeAsync();
        await _primary.DisposeAsync();
        await _secondary.DisposeAsync();
    }

    [Fact]
    public async Task ConnectionRefused_FallsBackToTheNextRoute()
    {
        using var response = await Post("dead-first");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("from secondary", await Body(response), StringComparison.Ordinal);
        var record = (await _relay.WaitForUsageAsync(1)).Single();
        Assert.Equal((2, "p2", "second", 200), (record.Attempts, record.Provider, record.UpstreamModel, record.Status));
        Assert.StartsWith("dead/gone 502 api_error", record.AttemptLog, StringComparison.Ordinal);
        Assert.Contains("; p2/second 200", record.AttemptLog, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(529, "overloaded_error")]
    [InlineData(500, "api_error")]
    [InlineData(503, "overloaded_error")]
    [InlineData(429, "rate_limit_error")]
    public async Task RetryableStatus_FallsBackWithoutTheClientSeeingIt(int status, string type)
    {
        _primary.Handler = (ctx, _) => Responses.Json(ctx, status, Responses.ErrorJson(type, "try elsewhere"));

        using var response = await Post("chain");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Single(_primary.Requests);
        Assert.Equal("\"second\"", JsonDocument.Parse(_secondary.LastRequest.Body).RootElement.GetProperty("model").GetRawText());
        var record = (await _relay.WaitForUsageAsync(1)).Single();
        Assert.Equal(2, record.Attempts);
        Assert.StartsWith($"p1/first {status} {type}", record.AttemptLog, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FirstByteTimeout_FallsBackToTheNextRoute()
    {
        _primary.Handler = async (ctx, _) => await Task.Delay(TimeSpan.FromSeconds(5), ctx.RequestAborted);

        var started = Stopwatch.GetTimestamp();
        using var response = await Post("chain");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.InRange(Stopwatch.GetElapsedTime(started).TotalSeconds, 0.9, 4.5);
        Assert.Contains("p1/first 504 timeout_error", (await _relay.WaitForUsageAsync(1)).Single().AttemptLog, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NonRetryableStatus_ReturnsAtOnceAndNothingElseIsTried()
    {
        var body = Responses.ErrorJson("invalid_request_error", "messages.0.content: bad");
        _primary.Handler = (ctx, _) => Responses.Json(ctx, 400, body);

        using var response = await Post("chain");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(body, await Body(response));
        Assert.Empty(_secondary.Requests);
        Assert.Equal(1, (await _relay.WaitForUsageAsync(1)).Single().Attempts);
    }

    [Fact]
    public async Task RateLimited_RetryAfterIsHonouredBeforeTheRetry()
    {
        var calls = 0;
        _primary.Handler = (ctx, _) => Interlocked.Increment(ref calls) == 1
            ? Responses.Json(ctx, 429, Responses.ErrorJson("rate_limit_error", "slow down"), new Dictionary<string, string> { ["retry-after"] = "1" })
            : Responses.Json(ctx, 200, Responses.MessageJson("second try"));

        var started = Stopwatch.GetTimestamp();
        using var response = await Post("only-primary");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(Stopwatch.GetElapsedTime(started) >= TimeSpan.FromSeconds(0.95), "retried before retry-after elapsed");
        Assert.Equal(2, _primary.Requests.Count);
    }

    [Fact]
    public async Task RetryAfterLongerThanTheBudget_IsForwardedUnchangedAtOnce()
    {
        // Longer than the model's 5 s budget, shorter than the 60 s clients wait out themselves (longer waits are
        // reworded: GatewayProtocolTests).
        var body = Responses.ErrorJson("rate_limit_error", "come back in half a minute");
        _primary.Handler = (ctx, _) => Responses.Json(ctx, 429, body, new Dictionary<string, string> { ["retry-after"] = "30" });

        var started = Stopwatch.GetTimestamp();
        using var response = await Post("only-primary");

        Assert.Equal((HttpStatusCode)429, response.StatusCode);
        Assert.Equal(body, await Body(response));
        Assert.Equal("30", response.Headers.GetValues("retry-after").Single());
        Assert.True(Stopwatch.GetElapsedTime(started) < TimeSpan.FromSeconds(3));
        Assert.Single(_primary.Requests);
    }

    [Fact]
    public async Task EveryRouteFails_TheLastUpstreamAnswerIsForwardedUnchanged()
    {
        var body = Responses.ErrorJson("overloaded_error", "primary, second time");
        var primaryCalls = 0;
        _primary.Handler = (ctx, _) => Responses.Json(ctx, 529, Interlocked.Increment(ref primaryCalls) == 1 ? Responses.ErrorJson("overloaded_error", "primary") : body);
        _secondary.Handler = (ctx, _) => Responses.Json(ctx, 529, Responses.ErrorJson("overloaded_error", "secondary"));

        using var response = await Post("chain");

        // Default budget for two routes: three attempts (p1, p2, then p1 again after a backoff).
        Assert.Equal((HttpStatusCode)529, response.StatusCode);
        Assert.Equal(body, await Body(response));
        var record = (await _relay.WaitForUsageAsync(1)).Single();
        Assert.Equal((529, "overloaded_error", 3), (record.Status, record.ErrorType, record.Attempts));
        Assert.Matches("^p1/first 529 overloaded_error \\d+ms; p2/second 529 overloaded_error \\d+ms; p1/first 529 overloaded_error \\d+ms$", record.AttemptLog);
    }

    [Fact]
    public async Task GarbageErrorPage_IsWrappedInAnAnthropicError()
    {
        _primary.Handler = async (ctx, _) =>
        {
            ctx.Response.StatusCode = 502;
            ctx.Response.ContentType = "text/html";
            await ctx.Response.WriteAsync("<html><body>502 Bad Gateway</body></html>");
        };

        using var response = await Post("only-primary");

        var error = await AnthropicAssert.IsErrorAsync(response, HttpStatusCode.BadGateway, "api_error", retryable: true);
        Assert.Contains("'p1' answered 502", error.Message, StringComparison.Ordinal);
        Assert.Equal(2, _primary.Requests.Count);
    }

    [Fact]
    public async Task DropAfterTheFirstByte_IsNeverRetried()
    {
        var events = Responses.StreamEvents(["a", "b"]);
        _primary.Handler = async (ctx, _) =>
        {
            await Responses.Stream(ctx, events.Take(3));
            await Task.Delay(100); // let the bytes reach the client before the connection dies
            ctx.Abort();
        };

        using var response = await Post("chain", stream: true);
        var text = await Body(response);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("event: error", text, StringComparison.Ordinal);
        Assert.Empty(_secondary.Requests);
        var record = (await _relay.WaitForUsageAsync(1)).Single();
        Assert.Equal((1, "api_error"), (record.Attempts, record.ErrorType));
    }

    [Fact]
    public async Task CircuitBreaker_OpensAfterRepeatedFailures_ThenAProbeClosesIt()
    {
        var primaryHealthy = false;
        _primary.Handler = (ctx, _) => primaryHealthy
            ? Responses.Json(ctx, 200, Responses.MessageJson("primary is back"))
            : Responses.Json(ctx, 500, Responses.ErrorJson("api_error", "boom"));

        for (var i = 0; i < 2; i++)
        {
            using var failing = await Post("chain");
            Assert.Equal(HttpStatusCode.OK, failing.StatusCode);
        }

        Assert.Equal(2, _primary.Requests.Count);
        Assert.Equal("open", await RouteState("p1/first"));

        using (var skipped = await Post("chain"))
        {
            Assert.Contains("from secondary", await Body(skipped), StringComparison.Ordinal);
        }

        Assert.Equal(2, _primary.Requests.Count); // the open route was not tried

        await Task.Delay(TimeSpan.FromSeconds(1.2), TestContext.Current.CancellationToken);
        primaryHealthy = true;
        using (var probe = await Post("chain"))
        {
            Assert.Contains("primary is back", await Body(probe), StringComparison.Ordinal);
        }

        Assert.Equal("healthy", await RouteState("p1/first"));
    }

    [Fact]
    public async Task AllRoutesOpen_TheModelStaysInService_AndTheFirstGoodAnswerClosesTheCircuit()
    {
        var primaryHealthy = false;
        _primary.Handler = (ctx, _) => primaryHealthy
            ? Responses.Json(ctx, 200, Responses.MessageJson("primary is back"))
            : Responses.Json(ctx, 500, Responses.ErrorJson("api_error", "boom"));
        for (var i = 0; i < 2; i++)
        {
            (await Post("only-primary")).Dispose(); // two attempts each: opens after the first request
        }

        Assert.Equal("open", await RouteState("p1/only"));

        // Well inside the cool-down, the provider recovers: the model's only route is still tried, not refused unseen.
        primaryHealthy = true;
        var calls = _primary.Requests.Count;
        using var response = await Post("only-primary");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("primary is back", await Body(response), StringComparison.Ordinal);
        Assert.Equal(calls + 1, _primary.Requests.Count);
        Assert.Equal("healthy", await RouteState("p1/only"));
    }

    [Fact]
    public async Task RouteMaxTokens_CapsMaxTokensAndLeavesTheRestOfTheBody()
    {
        var body = """{"model":"capped","max_tokens":32000,"messages":[{"role":"user","content":"hi"}],"stream":false}""";
        using var response = await _relay.Client.PostAsync("v1/messages", JsonBody.Of(body), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("""{"model":"small","max_tokens":100,"messages":[{"role":"user","content":"hi"}],"stream":false}""", _secondary.LastRequest.BodyText);
    }

    [Fact]
    public async Task RoutesEndpoint_NeedsTheAdminKeyAndReportsState()
    {
        using var anonymous = _relay.CreateClient();
        await AnthropicAssert.IsErrorAsync(await anonymous.GetAsync("v1/routes", TestContext.Current.CancellationToken), HttpStatusCode.Unauthorized, "authentication_error", retryable: false);
        await AnthropicAssert.IsErrorAsync(await _relay.Client.GetAsync("v1/routes", TestContext.Current.CancellationToken), HttpStatusCode.Forbidden, "permission_error", retryable: false);

        (await Post("chain")).Dispose();
        using var admin = _relay.CreateClient(AdminKey);
        using var json = JsonDocument.Parse(await admin.GetStringAsync("v1/routes", TestContext.Current.CancellationToken));
        var route = json.RootElement.GetProperty("routes").EnumerateArray().Single(r => r.GetProperty("route").GetString() == "p1/first");
        Assert.Equal("healthy", route.GetProperty("state").GetString());
        Assert.Equal(1, route.GetProperty("requests").GetInt64());
        Assert.Equal("chain", route.GetProperty("models")[0].GetString());
        Assert.True(route.GetProperty("p50_ms").GetDouble() >= 0);
    }

    [Fact]
    public async Task RoutesCommand_PrintsEachRouteFromTheRunningRelay()
    {
        _primary.Handler = (ctx, _) => Responses.Json(ctx, 529, Responses.ErrorJson("overloaded_error", "busy"));
        (await Post("chain")).Dispose();
        (await Post("chain")).Dispose();
        var output = new StringWriter();
        var error = new StringWriter();
        using var dir = new TempDirectory();

        var exit = await Relay.Cli.RelayCli.RunAsync(["routes", "--url", _relay.BaseUrl, "--admin-key", AdminKey, "--config", dir.File("none.json")], output, error, TestContext.Current.CancellationToken);

        Assert.True(exit == 0, error.ToString());
        var line = output.ToString().Split('\n').Single(l => l.Contains("p1/first", StringComparison.Ordinal));
        Assert.Contains("open", line, StringComparison.Ordinal);
        Assert.Contains("100%", line, StringComparison.Ordinal);
        Assert.Contains(output.ToString().Split('\n'), l => l.Contains("p2/second", StringComparison.Ordinal) && l.Contains("healthy", StringComparison.Ordinal));
    }

    private Task<HttpResponseMessage> Post(string model, bool stream = false) =>
        _relay.Client.PostAsync("v1/messages", JsonBody.Of(JsonBody.Message(model, stream)), TestContext.Current.CancellationToken);

    private static Task<string> Body(HttpResponseMessage response) => response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);

    private async Task<string?> RouteState(string route) => (await _relay.RouteAsync(AdminKey, route)).GetProperty("state").GetString();

    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
