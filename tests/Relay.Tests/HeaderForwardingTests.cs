using Relay.Storage;
using System.Net;
using System.Net.Http.Headers;
using Relay.Auth;
using Relay.Configuration;
using Relay.Tests.Infrastructure;

namespace Relay.Tests;

/// <summary>Which headers cross Relay: the client's protocol headers go up, its Relay key never does, the provider's key
/// and headers are added, and the upstream's informative headers come back.</summary>
public sealed class HeaderForwardingTests : IAsyncLifetime
{
    private const string UpstreamKey = "sk-upstream-secret-123456";
    private const string BearerKey = "bearer-upstream-secret-777";
    private const string ForeignKey = "sk-ant-api03-client-own-key-abcdef";

    private FakeUpstream _upstream = null!;
    private RelayTestServer _relay = null!;

    /// <summary>Not shaped like a Relay key, so without a check it would pass for a provider's key.</summary>
    private const string AdminKey = "admin-key-for-header-tests-0123456789";

    public async ValueTask InitializeAsync()
    {
        _upstream = await FakeUpstream.StartAsync();
        var config = RelayTestServer.DefaultConfig(_upstream.BaseUrl);
        config.Providers["glm"] = new ProviderConfig
        {
            Type = "anthropic",
            BaseUrl = _upstream.BaseUrl,
            ApiKey = BearerKey,
            AuthScheme = "bearer",
            Headers = new Dictionary<string, string> { ["x-provider-tag"] = "relay-test", ["anthropic-beta"] = "provider-forced-beta" },
        };
        config.Models["glm-model"] = new ModelConfig { Routes = ["glm/glm-4.6"] };
        config.Providers["v1"] = new ProviderConfig { Type = "anthropic", BaseUrl = _upstream.BaseUrl + "/v1", ApiKey = UpstreamKey };
        config.Models["v1-model"] = new ModelConfig { Routes = ["v1/m"] };
        config.Providers["slash"] = new ProviderConfig { Type = "anthropic", BaseUrl = _upstream.BaseUrl + "/", ApiKey = UpstreamKey };
        config.Models["slash-model"] = new ModelConfig { Routes = ["slash/m"] };
        config.Providers["v1slash"] = new ProviderConfig { Type = "anthropic", BaseUrl = _upstream.BaseUrl + "/v1/", ApiKey = UpstreamKey };
        config.Models["v1slash-model"] = new ModelConfig { Routes = ["v1slash/m"] };
        config.Providers["prefixed"] = new ProviderConfig { Type = "anthropic", BaseUrl = _upstream.BaseUrl + "/api/anthropic/", ApiKey = UpstreamKey };
        config.Models["prefixed-model"] = new ModelConfig { Routes = ["prefixed/m"] };
        config.Providers["bridge"] = new ProviderConfig { Type = "anthropic", BaseUrl = _upstream.BaseUrl, ApiKey = "passthrough" };
        config.Models["bridge-model"] = new ModelConfig { Routes = ["bridge/bridged"] };
        config.AdminKey = AdminKey;
        _relay = await RelayTestServer.StartAsync(config);
    }

    public async ValueTask DisposeAsync()
    {
        await _relay.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<HttpResponseMessage> SendAsync(HttpClient client, string model, string path = "v1/messages",
        Action<HttpRequestHeaders>? headers = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonBody.Of(JsonBody.Message(model)) };
        headers?.Invoke(request.Headers);
        return await client.SendAsync(request, Ct);
    }

    private static void AssertNoClientCredential(CapturedRequest upstream, string relayKey)
    {
        Assert.DoesNotContain(upstream.Headers, h => h.Value.Contains(relayKey, StringComparison.Ordinal));
        Assert.DoesNotContain(upstream.Headers, h => h.Value.Contains(ApiKeys.Prefix, StringComparison.Ordinal));
    }

    [Fact]
    public async Task ProtocolHeaders_ReachUpstreamUnchanged()
    {
        using var response = await SendAsync(_relay.Client, "claude-sonnet-4-6", headers: h =>
        {
            h.TryAddWithoutValidation("anthropic-beta", "claude-code-20250219,interleaved-thinking-2025-05-14,context-management-2025-06-27");
            h.TryAddWithoutValidation("x-claude-code-session-id", "5f0c2a4e-1b2c-4d5e-8f90-123456789abc");
            h.TryAddWithoutValidation("user-agent", "claude-cli/2.0.31 (external, cli)");
            h.TryAddWithoutValidation("x-app", "cli");
            h.TryAddWithoutValidation("x-stainless-lang", "js");
            h.TryAddWithoutValidation("cookie", "session=should-not-leave");
            h.TryAddWithoutValidation("x-forwarded-for", "10.1.2.3");
        });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var up = _upstream.LastRequest;
        Assert.Equal("2023-06-01", up.Header("anthropic-version"));
        Assert.Equal("claude-code-20250219,interleaved-thinking-2025-05-14,context-management-2025-06-27", up.Header("anthropic-beta"));
        Assert.Equal("5f0c2a4e-1b2c-4d5e-8f90-123456789abc", up.Header("x-claude-code-session-id"));
        Assert.Equal("claude-cli/2.0.31 (external, cli)", up.Header("user-agent"));
        Assert.Equal("cli", up.Header("x-app"));
        Assert.Equal("js", up.Header("x-stainless-lang"));
        Assert.Null(up.Header("cookie"));
        Assert.Null(up.Header("x-forwarded-for"));
    }

    [Fact]
    public async Task AnthropicVersion_FromClientIsKept_AndDefaultedWhenMissing()
    {
        using var custom = _relay.CreateClient(_relay.Key);
        custom.DefaultRequestHeaders.Remove("anthropic-version");
        custom.DefaultRequestHeaders.Add("anthropic-version", "2099-01-01");
        using var none = _relay.CreateClient(_relay.Key);
        none.DefaultRequestHeaders.Remove("anthropic-version");

        using var first = await SendAsync(custom, "claude-sonnet-4-6");
        var sent = _upstream.LastRequest.Header("anthropic-version");
        using var second = await SendAsync(none, "claude-sonnet-4-6");

        Assert.Equal("2099-01-01", sent);
        Assert.Equal("2023-06-01", _upstream.LastRequest.Header("anthropic-version"));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task RelayKey_NeverReachesUpstream_ProviderKeySentAsXApiKey(bool bearer)
    {
        using var client = _relay.CreateClient(_relay.Key, bearer);

        using var response = await SendAsync(client, "claude-sonnet-4-6");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var up = _upstream.LastRequest;
        Assert.Equal(UpstreamKey, up.Header("x-api-key"));
        Assert.Null(up.Header("authorization"));
        AssertNoClientCredential(up, _relay.Key);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task BearerScheme_SendsProviderKeyAsAuthorization_AndAddsProviderHeaders(bool clientBearer)
    {
        using var client = _relay.CreateClient(_relay.Key, clientBearer);

        using var response = await SendAsync(client, "glm-model", headers: h => h.TryAddWithoutValidation("anthropic-beta", "client-beta"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var up = _upstream.LastRequest;
        Assert.Equal("Bearer " + BearerKey, up.Header("authorization"));
        Assert.Null(up.Header("x-api-key"));
        Assert.Equal("relay-test", up.Header("x-provider-tag"));
        Assert.Equal("provider-forced-beta", up.Header("anthropic-beta"));
        AssertNoClientCredential(up, _relay.Key);
    }

    [Fact]
    public async Task QueryString_IsForwarded_ToTheMessagesPath()
    {
        using var messages = await SendAsync(_relay.Client, "claude-sonnet-4-6", "v1/messages?beta=true");
        var messagesPath = _upstream.LastRequest.PathAndQuery;
        using var count = await SendAsync(_relay.Client, "claude-sonnet-4-6", "v1/messages/count_tokens?beta=true");
        var countPath = _upstream.LastRequest.PathAndQuery;
        using var plain = await SendAsync(_relay.Client, "claude-sonnet-4-6");

        Assert.Equal("/v1/messages?beta=true", messagesPath);
        Assert.Equal("/v1/messages/count_tokens?beta=true", countPath);
        Assert.Equal("/v1/messages", _upstream.LastRequest.PathAndQuery);
        Assert.All(_upstream.Requests, r => Assert.Equal("POST", r.Method));
    }

    [Theory]
    [InlineData("v1-model", "/v1/messages")]
    [InlineData("slash-model", "/v1/messages")]
    [InlineData("v1slash-model", "/v1/messages")]
    [InlineData("prefixed-model", "/api/anthropic/v1/messages")]
    [InlineData("glm-model", "/v1/messages")]
    public async Task BaseUrl_TrailingV1OrSlash_IsNotDoubled(string model, string expectedPath)
    {
        using var messages = await SendAsync(_relay.Client, model);
        var messagesPath = _upstream.LastRequest.PathAndQuery;
        using var count = await SendAsync(_relay.Client, model, "v1/messages/count_tokens");

        Assert.Equal(HttpStatusCode.OK, messages.StatusCode);
        Assert.Equal(expectedPath, messagesPath);
        Assert.Equal(expectedPath + "/count_tokens", _upstream.LastRequest.PathAndQuery);
    }

    [Fact]
    public async Task UpstreamRequestId_ComesBackAsUpstreamRequestId_RelayKeepsItsOwn()
    {
        _upstream.Handler = (ctx, _) => Responses.Json(ctx, 200, Responses.MessageJson(), new Dictionary<string, string>
        {
            ["request-id"] = "req_011CUpstreamIdentifier",
            ["anthropic-ratelimit-requests-remaining"] = "49",
            ["anthropic-ratelimit-tokens-reset"] = "2026-01-01T00:00:00Z",
            ["anthropic-organization-id"] = "org-123",
        });

        using var response = await SendAsync(_relay.Client, "claude-sonnet-4-6");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var own = AnthropicAssert.HasRelayRequestId(response);
        Assert.NotEqual("req_011CUpstreamIdentifier", own);
        Assert.Equal("req_011CUpstreamIdentifier", Assert.Single(response.Headers.GetValues("upstream-request-id")));
        Assert.Equal("49", Assert.Single(response.Headers.GetValues("anthropic-ratelimit-requests-remaining")));
        Assert.Equal("2026-01-01T00:00:00Z", Assert.Single(response.Headers.GetValues("anthropic-ratelimit-tokens-reset")));
        Assert.Equal("org-123", Assert.Single(response.Headers.GetValues("anthropic-organization-id")));
    }

    [Fact]
    public async Task NoUpstreamRequestId_MeansNoUpstreamRequestIdHeader()
    {
        using var response = await SendAsync(_relay.Client, "claude-sonnet-4-6");

        AnthropicAssert.HasRelayRequestId(response);
        Assert.False(response.Headers.Contains("upstream-request-id"));
    }

    [Fact]
    public async Task Passthrough_ForwardsForeignXApiKeyAsIs()
    {
        using var client = _relay.CreateClient(ForeignKey);

        using var response = await SendAsync(client, "bridge-model");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var up = _upstream.LastRequest;
        Assert.Equal(ForeignKey, up.Header("x-api-key"));
        Assert.Null(up.Header("authorization"));
        Assert.Contains("\"model\":\"bridged\"", up.BodyText, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false, "v1/messages")]
    [InlineData(true, "v1/messages")]
    [InlineData(true, "v1/chat/completions")]
    public async Task Passthrough_TheAdminKey_Is403AndNeverLeavesRelay(bool bearer, string path)
    {
        using var client = _relay.CreateClient(AdminKey, bearer);

        using var response = await SendAsync(client, "bridge-model", path);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync(Ct);
        Assert.Contains("permission_error", body, StringComparison.Ordinal);
        Assert.Contains("The admin key cannot be used for model requests; use a client key.", body, StringComparison.Ordinal);
        Assert.DoesNotContain(AdminKey, body, StringComparison.Ordinal);
        Assert.Empty(_upstream.Requests);
    }

    [Fact]
    public async Task Passthrough_ForwardsForeignBearerAsIs()
    {
        using var client = _relay.CreateClient(ForeignKey, bearer: true);

        using var response = await SendAsync(client, "bridge-model");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var up = _upstream.LastRequest;
        Assert.Equal("Bearer " + ForeignKey, up.Header("authorization"));
        Assert.Null(up.Header("x-api-key"));
    }

    [Fact]
    public async Task Passthrough_UpstreamRejection_ReachesClientUnchanged()
    {
        var body = Responses.ErrorJson("authentication_error", "invalid x-api-key");
        _upstream.Handler = (ctx, _) => Responses.Json(ctx, 401, body);
        using var client = _relay.CreateClient(ForeignKey);

        using var response = await SendAsync(client, "bridge-model");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(body, await response.Content.ReadAsStringAsync(Ct));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Passthrough_RelayKeyIsNotForwarded(bool bearer)
    {
        using var client = _relay.CreateClient(_relay.Key, bearer);

        using var response = await SendAsync(client, "bridge-model");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var up = _upstream.LastRequest;
        Assert.Null(up.Header("x-api-key"));
        Assert.Null(up.Header("authorization"));
        AssertNoClientCredential(up, _relay.Key);
    }

    [Fact]
    public async Task Passthrough_RelayKeyInTheOtherHeader_IsNotForwarded()
    {
        // A client with both a provider key and a Relay token configured sends both headers; x-api-key wins for
        // authentication, and the Relay key in Authorization must still stay inside Relay.
        using var client = _relay.CreateClient(ForeignKey);

        using var response = await SendAsync(client, "bridge-model",
            headers: h => h.Authorization = new AuthenticationHeaderValue("Bearer", _relay.Key));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var up = _upstream.LastRequest;
        Assert.Equal(ForeignKey, up.Header("x-api-key"));
        AssertNoClientCredential(up, _relay.Key);
    }

    [Theory]
    [InlineData("bridge-model", "anthropic-api-key")]
    [InlineData("bridge-model", "x-claude-code-session-id")]
    [InlineData("claude-sonnet-4-6", "anthropic-api-key")]
    [InlineData("claude-sonnet-4-6", "x-stainless-custom")]
    public async Task RelayKeyInAnyForwardedHeader_NeverReachesTheProvider(string model, string header)
    {
        using var client = _relay.CreateClient(_relay.Key);

        using var response = await SendAsync(client, model, headers: h =>
        {
            h.TryAddWithoutValidation(header, $"prefix {_relay.Key} suffix");
            h.TryAddWithoutValidation("x-claude-code-agent-id", "agent-7"); // an ordinary header still goes
        });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var up = _upstream.LastRequest;
        Assert.Null(up.Header(header));
        Assert.Equal("agent-7", up.Header("x-claude-code-agent-id"));
        Assert.DoesNotContain(up.Headers.Values, v => v.Contains(ApiKeys.Prefix, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Passthrough_RevokedRelayKey_Is401AndNeverLeavesRelay()
    {
        var key = ApiKeys.Generate();
        await _relay.Store.CreateKeyAsync("revoked", ApiKeys.Hash(key), ApiKeys.DisplayPrefix(key), Ct);
        Assert.True(await _relay.Store.RevokeKeyAsync("revoked", Ct));
        using var client = _relay.CreateClient(key);

        using var response = await SendAsync(client, "bridge-model");

        var error = await AnthropicAssert.IsErrorAsync(response, HttpStatusCode.Unauthorized, "authentication_error");
        Assert.DoesNotContain(key, error.Body, StringComparison.Ordinal);
        Assert.Empty(_upstream.Requests);
    }

    [Theory]
    [InlineData("claude-sonnet-4-6")]
    [InlineData("glm-model")]
    [InlineData("claude-haiku-4-5")]
    public async Task ForeignKey_ForNonPassthroughModel_Is401(string model)
    {
        using var client = _relay.CreateClient(ForeignKey);

        using var response = await SendAsync(client, model);

        var error = await AnthropicAssert.IsErrorAsync(response, HttpStatusCode.Unauthorized, "authentication_error");
        Assert.DoesNotContain(ForeignKey, error.Body, StringComparison.Ordinal);
        Assert.Empty(_upstream.Requests);
    }

    [Fact]
    public async Task ForeignKey_ForUnknownModel_Is401WithoutListingModels()
    {
        using var client = _relay.CreateClient(ForeignKey);

        using var response = await SendAsync(client, "no-such-model");

        var error = await AnthropicAssert.IsErrorAsync(response, HttpStatusCode.Unauthorized, "authentication_error");
        Assert.DoesNotContain("bridge-model", error.Body, StringComparison.Ordinal);
        Assert.Empty(_upstream.Requests);
    }

    [Fact]
    public async Task ForeignKey_CannotListModels()
    {
        using var client = _relay.CreateClient(ForeignKey);

        using var response = await client.GetAsync("v1/models", Ct);

        await AnthropicAssert.IsErrorAsync(response, HttpStatusCode.Unauthorized, "authentication_error");
    }
}
