using Relay.Storage;
using System.Net;
using Relay.Auth;
using Relay.Tests.Infrastructure;

namespace Relay.Tests;

/// <summary>Every API endpoint needs a live Relay key; the root probe does not; a 401 never retries and never echoes the key.</summary>
public sealed class AuthTests : RelayWithUpstream
{
    [Fact]
    public async Task XApiKey_IsAccepted()
    {
        using var response = await Server.Client.PostAsync("v1/messages", JsonBody.Of(JsonBody.Message("claude-sonnet-4-6")), Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Single(Upstream.Requests);
    }

    [Fact]
    public async Task BearerToken_IsAccepted()
    {
        using var client = Server.CreateClient(Server.Key, bearer: true);

        using var response = await client.PostAsync("v1/messages", JsonBody.Of(JsonBody.Message("claude-sonnet-4-6")), Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Single(Upstream.Requests);
    }

    [Theory]
    [InlineData("bearer")]
    [InlineData("BEARER")]
    public async Task BearerScheme_IsCaseInsensitive(string scheme)
    {
        using var client = Server.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/messages") { Content = JsonBody.Of(JsonBody.Message("claude-sonnet-4-6")) };
        request.Headers.TryAddWithoutValidation("Authorization", $"{scheme} {Server.Key}");

        using var response = await client.SendAsync(request, Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task BothHeaders_XApiKeyWins()
    {
        using var valid = Server.CreateClient(Server.Key);
        valid.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", "Bearer not-a-relay-key");
        using var invalid = Server.CreateClient("sk-relay-wrong");
        invalid.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", "Bearer " + Server.Key);

        using var accepted = await valid.PostAsync("v1/messages", JsonBody.Of(JsonBody.Message("claude-sonnet-4-6")), Ct);
        using var refused = await invalid.PostAsync("v1/messages", JsonBody.Of(JsonBody.Message("claude-sonnet-4-6")), Ct);

        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        await AnthropicAssert.IsErrorAsync(refused, HttpStatusCode.Unauthorized, "authentication_error");
    }

    [Fact]
    public async Task MissingKey_Is401AuthenticationError()
    {
        using var client = Server.CreateClient();

        using var response = await client.PostAsync("v1/messages", JsonBody.Of(JsonBody.Message("claude-sonnet-4-6")), Ct);

        var error = await AnthropicAssert.IsErrorAsync(response, HttpStatusCode.Unauthorized, "authentication_error");
        Assert.Contains("x-api-key", error.Message, StringComparison.Ordinal);
        Assert.Empty(Upstream.Requests);
    }

    [Fact]
    public async Task EmptyBearerToken_IsTreatedAsMissing()
    {
        using var client = Server.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/messages") { Content = JsonBody.Of(JsonBody.Message("claude-sonnet-4-6")) };
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer ");

        using var response = await client.SendAsync(request, Ct);

        await AnthropicAssert.IsErrorAsync(response, HttpStatusCode.Unauthorized, "authentication_error");
        Assert.Empty(Upstream.Requests);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task WrongRelayShapedKey_Is401AndNotEchoed(bool bearer)
    {
        var wrong = ApiKeys.Generate();
        using var client = Server.CreateClient(wrong, bearer);

        using var response = await client.PostAsync("v1/messages", JsonBody.Of(JsonBody.Message("claude-sonnet-4-6")), Ct);

        var error = await AnthropicAssert.IsErrorAsync(response, HttpStatusCode.Unauthorized, "authentication_error");
        Assert.DoesNotContain(wrong, error.Body, StringComparison.Ordinal);
        Assert.DoesNotContain(wrong[ApiKeys.Prefix.Length..], error.Body, StringComparison.Ordinal);
        Assert.Empty(Upstream.Requests);
    }

    [Fact]
    public async Task ForeignKey_Is401AndNotEchoed()
    {
        const string foreign = "sk-ant-api03-not-a-relay-key-abcdefghijklmnop";
        using var client = Server.CreateClient(foreign);

        using var response = await client.PostAsync("v1/messages", JsonBody.Of(JsonBody.Message("claude-sonnet-4-6")), Ct);

        var error = await AnthropicAssert.IsErrorAsync(response, HttpStatusCode.Unauthorized, "authentication_error");
        Assert.DoesNotContain(foreign, error.Body, StringComparison.Ordinal);
        Assert.Empty(Upstream.Requests);
    }

    [Fact]
    public async Task RevokedKey_Is401AndNotEchoed()
    {
        var key = ApiKeys.Generate();
        await Server.Store.CreateKeyAsync("doomed", ApiKeys.Hash(key), ApiKeys.DisplayPrefix(key), Ct);
        using var client = Server.CreateClient(key);
        using (var before = await client.PostAsync("v1/messages", JsonBody.Of(JsonBody.Message("claude-sonnet-4-6")), Ct))
        {
            Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        }

        Assert.True(await Server.Store.RevokeKeyAsync("doomed", Ct));
        using var response = await client.PostAsync("v1/messages", JsonBody.Of(JsonBody.Message("claude-sonnet-4-6")), Ct);

        var error = await AnthropicAssert.IsErrorAsync(response, HttpStatusCode.Unauthorized, "authentication_error");
        Assert.DoesNotContain(key, error.Body, StringComparison.Ordinal);
        Assert.Single(Upstream.Requests);

        // The other key is untouched by the revocation.
        using var other = await Server.Client.PostAsync("v1/messages", JsonBody.Of(JsonBody.Message("claude-sonnet-4-6")), Ct);
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
    }

    [Theory]
    [InlineData("GET", "v1/models")]
    [InlineData("GET", "v1/models/claude-sonnet-4-6")]
    [InlineData("POST", "v1/messages/count_tokens")]
    public async Task OtherEndpoints_RequireAKey(string method, string path)
    {
        using var anonymous = Server.CreateClient();
        using var wrongKey = Server.CreateClient(ApiKeys.Generate());

        foreach (var client in new[] { anonymous, wrongKey })
        {
            using var request = new HttpRequestMessage(new HttpMethod(method), path);
            if (method == "POST")
            {
                request.Content = JsonBody.Of("""{"model":"claude-sonnet-4-6","messages":[{"role":"user","content":"hi"}]}""");
            }

            using var response = await client.SendAsync(request, Ct);
            await AnthropicAssert.IsErrorAsync(response, HttpStatusCode.Unauthorized, "authentication_error");
        }

        Assert.Empty(Upstream.Requests);
    }

    [Theory]
    [InlineData("v1/models")]
    [InlineData("v1/models/claude-sonnet-4-6")]
    public async Task Models_AcceptBothCredentialForms(string path)
    {
        using var bearer = Server.CreateClient(Server.Key, bearer: true);

        using var viaHeader = await Server.Client.GetAsync(path, Ct);
        using var viaBearer = await bearer.GetAsync(path, Ct);

        Assert.Equal(HttpStatusCode.OK, viaHeader.StatusCode);
        Assert.Equal(HttpStatusCode.OK, viaBearer.StatusCode);
    }

    [Fact]
    public async Task CountTokens_WithKey_IsForwarded()
    {
        Upstream.Handler = (ctx, _) => Responses.Json(ctx, 200, """{"input_tokens":17}""");

        using var response = await Server.Client.PostAsync("v1/messages/count_tokens",
            JsonBody.Of("""{"model":"claude-sonnet-4-6","messages":[{"role":"user","content":"hi"}]}"""), Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("""{"input_tokens":17}""", await response.Content.ReadAsStringAsync(Ct));
    }

    [Fact]
    public async Task RootGet_Answers200WithoutKey()
    {
        using var client = Server.CreateClient();

        using var response = await client.GetAsync("", Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("""{"name":"relay","status":"ok"}""", await response.Content.ReadAsStringAsync(Ct));
        AnthropicAssert.HasRelayRequestId(response);
    }

    [Fact]
    public async Task RootHead_Answers200WithoutKey()
    {
        using var client = Server.CreateClient();

        using var response = await client.SendAsync(new HttpRequestMessage(HttpMethod.Head, ""), Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync(Ct));
    }
}
