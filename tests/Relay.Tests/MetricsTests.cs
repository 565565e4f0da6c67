using System.Net;
using System.Net.Http.Headers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Relay.Configuration;
using Relay.Hosting;
using Relay.Telemetry;
using Relay.Tests.Infrastructure;

namespace Relay.Tests;

/// <summary><c>GET /metrics</c> over real Kestrel: scraped before and after a known set of requests, the counters move by
/// exactly what was sent; the admin key guards it on the main listener; <c>metricsListen</c> serves it alone.</summary>
public sealed class MetricsTests : RelayWithUpstream
{
    private const string Model = "claude-sonnet-4-6";

    private protected override void Configure(RelayConfig config)
    {
        config.AdminKey = AdminClient.AdminKey;
        config.UnauthenticatedLimit.Burst = 1000;
        config.CircuitBreaker.Failures = 2;
        config.Models["with-backup"] = new ModelConfig { Routes = ["up/flaky", "up/steady"] };
        config.Models["only-broken"] = new ModelConfig { Routes = ["up/broken"], MaxAttempts = 1 };
    }

    [Fact]
    public async Task Counters_MoveByExactlyWhatWasSent()
    {
        Upstream.Handler = (context, request) => request.BodyText.Contains("\"stream\":true", StringComparison.Ordinal)
            ? Responses.Stream(context, Responses.StreamEvents(["Hel", "lo"], input: 20, output: 9, cacheWrite: 3, cacheRead: 4))
            : Responses.Json(context, 200, Responses.MessageJson(input: 12, output: 5, cacheRead: 6));
        var model = ("gen_ai_request_model", Model);
        var before = await ScrapeAsync(Server);

        for (var i = 0; i < 3; i++)
        {
            using var answer = await Server.Client.PostAsync("v1/messages", JsonBody.Of(JsonBody.Message(Model)), Ct);
            Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        }

        for (var i = 0; i < 2; i++)
        {
            using var answer = await Server.Client.PostAsync("v1/messages", JsonBody.Of(JsonBody.Message(Model, stream: true)), Ct);
            Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
            Assert.Contains("message_stop", await answer.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        }

        using (var refused = await Server.Client.PostAsync("v1/messages", JsonBody.Of(JsonBody.Message("no-such-model-here")), Ct))
        {
            Assert.Equal(HttpStatusCode.NotFound, refused.StatusCode);
        }

        // The handler records after the client has its answer: wait for the last of the six.
        PrometheusText after = before;
        await Eventually.TrueAsync(async () =>
        {
            after = await ScrapeAsync(Server);
            // ASP.NET Core records its HTTP metrics after Relay's handler has returned.
            return Delta("relay_requests_total") == 6 && Delta("http_server_request_duration_seconds_count", ("http_route", "/v1/messages")) == 6;
        }, TimeSpan.FromSeconds(10), "six requests counted", () => Task.FromResult(after.Text));

        double Delta(string name, params (string, string)[] labels) => after.Sum(name, labels) - before.Sum(name, labels);

        var ok = new[] { model, ("gen_ai_provider_name", "up"), ("http_response_status_code", "200") };
        Assert.Equal(5, Delta("relay_requests_total", ok));
        Assert.Equal(1, Delta("relay_requests_total", ("gen_ai_request_model", "unrouted"), ("http_response_status_code", "404")));

        Assert.Equal((3 * 12) + (2 * 20), Delta("relay_tokens_total", model, ("relay_token_type", "input")));
        Assert.Equal((3 * 5) + (2 * 9), Delta("relay_tokens_total", model, ("relay_token_type", "output")));
        Assert.Equal((3 * 6) + (2 * 4), Delta("relay_tokens_total", model, ("relay_token_type", "cache_read")));
        Assert.Equal(2 * 3, Delta("relay_tokens_total", model, ("relay_token_type", "cache_write")));

        // The GenAI conventions' token histogram counts cached input as input.
        Assert.Equal(5, Delta("gen_ai_client_token_usage_count", model, ("gen_ai_token_type", "input")));
        Assert.Equal((3 * (12 + 6)) + (2 * (20 + 3 + 4)), Delta("gen_ai_client_token_usage_sum", model, ("gen_ai_token_type", "input")));
        Assert.Equal(5, Delta("gen_ai_client_token_usage_count", model, ("gen_ai_token_type", "output")));

        Assert.Equal(5, Delta("gen_ai_client_operation_duration_seconds_count", model, ("gen_ai_response_model", "upstream-sonnet")));
        Assert.Equal(1, Delta("gen_ai_client_operation_duration_seconds_count", ("gen_ai_request_model", "unrouted")));
        Assert.Equal(5, Delta("relay_time_to_first_byte_seconds_count", model));
        Assert.Equal(5, Delta("relay_overhead_seconds_count", model));
        Assert.Equal(5, Delta("relay_upstream_attempts_total", model));
        Assert.Equal(0, Delta("relay_upstream_retries_total", model));
        Assert.True(Delta("relay_cost_USD_total", model) > 0, after.Text);

        Assert.Equal(5, Delta("http_server_request_duration_seconds_count", ("http_route", "/v1/messages"), ("http_response_status_code", "200")));
        Assert.Equal(0, after.Sum("relay_streams_open"));
        Assert.Equal(0, after.Sum("relay_route_circuit_state", ("relay_route", "up/upstream-sonnet")));
    }

    [Fact]
    public async Task Retries_AndAnOpenCircuit_AreCounted()
    {
        Upstream.Handler = (context, request) => request.BodyText.Contains("\"model\":\"steady\"", StringComparison.Ordinal)
            ? Responses.Json(context, 200, Responses.MessageJson())
            : Responses.Json(context, 500, Responses.ErrorJson("api_error", "upstream broke"));
        var before = await ScrapeAsync(Server);
        Assert.Equal(0, before.Sum("relay_route_circuit_state", ("relay_route", "up/broken")));

        for (var i = 0; i < 3; i++)
        {
            using var answer = await Server.Client.PostAsync("v1/messages", JsonBody.Of(JsonBody.Message("with-backup")), Ct);
            Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        }

        for (var i = 0; i < 2; i++)
        {
            using var failed = await Server.Client.PostAsync("v1/messages", JsonBody.Of(JsonBody.Message("only-broken")), Ct);
            Assert.Equal(HttpStatusCode.InternalServerError, failed.StatusCode);
        }

        var records = await Server.WaitForUsageAsync(5);
        var attempts = records.Where(r => r.RequestedModel == "with-backup").Sum(r => r.Attempts);
        Assert.True(attempts > 3, $"the flaky route was tried first at least once ({attempts} attempts)");

        PrometheusText after = before;
        await Eventually.TrueAsync(async () =>
        {
            after = await ScrapeAsync(Server);
            return after.Sum("relay_requests_total") - before.Sum("relay_requests_total") == 5;
        }, TimeSpan.FromSeconds(10), "five requests counted", () => Task.FromResult(after.Text));

        var backup = ("gen_ai_request_model", "with-backup");
        Assert.Equal(attempts, after.Sum("relay_upstream_attempts_total", backup) - before.Sum("relay_upstream_attempts_total", backup));
        Assert.Equal(attempts - 3, after.Sum("relay_upstream_retries_total", backup) - before.Sum("relay_upstream_retries_total", backup));
        var broken = ("gen_ai_request_model", "only-broken");
        Assert.Equal(2, after.Sum("relay_requests_total", broken, ("http_response_status_code", "500")));
        Assert.Equal(2, after.Sum("gen_ai_client_operation_duration_seconds_count", broken, ("error_type", "api_error")));
        Assert.Equal(2, after.Sum("relay_route_circuit_state", ("relay_route", "up/broken")));
        Assert.Equal(0, after.Sum("relay_route_circuit_state", ("relay_route", "up/steady")));
    }

    [Fact]
    public async Task Scrape_NeedsTheAdminKey()
    {
        using var anonymous = Server.CreateClient();
        using var refused = await anonymous.GetAsync("metrics", Ct);
        await AnthropicAssert.IsErrorAsync(refused, HttpStatusCode.Unauthorized, "authentication_error");

        using var client = Server.CreateClient(Server.Key, bearer: true);
        using var forbidden = await client.GetAsync("metrics", Ct);
        await AnthropicAssert.IsErrorAsync(forbidden, HttpStatusCode.Forbidden, "permission_error");

        using var bearer = Server.CreateClient(AdminClient.AdminKey, bearer: true);
        using var scraped = await bearer.GetAsync("metrics", Ct);
        Assert.Equal(HttpStatusCode.OK, scraped.StatusCode);
        Assert.Equal("text/plain", scraped.Content.Headers.ContentType?.MediaType);
        var scrapedText = await scraped.Content.ReadAsStringAsync(Ct);
        Assert.True(PrometheusText.Parse(scrapedText).Has("relay_route_circuit_state"), scrapedText);

        using var header = Server.CreateClient(AdminClient.AdminKey);
        using var viaHeader = await header.GetAsync("metrics", Ct);
        Assert.Equal(HttpStatusCode.OK, viaHeader.StatusCode);
    }

    [Fact]
    public async Task MetricsListen_ServesOnlyMetrics_WithoutAKey_AndTheMainListenerStillAsksForOne()
    {
        var config = RelayTestServer.DefaultConfig(Upstream.BaseUrl);
        config.AdminKey = AdminClient.AdminKey;
        config.BasePath = "/claude";
        config.MetricsListen = "http://127.0.0.1:0";
        await using var relay = await RelayTestServer.StartAsync(config);
        var address = relay.App.Services.GetServices<IHostedService>().OfType<MetricsListener>().Single().Address!;
        using var scraper = new HttpClient { BaseAddress = new Uri(address.TrimEnd('/') + "/") };

        using (var answer = await relay.Client.PostAsync("v1/messages", JsonBody.Of(JsonBody.Message(Model)), Ct))
        {
            Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        }

        PrometheusText scraped = null!;
        await Eventually.TrueAsync(async () =>
        {
            using var response = await scraper.GetAsync("metrics", Ct);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            scraped = PrometheusText.Parse(await response.Content.ReadAsStringAsync(Ct));
            return scraped.Sum("relay_requests_total", ("gen_ai_request_model", Model)) == 1;
        }, TimeSpan.FromSeconds(10), "the request counted on the metrics listener", () => Task.FromResult(scraped?.Text ?? ""));

        foreach (var path in new[] { "claude/metrics", "v1/models", "claude/v1/models", "", "claude/admin/api/users" })
        {
            using var other = await scraper.GetAsync(path, Ct);
            Assert.Equal(HttpStatusCode.NotFound, other.StatusCode);
        }

        using (var post = await scraper.PostAsync("claude/v1/messages", JsonBody.Of(JsonBody.Message(Model)), Ct))
        {
            Assert.Equal(HttpStatusCode.NotFound, post.StatusCode);
        }

        using var anonymous = relay.CreateClient();
        using var refused = await anonymous.GetAsync("metrics", Ct);
        await AnthropicAssert.IsErrorAsync(refused, HttpStatusCode.Unauthorized, "authentication_error");
        using var admin = relay.CreateClient(AdminClient.AdminKey);
        using var underBasePath = await admin.GetAsync("metrics", Ct);
        Assert.Equal(HttpStatusCode.OK, underBasePath.StatusCode);
    }

    [Fact]
    public async Task TwoRelaysInOneProcess_KeepTheirNumbersApart()
    {
        var config = RelayTestServer.DefaultConfig(Upstream.BaseUrl);
        config.AdminKey = AdminClient.AdminKey;
        config.Models.Clear();
        config.Models["isolation-probe-model"] = new ModelConfig { Routes = ["up/isolation-upstream"] };
        await using var other = await RelayTestServer.StartAsync(config);

        using (var answer = await other.Client.PostAsync("v1/messages", JsonBody.Of(JsonBody.Message("isolation-probe-model")), Ct))
        {
            Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        }

        var probe = ("gen_ai_request_model", "isolation-probe-model");
        await Eventually.TrueAsync(async () => (await ScrapeAsync(other)).Sum("relay_requests_total", probe) == 1,
            TimeSpan.FromSeconds(10), "the other relay counts its request");

        var mine = await ScrapeAsync(Server);
        Assert.Equal(0, mine.Sum("relay_requests_total", probe));
        Assert.DoesNotContain(mine.Samples, sample => sample.Labels.Values.Contains("up/isolation-upstream"));
        Assert.Equal(0, mine.Sum("http_server_request_duration_seconds_count", ("http_route", "/v1/messages")));
    }

    [Fact]
    public void MetricsListen_MustBeAnHttpUrlWithAPortOfItsOwn()
    {
        foreach (var bad in new[] { "10.0.0.5:9464", "https://10.0.0.5:9464", "http://10.0.0.5:9464/metrics" })
        {
            var config = RelayTestServer.DefaultConfig(null);
            config.MetricsListen = bad;
            var error = Assert.Throws<ConfigException>(() => ConfigValidator.Validate(config, "relay.json"));
            Assert.Contains("metricsListen", error.Message, StringComparison.Ordinal);
        }

        var clash = RelayTestServer.DefaultConfig(null);
        clash.Listen = ["http://127.0.0.1:8787"];
        clash.MetricsListen = "http://10.0.0.5:8787";
        Assert.Contains("port", Assert.Throws<ConfigException>(() => ConfigValidator.Validate(clash, "relay.json")).Message, StringComparison.Ordinal);

        var good = RelayTestServer.DefaultConfig(null);
        good.MetricsListen = "http://10.0.0.5:9464";
        ConfigValidator.Validate(good, "relay.json");
    }

    [Fact]
    public void MetricsListen_OnEveryInterface_IsWarnedAbout()
    {
        var config = RelayTestServer.DefaultConfig(null);
        config.MetricsListen = "http://0.0.0.0:9464";
        var warning = Assert.Single(StartupWarnings.For(config, ["http://127.0.0.1:8787"], 1, TimeProvider.System));
        Assert.Contains("metricsListen", warning, StringComparison.Ordinal);

        config.MetricsListen = "http://10.0.0.5:9464";
        Assert.Empty(StartupWarnings.For(config, ["http://127.0.0.1:8787"], 1, TimeProvider.System));
    }

    private static async Task<PrometheusText> ScrapeAsync(RelayTestServer relay)
    {
        using var admin = relay.CreateClient();
        admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminClient.AdminKey);
        using var response = await admin.GetAsync("metrics", Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return PrometheusText.Parse(await response.Content.ReadAsStringAsync(Ct));
    }
}
