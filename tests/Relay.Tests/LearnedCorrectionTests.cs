using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Relay.Configuration;
using Relay.Tests.Infrastructure;

namespace Relay.Tests;

/// <summary>
/// A provider refuses a request for something Relay can correct without changing what the user asked: Relay corrects
/// it, retries once, remembers the correction in the store, and sends later requests corrected. Each fake provider
/// answers with that provider's own wording.
/// </summary>
public sealed class LearnedCorrectionTests : IAsyncLifetime
{
    private const string AdminKey = "admin-key-for-tests-0123456789";
    private const string DeepSeekLimit = """{"error":{"message":"Invalid max_tokens value, the valid range of max_tokens is [1, 8192]","type":"invalid_request_error","param":null,"code":"invalid_request_error"}}""";

    private FakeUpstream _upstream = null!;
    private RelayTestServer _relay = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _upstream = await FakeUpstream.StartAsync();
        _relay = await RelayTestServer.StartAsync(Config(_upstream.BaseUrl));
    }

    public async ValueTask DisposeAsync()
    {
        await _relay.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    private static RelayConfig Config(string upstreamBaseUrl, Action<RelayConfig>? adjust = null)
    {
        var config = RelayTestServer.DefaultConfig(upstreamBaseUrl);
        config.AdminKey = AdminKey;
        // A station's model whose name no preset knows, and whose limits nobody configured.
        config.Providers["station"] = new ProviderConfig { Type = "openai", BaseUrl = upstreamBaseUrl.TrimEnd('/') + "/v1", ApiKey = "sk-station-0123456789" };
        config.Models["claude-opus-4-6"] = new ModelConfig { Routes = ["station/mystery-chat-v3"], Family = "opus", MaxAttempts = 1 };
        config.Models["claude-sonnet-4-6"] = new ModelConfig { Routes = ["up/upstream-sonnet"], Family = "sonnet", MaxAttempts = 1 };
        adjust?.Invoke(config);
        return config;
    }

    [Fact]
    public async Task UnknownModelsOutputLimit_IsLearnedFromTheRefusal_OnTheFirstRequest_AndKeptAcrossARestart()
    {
        _upstream.Handler = (ctx, request) => MaxTokens(request) > 8192
            ? Responses.Json(ctx, 400, DeepSeekLimit)
            : Responses.Json(ctx, 200, ChatCompletion("done"));

        using (var first = await Post(ClaudeCodeBody("claude-opus-4-6", maxTokens: 128000)))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
            Assert.Contains("done", await first.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        }

        Assert.Equal([128000, 8192], _upstream.Requests.Select(MaxTokens));
        var record = Assert.Single(await _relay.WaitForUsageAsync(1));
        Assert.Equal(200, record.Status);
        Assert.Equal(2, record.Attempts);
        Assert.Contains("corrected: max_tokens <= 8192", record.AttemptLog, StringComparison.Ordinal);

        using (var second = await Post(ClaudeCodeBody("claude-opus-4-6", maxTokens: 32000)))
        {
            Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        }

        Assert.Equal([128000, 8192, 8192], _upstream.Requests.Select(MaxTokens));
        Assert.Equal(["max_tokens <= 8192"], await Corrections(_relay, "station/mystery-chat-v3"));

        // A restart on the same database sends the corrected request at once.
        var again = Config(_upstream.BaseUrl, c => c.Database = _relay.Config.DatabasePath);
        await using var restarted = await RelayTestServer.StartAsync(again, keyName: "after-restart");
        using (var third = await restarted.Client.PostAsync("v1/messages", JsonBody.Of(ClaudeCodeBody("claude-opus-4-6", maxTokens: 128000)), Ct))
        {
            Assert.Equal(HttpStatusCode.OK, third.StatusCode);
        }

        Assert.Equal(8192, MaxTokens(_upstream.LastRequest));
        Assert.Equal(4, _upstream.Requests.Count);
    }

    [Fact]
    public async Task StreamingRequest_IsCorrectedBeforeAnyByteReachesTheClient()
    {
        _upstream.Handler = (ctx, request) => MaxTokens(request) > 8192
            ? Responses.Json(ctx, 400, DeepSeekLimit)
            : OpenAIUpstreamTests.OpenAIStream(ctx, [OpenAIUpstreamTests.TextChunk("streamed"), OpenAIUpstreamTests.TextChunk("", "stop"), OpenAIUpstreamTests.UsageChunk]);

        using var response = await Post(ClaudeCodeBody("claude-opus-4-6", maxTokens: 128000, stream: true));
        var events = SseTranscript.Parse(await response.Content.ReadAsStringAsync(Ct));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("message_start", events[0].Name);
        Assert.Equal("message_stop", events[^1].Name);
        Assert.DoesNotContain(events, e => e.Name == "error");
        Assert.Equal([128000, 8192], _upstream.Requests.Select(MaxTokens));
    }

    [Fact]
    public async Task UnknownParameter_IsDroppedAndRemembered()
    {
        // Azure OpenAI's wording for a parameter its API version does not know.
        _upstream.Handler = (ctx, request) => JsonNode.Parse(request.Body)!["stream_options"] is not null
            ? Responses.Json(ctx, 400, """{"error":{"message":"Unrecognized request argument supplied: stream_options","type":"invalid_request_error","param":null,"code":null}}""")
            : OpenAIUpstreamTests.OpenAIStream(ctx, [OpenAIUpstreamTests.TextChunk("hi", "stop")]);

        for (var i = 0; i < 2; i++)
        {
            using var response = await Post(ClaudeCodeBody("claude-opus-4-6", maxTokens: 4096, stream: true));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Contains("message_stop", await response.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        }

        Assert.Equal([true, false, false], _upstream.Requests.Select(r => JsonNode.Parse(r.Body)!["stream_options"] is not null));
        Assert.Equal(["drops parameter stream_options"], await Corrections(_relay, "station/mystery-chat-v3"));
    }

    [Fact]
    public async Task CorrectionThatDoesNotHelp_IsDropped_AndTheRefusalReachesTheClient()
    {
        // A provider that names a parameter in its refusal whatever the request holds: dropping it cannot help.
        const string refusal = """{"error":{"message":"Unrecognized request argument supplied: stream_options","type":"invalid_request_error","param":null,"code":null}}""";
        _upstream.Handler = (ctx, _) => Responses.Json(ctx, 400, refusal);

        using var response = await Post(ClaudeCodeBody("claude-opus-4-6", maxTokens: 4096, stream: true));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("Unrecognized request argument supplied: stream_options", await response.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        Assert.Equal(2, _upstream.Requests.Count); // one corrective retry, no loop
        Assert.Empty(await Corrections(_relay, "station/mystery-chat-v3"));
        Assert.Empty(await _relay.Store.ListCorrectionsAsync(Ct));
    }

    [Fact]
    public async Task ConfiguredMaxTokens_WinsOverTheProvidersRefusal()
    {
        await using var relay = await RelayTestServer.StartAsync(Config(_upstream.BaseUrl,
            c => c.Providers["station"].Models = new() { ["mystery-*"] = new UpstreamModelConfig { MaxTokens = 16000 } }));
        _upstream.Handler = (ctx, _) => Responses.Json(ctx, 400, DeepSeekLimit);

        using var response = await relay.Client.PostAsync("v1/messages", JsonBody.Of(ClaudeCodeBody("claude-opus-4-6", maxTokens: 32000)), Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal([16000], _upstream.Requests.Select(MaxTokens)); // the operator's number is sent and not second-guessed
        Assert.Empty(await relay.Store.ListCorrectionsAsync(Ct));
    }

    [Fact]
    public async Task VllmContextWindow_LimitsOutputToWhatTheWindowLeaves()
    {
        _upstream.Handler = (ctx, request) => MaxTokens(request) > 39766
            ? Responses.Json(ctx, 400, """{"object":"error","message":"'max_tokens' or 'max_completion_tokens' is too large: 64000. This model's maximum context length is 64001 tokens and your request has 24235 input tokens (64000 > 64001 - 24235). (parameter=max_tokens, value=64000)","type":"BadRequestError","param":null,"code":400}""")
            : Responses.Json(ctx, 200, ChatCompletion("fits"));

        using var response = await Post(ClaudeCodeBody("claude-opus-4-6", maxTokens: 64000));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal([64000, 39766], _upstream.Requests.Select(MaxTokens));
        Assert.Equal(["context window 64001 tokens"], await Corrections(_relay, "station/mystery-chat-v3"));
    }

    [Fact]
    public async Task SchemaKeywordTheProviderRejects_IsRemovedFromToolSchemas()
    {
        // Gemini's OpenAI endpoint refuses JSON-Schema keywords it does not know.
        _upstream.Handler = (ctx, request) => request.BodyText.Contains("exclusiveMinimum", StringComparison.Ordinal)
            ? Responses.Json(ctx, 400, """[{"error":{"code":400,"message":"Invalid JSON payload received. Unknown name \"exclusiveMinimum\" at 'tools[0].function_declarations[0].parameters.properties[0].value': Cannot find field.","status":"INVALID_ARGUMENT"}}]""")
            : Responses.Json(ctx, 200, ChatCompletion("ok"));
        var body = """
            {"model":"claude-opus-4-6","max_tokens":1024,"messages":[{"role":"user","content":"count"}],
             "tools":[{"name":"Count","description":"counts","input_schema":{"type":"object","properties":{"n":{"type":"integer","exclusiveMinimum":0,"description":"how many"}},"required":["n"]}}]}
            """;

        using var response = await Post(body);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var retried = JsonNode.Parse(_upstream.LastRequest.Body)!["tools"]![0]!["function"]!["parameters"]!["properties"]!["n"]!;
        Assert.Null(retried["exclusiveMinimum"]);
        Assert.Equal("how many", (string?)retried["description"]);
        Assert.Equal(["drops schema keyword exclusiveMinimum"], await Corrections(_relay, "station/mystery-chat-v3"));
    }

    [Fact]
    public async Task AnthropicProvidersOutputLimit_IsCorrectedOnPassThrough()
    {
        _upstream.Handler = (ctx, request) => MaxTokens(request) > 64000
            ? Responses.Json(ctx, 400, """{"type":"error","error":{"type":"invalid_request_error","message":"max_tokens: 128000 > 64000, which is the maximum allowed number of output tokens for claude-sonnet-4-5-20250929"},"request_id":"req_011"}""")
            : Responses.Stream(ctx, Responses.StreamEvents(["passed"]));

        using var response = await Post(ClaudeCodeBody("claude-sonnet-4-6", maxTokens: 128000, stream: true));
        var text = await response.Content.ReadAsStringAsync(Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("passed", text, StringComparison.Ordinal);
        Assert.Equal([128000, 64000], _upstream.Requests.Select(MaxTokens));
        Assert.Equal(["max_tokens <= 64000"], await Corrections(_relay, "up/upstream-sonnet"));
    }

    [Fact]
    public async Task AnthropicProviderThatRefusesABodyField_GetsTheRequestWithoutIt()
    {
        // An Anthropic-compatible station that does not accept a newer request field.
        _upstream.Handler = (ctx, request) => JsonNode.Parse(request.Body)!["context_management"] is not null
            ? Responses.Json(ctx, 400, """{"type":"error","error":{"type":"invalid_request_error","message":"context_management: Extra inputs are not permitted"}}""")
            : Responses.Json(ctx, 200, Responses.MessageJson("no context management here"));

        using var first = await Post(ClaudeCodeBody("claude-sonnet-4-6", maxTokens: 32000));
        using var second = await Post(ClaudeCodeBody("claude-sonnet-4-6", maxTokens: 32000));

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal([true, false, false], _upstream.Requests.Select(r => JsonNode.Parse(r.Body)!["context_management"] is not null));
        var sent = JsonNode.Parse(_upstream.LastRequest.Body)!;
        Assert.Equal(32000, (int)sent["max_tokens"]!);
        Assert.NotNull(sent["thinking"]); // nothing else is touched
    }

    [Fact]
    public async Task UnknownRefusal_IsForwardedAsItIs_WithoutARetry()
    {
        const string refusal = """{"error":{"message":"top_k must be less than or equal to 100","type":"invalid_request_error"}}""";
        _upstream.Handler = (ctx, _) => Responses.Json(ctx, 400, refusal);

        using var response = await Post(ClaudeCodeBody("claude-opus-4-6", maxTokens: 1024));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct));
        Assert.Equal("invalid_request_error", error.RootElement.GetProperty("error").GetProperty("type").GetString());
        Assert.Contains("top_k must be less than or equal to 100", error.RootElement.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Single(_upstream.Requests);
    }

    private Task<HttpResponseMessage> Post(string body) => _relay.Client.PostAsync("v1/messages", JsonBody.Of(body), Ct);

    private static int MaxTokens(CapturedRequest request)
    {
        var body = JsonNode.Parse(request.Body)!;
        return (int)(body["max_tokens"] ?? body["max_completion_tokens"])!;
    }

    /// <summary>The shape of Claude Code's requests: a large output limit, thinking, context management.</summary>
    private static string ClaudeCodeBody(string model, int maxTokens, bool stream = false) => $$$"""
        {"model":"{{{model}}}","max_tokens":{{{maxTokens}}},"stream":{{{(stream ? "true" : "false")}}},
         "system":[{"type":"text","text":"You are Claude Code."}],
         "messages":[{"role":"user","content":[{"type":"text","text":"List the files."}]}],
         "thinking":{"type":"enabled","budget_tokens":4000},"context_management":{"edits":[{"type":"clear_thinking_20251015","keep":"all"}]},
         "metadata":{"user_id":"user_abc"}}
        """;

    private static string ChatCompletion(string text) => new JsonObject
    {
        ["id"] = "chatcmpl-9",
        ["object"] = "chat.completion",
        ["model"] = "mystery-chat-v3",
        ["choices"] = new JsonArray(new JsonObject
        {
            ["index"] = 0,
            ["message"] = new JsonObject { ["role"] = "assistant", ["content"] = text },
            ["finish_reason"] = "stop",
        }),
        ["usage"] = new JsonObject { ["prompt_tokens"] = 30, ["completion_tokens"] = 2, ["total_tokens"] = 32 },
    }.ToJsonString();

    private static async Task<string[]> Corrections(RelayTestServer relay, string route) =>
        (await relay.RouteAsync(AdminKey, route)).GetProperty("corrections").EnumerateArray().Select(c => c.GetString()!).ToArray();
}
