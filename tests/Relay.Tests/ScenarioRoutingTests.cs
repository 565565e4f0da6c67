using System.Net;
using System.Text.Json;
using Relay.Configuration;
using Relay.Tests.Infrastructure;

namespace Relay.Tests;

/// <summary>Scenario rules, weighted tiers and active health checks choose the route a request takes.</summary>
public sealed class ScenarioRoutingTests : IAsyncLifetime
{
    private FakeUpstream _upstream = null!;
    private FakeUpstream _sick = null!;
    private RelayTestServer _relay = null!;

    public async ValueTask InitializeAsync()
    {
        _upstream = await FakeUpstream.StartAsync();
        _sick = await FakeUpstream.StartAsync();
        _sick.Handler = (ctx, _) => Responses.Json(ctx, 503, Responses.ErrorJson("overloaded_error", "maintenance"));
        var config = RelayTestServer.DefaultConfig(null);
        config.Providers["up"] = new() { Type = "anthropic", BaseUrl = _upstream.BaseUrl, ApiKey = "k" };
        config.Providers["sick"] = new() { Type = "anthropic", BaseUrl = _sick.BaseUrl, ApiKey = "k", HealthCheck = new HealthCheckConfig { IntervalSeconds = 1 } };
        foreach (var name in new[] { "main", "bg", "think", "long", "vision", "search" })
        {
            config.Models[name] = new() { Routes = [$"up/{name}-upstream"] };
        }

        config.Models["claude-sonnet-4-6"] = new() { Routes = ["up/main-upstream"] };
        config.Models["balanced"] = new() { Routes = [new RouteConfig { Route = "up/left", Weight = 1 }, new RouteConfig { Route = "up/right", Weight = 1 }] };
        config.Models["guarded"] = new() { Routes = ["sick/ill", "up/healthy"] };
        config.Scenarios = new ScenarioConfig
        {
            Background = "bg", Thinking = "think", LongContext = "long", LongContextThreshold = 1000, Image = "vision", WebSearch = "search",
        };
        _relay = await RelayTestServer.StartAsync(config);
    }

    public async ValueTask DisposeAsync()
    {
        await _relay.DisposeAsync();
        await _upstream.DisposeAsync();
        await _sick.DisposeAsync();
    }

    public static TheoryData<string, string, string> Scenarios => new()
    {
        { """{"model":"claude-sonnet-4-6","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}""", "main-upstream", "model" },
        { """{"model":"claude-haiku-4-5-20251001","max_tokens":10,"messages":[{"role":"user","content":"title"}]}""", "bg-upstream", "scenario:background" },
        { """{"model":"claude-sonnet-4-6","max_tokens":2000,"thinking":{"type":"enabled","budget_tokens":1024},"messages":[{"role":"user","content":"hi"}]}""", "think-upstream", "scenario:thinking" },
        { """{"model":"claude-sonnet-4-6","max_tokens":10,"thinking":{"type":"adaptive"},"messages":[{"role":"user","content":"hi"}]}""", "main-upstream", "model" },
        { $$"""{"model":"claude-sonnet-4-6","max_tokens":10,"messages":[{"role":"user","content":"{{new string('x', 8000)}}"}]}""", "long-upstream", "scenario:longContext" },
        { """{"model":"claude-sonnet-4-6","max_tokens":10,"messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"t","content":[{"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBORw0KGgo="}}]}]}]}""", "vision-upstream", "scenario:image" },
        { """{"model":"claude-sonnet-4-6","max_tokens":10,"tools":[{"type":"web_search_20250305","name":"web_search"}],"messages":[{"role":"user","content":"news?"}]}""", "search-upstream", "scenario:webSearch" },
        { $$$"""{"model":"claude-haiku-4-5","max_tokens":10,"messages":[{"role":"user","content":[{"type":"image","source":{"type":"base64","media_type":"image/png","data":"{{{new string('A', 20000)}}}"}},{"type":"text","text":"what is it"}]}]}""", "vision-upstream", "scenario:image" },
    };

    [Theory]
    [MemberData(nameof(Scenarios))]
    public async Task Request_GoesToTheScenarioModelAndTheRuleIsRecorded(string body, string expectedUpstreamModel, string expectedRule)
    {
        using var response = await _relay.Client.PostAsync("v1/messages", JsonBody.Of(body), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(expectedUpstreamModel, JsonDocument.Parse(_upstream.LastRequest.Body).RootElement.GetProperty("model").GetString());
        var record = (await _relay.WaitForUsageAsync(1)).Single();
        Assert.Equal(expectedRule, record.RouteRule);
    }

    [Fact]
    public async Task WeightedTier_SharesConcurrentLoad()
    {
        // Every answer waits until all 20 requests are in flight, so each routing decision sees the others' load
        // however slowly a busy machine sends them.
        var arrived = 0;
        var allArrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _upstream.Handler = async (ctx, _) =>
        {
            if (Interlocked.Increment(ref arrived) == 20)
            {
                allArrived.SetResult();
            }

            await allArrived.Task.WaitAsync(TimeSpan.FromSeconds(20), ctx.RequestAborted);
            await Responses.Json(ctx, 200, Responses.MessageJson());
        };

        await Task.WhenAll(Enumerable.Range(0, 20).Select(async _ =>
        {
            using var response = await _relay.Client.PostAsync("v1/messages", JsonBody.Of(JsonBody.Message("balanced")), TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }));

        var models = _upstream.Requests.Select(r => JsonDocument.Parse(r.Body).RootElement.GetProperty("model").GetString()).ToList();
        var left = models.Count(m => m == "left");
        Assert.Equal(20, models.Count);
        Assert.InRange(left, 6, 14); // least-loaded first keeps the two within a few requests of each other
    }

    [Fact]
    public async Task HealthCheck_MarksAProviderDownBeforeUsersHitIt()
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!_sick.Requests.Any(r => r.Method == "GET" && r.PathAndQuery == "/v1/models") && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }

        await Task.Delay(200, TestContext.Current.CancellationToken);
        using var response = await _relay.Client.PostAsync("v1/messages", JsonBody.Of(JsonBody.Message("guarded")), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.DoesNotContain(_sick.Requests, r => r.Method == "POST");
        Assert.Equal("k", _sick.Requests.First(r => r.Method == "GET").Header("x-api-key"));
        var record = (await _relay.WaitForUsageAsync(1)).Single();
        Assert.Equal((1, "up"), (record.Attempts, record.Provider));
    }
}
