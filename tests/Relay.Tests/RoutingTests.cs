using System.Net;
using System.Text.Json;
using Relay.Configuration;
using Relay.Tests.Infrastructure;

namespace Relay.Tests;

/// <summary>Which route a requested model name takes, and under which base path the API answers.</summary>
public sealed class RoutingTests : IAsyncLifetime
{
    private FakeUpstream _upstream = null!;
    private RelayTestServer _relay = null!;

    public async ValueTask InitializeAsync()
    {
        _upstream = await FakeUpstream.StartAsync();
        var config = new RelayConfig { Listen = ["http://127.0.0.1:0"], BasePath = "/claude" };
        config.Providers["up"] = new ProviderConfig { Type = "anthropic", BaseUrl = _upstream.BaseUrl, ApiKey = "sk-upstream-secret-123456" };

        // The broad pattern comes first in the file so that specificity, not order, must pick the narrow one.
        config.Models["claude-*"] = new ModelConfig { Routes = ["up/any-claude"] };
        config.Models["claude-haiku-*"] = new ModelConfig { Routes = ["up/pattern-haiku"] };
        config.Models["claude-haiku-4-5"] = new ModelConfig { Routes = ["up/exact-haiku"], Family = "haiku" };
        config.Models["claude-*-free"] = new ModelConfig { Routes = ["up/org/model:free"] };
        config.Models["claude-sonnet-4-6"] = new ModelConfig { Routes = ["up/upstream-sonnet"], Family = "sonnet" };
        config.Models["*-4-5"] = new ModelConfig { Routes = ["up/any-4-5"] };
        _relay = await RelayTestServer.StartAsync(config);
    }

    public async ValueTask DisposeAsync()
    {
        await _relay.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Sends a request for <paramref name="model"/> and returns the model the upstream was asked for.</summary>
    private async Task<string?> UpstreamModelForAsync(string model, string path = "v1/messages")
    {
        using var response = await _relay.Client.PostAsync(path, JsonBody.Of(JsonBody.Message(model)), Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var sent = JsonDocument.Parse(_upstream.LastRequest.Body);
        return sent.RootElement.GetProperty("model").GetString();
    }

    [Fact]
    public void BaseUrl_IncludesTheBasePath()
    {
        Assert.EndsWith("/claude", _relay.BaseUrl, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BasePath_ServesMessagesCountTokensAndModels()
    {
        Assert.Equal("upstream-sonnet", await UpstreamModelForAsync("claude-sonnet-4-6"));
        Assert.Equal("upstream-sonnet", await UpstreamModelForAsync("claude-sonnet-4-6", "v1/messages/count_tokens"));

        using var models = await _relay.Client.GetAsync("v1/models", Ct);
        using var model = await _relay.Client.GetAsync("v1/models/claude-sonnet-4-6", Ct);
        using var root = await _relay.Client.GetAsync("", Ct);

        Assert.Equal(HttpStatusCode.OK, models.StatusCode);
        Assert.Equal(HttpStatusCode.OK, model.StatusCode);
        Assert.Equal(HttpStatusCode.OK, root.StatusCode);

        // Upstream paths do not carry Relay's base path.
        Assert.All(_upstream.Requests, r => Assert.DoesNotContain("claude/", r.PathAndQuery, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("POST", "/v1/messages")]
    [InlineData("POST", "/v1/messages/count_tokens")]
    [InlineData("GET", "/v1/models")]
    [InlineData("GET", "/other/v1/models")]
    public async Task WithoutBasePath_Is404(string method, string path)
    {
        var origin = _relay.BaseUrl[..^"/claude".Length];
        using var request = new HttpRequestMessage(new HttpMethod(method), origin + path);
        if (method == "POST")
        {
            request.Content = JsonBody.Of(JsonBody.Message("claude-sonnet-4-6"));
        }

        using var response = await _relay.Client.SendAsync(request, Ct);

        await AnthropicAssert.IsErrorAsync(response, HttpStatusCode.NotFound, "not_found_error");
        Assert.Empty(_upstream.Requests);
    }

    [Theory]
    [InlineData("claude-sonnet-4-6[1m]", "upstream-sonnet")]
    [InlineData("claude-sonnet-4-6[1M]", "upstream-sonnet")]
    [InlineData("claude-haiku-4-5[1m]", "exact-haiku")]
    [InlineData("claude-haiku-3-9[1m]", "pattern-haiku")]
    [InlineData("claude-opus-4-7[1m]", "any-claude")]
    public async Task ContextSuffix_IsStrippedBeforeRouting(string requested, string expected)
    {
        Assert.Equal(expected, await UpstreamModelForAsync(requested));
    }

    [Fact]
    public async Task ContextSuffix_IsOnlyStrippedAtTheEnd()
    {
        using var response = await _relay.Client.PostAsync("v1/messages", JsonBody.Of(JsonBody.Message("gpt[1m]-x")), Ct);

        var error = await AnthropicAssert.IsErrorAsync(response, HttpStatusCode.NotFound, "not_found_error");
        Assert.Contains("gpt[1m]-x", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("claude-haiku-4-5", "exact-haiku")]
    [InlineData("claude-haiku-4-6", "pattern-haiku")]
    [InlineData("claude-haiku-", "pattern-haiku")]
    [InlineData("claude-opus-4-7", "any-claude")]
    [InlineData("claude-", "any-claude")]
    [InlineData("claude-sonnet-4-6", "upstream-sonnet")]
    public async Task ExactNameWins_ThenTheMostSpecificPattern(string requested, string expected)
    {
        Assert.Equal(expected, await UpstreamModelForAsync(requested));
    }

    [Theory]
    [InlineData("other-4-5", "any-4-5")]
    [InlineData("Claude-opus-4-7", "")]
    [InlineData("xclaude-opus", "")]
    public async Task Patterns_AreAnchoredAndCaseSensitive(string requested, string expected)
    {
        using var response = await _relay.Client.PostAsync("v1/messages", JsonBody.Of(JsonBody.Message(requested)), Ct);

        if (expected.Length == 0)
        {
            await AnthropicAssert.IsErrorAsync(response, HttpStatusCode.NotFound, "not_found_error");
            Assert.Empty(_upstream.Requests);
        }
        else
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Contains($"\"model\":\"{expected}\"", _upstream.LastRequest.BodyText, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task UpstreamModelWithSlashAndColon_ReachesUpstreamIntact()
    {
        Assert.Equal("org/model:free", await UpstreamModelForAsync("claude-opus-free"));
        Assert.Contains("\"model\":\"org/model:free\"", _upstream.LastRequest.BodyText, StringComparison.Ordinal);
        Assert.Equal("/v1/messages", _upstream.LastRequest.PathAndQuery);
    }
}
