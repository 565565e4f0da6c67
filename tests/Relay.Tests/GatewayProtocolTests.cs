using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Relay.Configuration;
using Relay.Tests.Infrastructure;

namespace Relay.Tests;

/// <summary>
/// What Anthropic's gateway protocol for Claude Code asks of a gateway, point by point, at the wire: forward
/// <c>anthropic-*</c> headers and body fields as open lists, say <c>retry-after</c> in whole seconds (and a provider wait
/// longer than Claude Code retries plainly), pass <c>x-should-retry</c> and the unified rate-limit headers through,
/// answer the <c>HEAD /api/hello</c> warm-up, and list models discovery keeps.
/// </summary>
public sealed class GatewayProtocolTests : RelayWithUpstream
{
    private const string Body = """
        {"model":"claude-sonnet-4-6","max_tokens":64,"messages":[{"role":"user","content":"hi"}],
         "context_management":{"edits":[{"type":"clear_thinking_20251015","keep":"all"}]},
         "future_capability":{"mode":"on","levels":[1,2,3]},"output_config":{"effort":"medium","future_knob":true}}
        """;

    private protected override void Configure(RelayConfig config)
    {
        // One attempt, so a provider's 429 reaches the client at once instead of after Relay's own retry.
        config.Models["one-shot"] = new ModelConfig { Routes = ["up/upstream-one"], MaxAttempts = 1 };
        config.Providers["chat"] = new ProviderConfig { Type = "openai", BaseUrl = Upstream.BaseUrl + "/api/v1", ApiKey = "sk-chat-secret-123456" };
        config.Models["chat-model"] = new ModelConfig { Routes = ["chat/some-model"], MaxAttempts = 1 };
    }

    private static HttpRequestMessage Post(string body, params (string Name, string Value)[] headers)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "v1/messages?beta=true") { Content = JsonBody.Of(body) };
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        return request;
    }

    private static string Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? string.Join(",", values) : "(missing)";

    [Fact]
    public async Task AnthropicHeadersAndBodyFields_AreOpenLists_ForwardedUnchanged()
    {
        const string betas = "claude-code-20250219,context-management-2025-06-27,capability-from-the-future-2099-01-01";
        using var request = Post(Body, ("anthropic-beta", betas), ("anthropic-future-header", "kept as sent"),
            ("x-claude-code-new-hint", "also kept"));

        using var response = await Server.Client.SendAsync(request, Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var sent = Upstream.LastRequest;
        Assert.Equal(betas, sent.Header("anthropic-beta"));
        Assert.Equal("2023-06-01", sent.Header("anthropic-version"));
        Assert.Equal("kept as sent", sent.Header("anthropic-future-header"));
        Assert.Equal("also kept", sent.Header("x-claude-code-new-hint"));
        // Only the model changes; every other byte of the body, unknown fields included, is the client's.
        Assert.Equal(Body.Replace("\"claude-sonnet-4-6\"", "\"upstream-sonnet\"", StringComparison.Ordinal), sent.BodyText);
    }

    [Theory]
    [InlineData("retry-after-ms", "200", "1")]
    [InlineData("retry-after-ms", "1001", "2")]
    [InlineData("retry-after", "7", "7")]
    public async Task ProviderRetryAfter_ReachesTheClientInWholeSeconds_RoundedUp(string header, string value, string expected)
    {
        Upstream.Handler = (ctx, _) => Responses.Json(ctx, 429, Responses.ErrorJson("rate_limit_error", "Slow down"),
            new Dictionary<string, string> { [header] = value });

        using var response = await Server.Client.SendAsync(Post(JsonBody.Message("one-shot")), Ct);

        await AnthropicAssert.IsErrorAsync(response, HttpStatusCode.TooManyRequests, "rate_limit_error", retryable: true);
        Assert.Equal(expected, Header(response, "retry-after"));
    }

    [Fact]
    public async Task ShouldRetryAndUnifiedRateLimitHeaders_PassThroughFromAnAnthropicProvider()
    {
        var limits = new Dictionary<string, string>
        {
            ["anthropic-ratelimit-unified-status"] = "rejected",
            ["anthropic-ratelimit-unified-reset"] = "1767225600",
            ["anthropic-ratelimit-unified-5h-utilization"] = "1.0",
            ["anthropic-ratelimit-unified-representative-claim"] = "five_hour",
        };
        Upstream.Handler = (ctx, _) => Responses.Json(ctx, 429, Responses.ErrorJson("rate_limit_error", "Usage limit reached"),
            new Dictionary<string, string>(limits) { ["x-should-retry"] = "true", ["retry-after"] = "30" });

        using var refused = await Server.Client.SendAsync(Post(JsonBody.Message("one-shot")), Ct);

        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Equal("true", Header(refused, "x-should-retry"));
        Assert.Equal("30", Header(refused, "retry-after"));
        Assert.All(limits, h => Assert.Equal(h.Value, Header(refused, h.Key)));
        Assert.Contains("Usage limit reached", await refused.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);

        Upstream.Handler = (ctx, _) => Responses.Json(ctx, 200, Responses.MessageJson(), new Dictionary<string, string>
        {
            ["anthropic-ratelimit-unified-status"] = "allowed_warning",
            ["x-should-retry"] = "false",
        });
        using var answered = await Server.Client.SendAsync(Post(JsonBody.Message("one-shot")), Ct);

        Assert.Equal(HttpStatusCode.OK, answered.StatusCode);
        Assert.Equal("allowed_warning", Header(answered, "anthropic-ratelimit-unified-status"));
        Assert.Equal("false", Header(answered, "x-should-retry"));
    }

    [Fact]
    public async Task AnthropicProviderWaitOverAMinute_IsAClearError_NotASilentRetry()
    {
        Upstream.Handler = (ctx, _) => Responses.Json(ctx, 429, Responses.ErrorJson("rate_limit_error", "Daily quota used up"),
            new Dictionary<string, string> { ["retry-after"] = "3600", ["x-should-retry"] = "true", ["anthropic-ratelimit-unified-status"] = "rejected" });

        // The default model would retry once: a wait this long must not be retried, by Relay or by the client.
        using var response = await Server.Client.SendAsync(Post(JsonBody.Message("claude-sonnet-4-6")), Ct);

        var error = await AnthropicAssert.IsErrorAsync(response, HttpStatusCode.TooManyRequests, "rate_limit_error");
        Assert.Contains("3600 s (about 60 min)", error.Message, StringComparison.Ordinal);
        Assert.Contains("'up'", error.Message, StringComparison.Ordinal);
        Assert.Contains("Daily quota used up", error.Message, StringComparison.Ordinal);
        Assert.Equal("3600", Header(response, "retry-after"));
        Assert.Equal("rejected", Header(response, "anthropic-ratelimit-unified-status"));
        Assert.Single(Upstream.Requests);
    }

    [Fact]
    public async Task TranslatedProviderWaitOverAMinute_IsAClearError()
    {
        Upstream.Handler = (ctx, _) => Responses.Json(ctx, 429, """{"error":{"message":"Rate limit exceeded: free-tier","code":429}}""",
            new Dictionary<string, string> { ["retry-after-ms"] = "90500" });

        using var response = await Server.Client.SendAsync(Post(JsonBody.Message("chat-model")), Ct);

        var error = await AnthropicAssert.IsErrorAsync(response, HttpStatusCode.TooManyRequests, "rate_limit_error");
        Assert.Contains("91 s", error.Message, StringComparison.Ordinal);
        Assert.Contains("'chat'", error.Message, StringComparison.Ordinal);
        Assert.Equal("91", Header(response, "retry-after"));
    }

    [Theory]
    [InlineData("HEAD")]
    [InlineData("GET")]
    public async Task HelloWarmUp_IsAnsweredAtOnce_WithoutAKey(string method)
    {
        using var anonymous = Server.CreateClient();
        var timer = Stopwatch.StartNew();

        using var response = await anonymous.SendAsync(new HttpRequestMessage(new HttpMethod(method), "api/hello"), Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(timer.Elapsed < TimeSpan.FromSeconds(2), $"took {timer.Elapsed}");
        Assert.Empty(Upstream.Requests);
        AnthropicAssert.HasRelayRequestId(response);
    }

    [Fact]
    public async Task HelloWarmUp_IsAnsweredUnderTheBasePath()
    {
        var config = RelayTestServer.DefaultConfig(Upstream.BaseUrl);
        config.BasePath = "/claude";
        await using var server = await RelayTestServer.StartAsync(config);
        using var anonymous = server.CreateClient();

        using var response = await anonymous.SendAsync(new HttpRequestMessage(HttpMethod.Head, "api/hello"), Ct);

        Assert.EndsWith("/claude", server.BaseUrl, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task ModelDiscovery_PatternsOnly_ListsTheClaudeIdsThePatternsRoute()
    {
        var config = new RelayConfig { Listen = ["http://127.0.0.1:0"] };
        config.Providers["up"] = new ProviderConfig { Type = "anthropic", BaseUrl = Upstream.BaseUrl, ApiKey = "sk-upstream-secret-123456" };
        config.Models["claude-sonnet-*"] = new ModelConfig { Routes = ["up/upstream-sonnet"], Family = "sonnet" };
        config.Models["claude-haiku-*"] = new ModelConfig { Routes = ["up/upstream-haiku"] };
        config.Models["deepseek-*"] = new ModelConfig { Routes = ["up/upstream-deepseek"] };
        await using var server = await RelayTestServer.StartAsync(config);

        var timer = Stopwatch.StartNew();
        using var response = await server.Client.GetAsync("v1/models?limit=1000", Ct);
        var elapsed = timer.Elapsed;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(elapsed < TimeSpan.FromSeconds(1), $"discovery gives up after 3 s; this took {elapsed}");
        using var page = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct));
        var models = page.RootElement.GetProperty("data").EnumerateArray().ToList();
        var ids = models.Select(m => m.GetProperty("id").GetString()!).ToArray();
        Assert.Equal(["claude-sonnet-5-5", "claude-haiku-5-5", "claude-sonnet-5", "claude-sonnet-4-6", "claude-haiku-4-5"], ids);
        Assert.Equal("Claude Sonnet 5.5", models[0].GetProperty("display_name").GetString());
        Assert.Equal("sonnet", models[0].GetProperty("anthropic_family_tier").GetString());
        Assert.True(models[0].GetProperty("is_family_default").GetBoolean());
        Assert.False(models[2].GetProperty("is_family_default").GetBoolean());

        // A listed id routes where its pattern says.
        using var answered = await server.Client.SendAsync(Post(JsonBody.Message("claude-sonnet-5")), Ct);
        Assert.Equal(HttpStatusCode.OK, answered.StatusCode);
        Assert.Contains("\"upstream-sonnet\"", Upstream.LastRequest.BodyText, StringComparison.Ordinal);
    }
}
