using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.AspNetCore.Http;
using Relay.Configuration;
using Relay.Tests.Infrastructure;

namespace Relay.Tests;

/// <summary>Relay's own errors are Anthropic-shaped with the right status and retry hint; an upstream's errors pass unchanged.</summary>
public sealed class ErrorTests : IAsyncLifetime
{
    private const string DownKey = "sk-down-secret-9876543210";
    private const string SlowKey = "sk-slow-secret-0123456789";

    private FakeUpstream _upstream = null!;
    private RelayTestServer _relay = null!;

    public async ValueTask InitializeAsync()
    {
        _upstream = await FakeUpstream.StartAsync();
        var config = RelayTestServer.DefaultConfig(_upstream.BaseUrl);
        config.MaxRequestBodyMB = 1;
        config.Providers["down"] = new ProviderConfig { Type = "anthropic", BaseUrl = $"http://127.0.0.1:{ClosedPort()}", ApiKey = DownKey };
        config.Models["down-model"] = new ModelConfig { Routes = ["down/whatever"] };
        config.Providers["slow"] = new ProviderConfig { Type = "anthropic", BaseUrl = _upstream.BaseUrl, ApiKey = SlowKey, TimeoutSeconds = 1 };
        config.Models["slow-model"] = new ModelConfig { Routes = ["slow/whatever"], MaxAttempts = 1 }; // retries are RoutingFailureTests' subject
        _relay = await RelayTestServer.StartAsync(config);
    }

    public async ValueTask DisposeAsync()
    {
        await _relay.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A loopback port nothing listens on: bound once by the OS, then released.</summary>
    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    private Task<HttpResponseMessage> PostAsync(string body, string path = "v1/messages") =>
        _relay.Client.PostAsync(path, JsonBody.Of(body), Ct);

    [Theory]
    [InlineData("""{"model":"claude-sonnet-4-6","max_tokens":10,"messages":[""")]
    [InlineData("""{"model":"claude-sonnet-4-6",}""")]
    [InlineData("not json at all")]
    [InlineData("")]
    [InlineData("""["model"]""")]
    [InlineData("""{"model":"claude-sonnet-4-6","max_tokens":10,"messages":[]} {}""")]
    public async Task MalformedJson_Is400InvalidRequest(string body)
    {
        using var response = await PostAsync(body);

        await AnthropicAssert.IsErrorAsync(response, HttpStatusCode.BadRequest, "invalid_request_error");
        Assert.Empty(_upstream.Requests);
    }

    [Theory]
    [InlineData("""{"max_tokens":10,"messages":[{"role":"user","content":"hi"}]}""", "model")]
    [InlineData("""{"model":"claude-sonnet-4-6","max_tokens":10}""", "messages")]
    [InlineData("""{"model":"claude-sonnet-4-6","messages":[{"role":"user","content":"hi"}]}""", "max_tokens")]
    [InlineData("""{"model":42,"max_tokens":10,"messages":[]}""", "model")]
    [InlineData("""{"model":"claude-sonnet-4-6","max_tokens":"10","messages":[]}""", "max_tokens")]
    [InlineData("""{"model":"claude-sonnet-4-6","max_tokens":10,"messages":{}}""", "messages")]
    public async Task MissingOrWrongField_Is400NamingTheField(string body, string field)
    {
        using var response = await PostAsync(body);

        var error = await AnthropicAssert.IsErrorAsync(response, HttpStatusCode.BadRequest, "invalid_request_error");
        Assert.StartsWith(field + ":", error.Message, StringComparison.Ordinal);
        Assert.Empty(_upstream.Requests);
    }

    [Fact]
    public async Task CountTokens_DoesNotRequireMaxTokens_ButRequiresMessages()
    {
        _upstream.Handler = (ctx, _) => Responses.Json(ctx, 200, """{"input_tokens":3}""");

        using var ok = await PostAsync("""{"model":"claude-sonnet-4-6","messages":[{"role":"user","content":"hi"}]}""", "v1/messages/count_tokens");
        using var bad = await PostAsync("""{"model":"claude-sonnet-4-6"}""", "v1/messages/count_tokens");

        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        var error = await AnthropicAssert.IsErrorAsync(bad, HttpStatusCode.BadRequest, "invalid_request_error");
        Assert.StartsWith("messages:", error.Message, StringComparison.Ordinal);
        Assert.Single(_upstream.Requests);
    }

    [Fact]
    public async Task UnknownModel_Is404ListingConfiguredModels()
    {
        using var response = await PostAsync(JsonBody.Message("gpt-5"));

        var error = await AnthropicAssert.IsErrorAsync(response, HttpStatusCode.NotFound, "not_found_error");
        Assert.Contains("gpt-5", error.Message, StringComparison.Ordinal);
        foreach (var name in new[] { "claude-sonnet-4-6", "claude-haiku-*", "down-model", "slow-model" })
        {
            Assert.Contains(name, error.Message, StringComparison.Ordinal);
        }

        Assert.Empty(_upstream.Requests);
    }

    private static string BodyOfSize(int bytes)
    {
        const string head = "{\"model\":\"claude-sonnet-4-6\",\"max_tokens\":10,\"messages\":[{\"role\":\"user\",\"content\":\"";
        const string tail = "\"}]}";
        return head + new string('x', bytes - head.Length - tail.Length) + tail;
    }

    [Fact]
    public async Task BodyOverLimit_WithContentLength_Is413()
    {
        var content = JsonBody.Of(BodyOfSize(1536 * 1024));
        Assert.NotNull(content.Headers.ContentLength);

        using var response = await _relay.Client.PostAsync("v1/messages", content, Ct);

        var error = await AnthropicAssert.IsErrorAsync(response, HttpStatusCode.RequestEntityTooLarge, "request_too_large");
        Assert.Contains("1 MB", error.Message, StringComparison.Ordinal);
        Assert.Empty(_upstream.Requests);
    }

    [Fact]
    public async Task BodyOverLimit_Chunked_Is413()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/messages") { Content = new ChunkedContent(Encoding.UTF8.GetBytes(BodyOfSize(1536 * 1024))) };

        using var response = await _relay.Client.SendAsync(request, Ct);

        Assert.True(request.Headers.TransferEncodingChunked);
        await AnthropicAssert.IsErrorAsync(response, HttpStatusCode.RequestEntityTooLarge, "request_too_large");
        Assert.Empty(_upstream.Requests);
    }

    [Fact]
    public async Task BodyUnderLimit_IsForwardedWhole_BothFramings()
    {
        var body = BodyOfSize(1000 * 1024);

        using var withLength = await _relay.Client.PostAsync("v1/messages", JsonBody.Of(body), Ct);
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/messages") { Content = new ChunkedContent(Encoding.UTF8.GetBytes(body)) };
        using var chunked = await _relay.Client.SendAsync(request, Ct);

        Assert.Equal(HttpStatusCode.OK, withLength.StatusCode);
        Assert.Equal(HttpStatusCode.OK, chunked.StatusCode);
        Assert.Equal(2, _upstream.Requests.Count);
        Assert.All(_upstream.Requests, r => Assert.Equal(body.Replace("claude-sonnet-4-6", "upstream-sonnet", StringComparison.Ordinal), r.BodyText));
    }

    [Fact]
    public async Task UpstreamUnreachable_Is502ApiErrorNamingProviderWithoutItsKey()
    {
        using var response = await PostAsync(JsonBody.Message("down-model"));

        var error = await AnthropicAssert.IsErrorAsync(response, HttpStatusCode.BadGateway, "api_error", retryable: true);
        Assert.Contains("'down'", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(DownKey, error.Body, StringComparison.Ordinal);
        Assert.DoesNotContain("sk-down", error.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UpstreamTooSlow_Is504TimeoutErrorNamingProvider()
    {
        _upstream.Handler = async (ctx, _) =>
        {
            await Task.Delay(TimeSpan.FromSeconds(3), ctx.RequestAborted);
            await Responses.Json(ctx, 200, Responses.MessageJson());
        };

        var started = DateTime.UtcNow;
        using var response = await PostAsync(JsonBody.Message("slow-model"));
        var elapsed = DateTime.UtcNow - started;

        var error = await AnthropicAssert.IsErrorAsync(response, HttpStatusCode.GatewayTimeout, "timeout_error", retryable: true);
        Assert.Contains("'slow'", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(SlowKey, error.Body, StringComparison.Ordinal);
        // Not early; and not late either, or the upstream's 200 would have arrived instead of the 504.
        Assert.True(elapsed >= TimeSpan.FromSeconds(0.9), $"timed out after only {elapsed}");
        Assert.Single(_upstream.Requests);
    }

    [Theory]
    [InlineData("GET", "v1/nothing")]
    [InlineData("POST", "v2/messages")]
    [InlineData("GET", "v1/models/a/b")]
    public async Task UnknownPath_Is404AnthropicShaped(string method, string path)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);

        using var response = await _relay.Client.SendAsync(request, Ct);

        var error = await AnthropicAssert.IsErrorAsync(response, HttpStatusCode.NotFound, "not_found_error");
        Assert.Contains("/" + path, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("GET", "v1/messages")]
    [InlineData("PUT", "v1/messages")]
    [InlineData("GET", "v1/messages/count_tokens")]
    [InlineData("DELETE", "v1/models")]
    [InlineData("POST", "")]
    public async Task WrongMethod_Is405AnthropicShaped(string method, string path)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);

        using var response = await _relay.Client.SendAsync(request, Ct);

        var error = await AnthropicAssert.IsErrorAsync(response, HttpStatusCode.MethodNotAllowed, "invalid_request_error");
        Assert.Contains(method, error.Message, StringComparison.Ordinal);
        Assert.Empty(_upstream.Requests);
    }

    [Fact]
    public async Task Upstream429_IsForwardedUnchangedWithRetryAfter()
    {
        var body = """{"type":"error","error":{"type":"rate_limit_error","message":"Number of request tokens has exceeded your per-minute rate limit (https://docs.anthropic.com/en/api/rate-limits); see the response headers for current usage. Please reduce the prompt length or the maximum tokens requested, or try again later. You may also contact sales at https://www.anthropic.com/contact-sales to discuss your options for a rate limit increase."}}""";
        _upstream.Handler = (ctx, _) => Responses.Json(ctx, 429, body, new Dictionary<string, string> { ["retry-after"] = "17", ["request-id"] = "req_upstream429" });

        using var response = await PostAsync(JsonBody.Message("claude-sonnet-4-6"));

        Assert.Equal((HttpStatusCode)429, response.StatusCode);
        Assert.Equal(Encoding.UTF8.GetBytes(body), await response.Content.ReadAsByteArrayAsync(Ct));
        Assert.Equal("17", Assert.Single(response.Headers.GetValues("retry-after")));
        Assert.False(response.Headers.Contains("x-should-retry"));
        Assert.Equal("req_upstream429", Assert.Single(response.Headers.GetValues("upstream-request-id")));
        AnthropicAssert.HasRelayRequestId(response);
    }

    [Fact]
    public async Task Upstream529Overloaded_IsForwardedUnchanged()
    {
        var body = Responses.ErrorJson("overloaded_error", "Overloaded");
        _upstream.Handler = (ctx, _) => Responses.Json(ctx, 529, body);

        using var response = await PostAsync(JsonBody.Message("claude-sonnet-4-6"));

        Assert.Equal(529, (int)response.StatusCode);
        Assert.Equal(Encoding.UTF8.GetBytes(body), await response.Content.ReadAsByteArrayAsync(Ct));
        Assert.False(response.Headers.Contains("x-should-retry"));
        AnthropicAssert.HasRelayRequestId(response);
    }

    [Fact]
    public async Task Upstream400_IsForwardedUnchangedIncludingItsRetryHint()
    {
        var body = "{\"type\":\"error\",\"error\":{\"type\":\"invalid_request_error\",\"message\":\"messages.1.content.0.tool_result: unexpected `tool_use_id` found in `tool_result` blocks: toolu_01. Each `tool_result` block must have a corresponding `tool_use` block in the previous message.\"},\"request_id\":\"req_011CUp\"}";
        _upstream.Handler = (ctx, _) => Responses.Json(ctx, 400, body, new Dictionary<string, string> { ["x-should-retry"] = "false" });

        using var response = await PostAsync(JsonBody.Message("claude-sonnet-4-6"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(Encoding.UTF8.GetBytes(body), await response.Content.ReadAsByteArrayAsync(Ct));
        Assert.Equal("false", Assert.Single(response.Headers.GetValues("x-should-retry")));
    }

    [Fact]
    public async Task Upstream500WithNonJsonBody_IsWrappedInAnAnthropicErrorQuotingIt()
    {
        const string body = "<html><body>upstream exploded</body></html>";
        _upstream.Handler = async (ctx, _) =>
        {
            ctx.Response.StatusCode = 500;
            ctx.Response.ContentType = "text/html";
            await ctx.Response.WriteAsync(body, ctx.RequestAborted);
        };

        using var response = await PostAsync(JsonBody.Message("claude-sonnet-4-6"));

        // Anthropic-shaped errors pass byte for byte; a proxy's HTML page is no error a client can parse.
        var error = await AnthropicAssert.IsErrorAsync(response, HttpStatusCode.InternalServerError, "api_error", retryable: true);
        Assert.Contains("answered 500: " + body, error.Message, StringComparison.Ordinal);
    }

    /// <summary>A body sent with Transfer-Encoding: chunked, because it will not say its length.</summary>
    private sealed class ChunkedContent(byte[] bytes) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            for (var offset = 0; offset < bytes.Length; offset += 64 * 1024)
            {
                await stream.WriteAsync(bytes.AsMemory(offset, Math.Min(64 * 1024, bytes.Length - offset)));
            }
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}
