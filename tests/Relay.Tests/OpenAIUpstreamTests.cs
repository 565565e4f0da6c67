using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Relay.Configuration;
using Relay.Tests.Infrastructure;

namespace Relay.Tests;

/// <summary>OpenAI-compatible providers over the wire: Relay on real Kestrel, the provider a fake speaking Chat Completions.</summary>
public sealed class OpenAIUpstreamTests : IAsyncLifetime
{
    private FakeUpstream _upstream = null!;
    private RelayTestServer _relay = null!;

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

    internal static RelayConfig Config(string upstreamBaseUrl)
    {
        var config = RelayTestServer.DefaultConfig(null);
        config.Providers["router"] = new ProviderConfig
        {
            Type = "openai",
            BaseUrl = upstreamBaseUrl.TrimEnd('/') + "/api/v1",
            ApiKey = "sk-or-secret-123456",
            Preset = "openrouter",
            PingIntervalSeconds = 1,
            TimeoutSeconds = 5,
            Models = new() { ["deepseek/*"] = new UpstreamModelConfig { MaxTokens = 8192 } },
        };
        config.Models["claude-sonnet-4-6"] = new ModelConfig { Routes = ["router/deepseek/deepseek-chat"], Family = "sonnet" };
        return config;
    }

    internal static Task OpenAIStream(HttpContext context, IEnumerable<string> chunks, TimeSpan delay = default, bool done = true) =>
        Responses.Stream(context, chunks.Select(c => $"data: {c}\n\n").Concat(done ? ["data: [DONE]\n\n"] : []), delay);

    internal static string TextChunk(string text, string? finish = null) =>
        new JsonObject { ["id"] = "chatcmpl-1", ["object"] = "chat.completion.chunk", ["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["delta"] = new JsonObject { ["content"] = text }, ["finish_reason"] = finish }) }.ToJsonString();

    internal const string UsageChunk = """{"id":"chatcmpl-1","choices":[],"usage":{"prompt_tokens":1200,"completion_tokens":7,"total_tokens":1207,"prompt_tokens_details":{"cached_tokens":1000}}}""";

    [Fact]
    public async Task Streaming_TranslatesRequestAndStream_AndRecordsTheProvidersUsage()
    {
        _upstream.Handler = (ctx, _) => OpenAIStream(ctx, [TextChunk("Hello"), TextChunk(" there", "stop"), UsageChunk]);

        using var response = await _relay.Client.PostAsync("v1/messages?beta=true", JsonBody.Of("""
            {"model":"claude-sonnet-4-6","max_tokens":32000,"stream":true,"system":[{"type":"text","text":"x-anthropic-billing-header: cc_version=2.1.330.440;"},{"type":"text","text":"Be brief."}],
             "messages":[{"role":"user","content":"Hi"}],"thinking":{"type":"adaptive"},"output_config":{"effort":"medium"},"context_management":{"edits":[]}}
            """), TestContext.Current.CancellationToken);
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var events = SseTranscript.Parse(text);
        Assert.Equal(["message_start", "content_block_start", "content_block_delta", "content_block_delta", "content_block_stop", "message_delta", "message_stop"], events.Select(e => e.Name).ToArray());
        Assert.Equal("claude-sonnet-4-6", (string?)events[0].Data["message"]!["model"]);

        var sent = _upstream.LastRequest;
        Assert.Equal("/api/v1/chat/completions", sent.PathAndQuery);
        Assert.Equal("Bearer sk-or-secret-123456", sent.Header("authorization"));
        Assert.Null(sent.Header("x-api-key"));
        var body = JsonNode.Parse(sent.Body)!;
        Assert.Equal("deepseek/deepseek-chat", (string?)body["model"]);
        Assert.Equal(8192, (int)body["max_tokens"]!); // clamped by providers.router.models["deepseek/*"]
        Assert.True((bool)body["stream_options"]!["include_usage"]!);
        Assert.Equal("""{"effort":"medium"}""", body["reasoning"]!.ToJsonString());
        Assert.Equal("Be brief.", (string?)body["messages"]![0]!["content"]);
        Assert.Null(body["context_management"]);

        var record = (await _relay.WaitForUsageAsync(1)).Single();
        Assert.Equal((200, "router", "deepseek/deepseek-chat"), (record.Status, record.Provider, record.UpstreamModel));
        Assert.Equal((200L, 7L, 1000L, 0L), (record.InputTokens, record.OutputTokens, record.CacheReadInputTokens, record.CacheCreationInputTokens));
        Assert.True(record.Streamed);
        Assert.NotNull(record.FirstByteMs);
    }

    [Fact]
    public async Task NonStreaming_ToolCallBecomesAnAnthropicMessage()
    {
        _upstream.Handler = (ctx, _) => Responses.Json(ctx, 200, """
            {"id":"chatcmpl-2","object":"chat.completion","model":"deepseek-chat","choices":[{"index":0,"message":{"role":"assistant","content":null,"reasoning_content":"Need ls.","tool_calls":[{"id":"call_00_x","type":"function","function":{"name":"Bash","arguments":"{\"command\":\"ls\"}"}}]},"finish_reason":"tool_calls"}],
             "usage":{"prompt_tokens":50,"completion_tokens":10,"total_tokens":60,"prompt_cache_hit_tokens":32}}
            """);

        using var response = await _relay.Client.PostAsync("v1/messages", JsonBody.Of("""
            {"model":"claude-sonnet-4-6","max_tokens":100,"messages":[{"role":"user","content":"list"}],"tools":[{"name":"Bash","input_schema":{"type":"object","properties":{"command":{"type":"string"}}}}]}
            """), TestContext.Current.CancellationToken);
        var message = JsonNode.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken))!;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("tool_use", (string?)message["stop_reason"]);
        Assert.Equal(["thinking", "tool_use"], message["content"]!.AsArray().Select(b => (string?)b!["type"]).ToArray());
        Assert.Equal("ls", (string?)message["content"]![1]!["input"]!["command"]);
        var record = (await _relay.WaitForUsageAsync(1)).Single();
        Assert.Equal((18L, 10L, 32L), (record.InputTokens, record.OutputTokens, record.CacheReadInputTokens));
        Assert.False(record.Streamed);
    }

    [Theory]
    [InlineData(429, """{"error":{"message":"Rate limit exceeded: free-models-per-min","code":429}}""", 429, "rate_limit_error", true)]
    [InlineData(401, """{"error":{"message":"No auth credentials found","code":401}}""", 401, "authentication_error", false)]
    [InlineData(400, """{"error":{"message":"This model's maximum context length is 65536 tokens.","type":"invalid_request_error","code":"context_length_exceeded"}}""", 400, "invalid_request_error", false)]
    [InlineData(503, """{"error":"upstream overloaded"}""", 503, "overloaded_error", true)]
    [InlineData(502, "<html>Bad gateway</html>", 502, "api_error", true)]
    public async Task ErrorBeforeTheFirstByte_IsAnOrdinaryAnthropicHttpError(int upstreamStatus, string upstreamBody, int status, string type, bool retryable)
    {
        _upstream.Handler = (ctx, _) => Responses.Json(ctx, upstreamStatus, upstreamBody, new Dictionary<string, string> { ["retry-after"] = "7" });

        using var response = await _relay.Client.PostAsync("v1/messages", JsonBody.Of(JsonBody.Message("claude-sonnet-4-6", stream: true)), TestContext.Current.CancellationToken);
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken))!;

        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("error", (string?)body["type"]);
        Assert.Equal(type, (string?)body["error"]!["type"]);
        Assert.Contains("'router'", (string?)body["error"]!["message"], StringComparison.Ordinal);
        Assert.Equal(retryable, !response.Headers.Contains("x-should-retry"));
        Assert.Equal("7", response.Headers.GetValues("retry-after").Single());
        if (upstreamStatus == 400)
        {
            Assert.StartsWith("prompt is too long", (string?)body["error"]!["message"], StringComparison.Ordinal);
        }

        var record = (await _relay.WaitForUsageAsync(1)).Single();
        Assert.Equal((status, type), (record.Status, record.ErrorType));
    }

    [Fact]
    public async Task UpstreamDropsMidStream_ErrorEventThenTheEnd()
    {
        _upstream.Handler = async (ctx, _) =>
        {
            await OpenAIStream(ctx, [TextChunk("partial")], done: false);
            await Task.Delay(50);
            ctx.Abort();
        };

        using var response = await _relay.Client.PostAsync("v1/messages", JsonBody.Of(JsonBody.Message("claude-sonnet-4-6", stream: true)), TestContext.Current.CancellationToken);
        var events = SseTranscript.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("error", events[^1].Name);
        Assert.Equal("api_error", (string?)events[^1].Data["error"]!["type"]);
        Assert.DoesNotContain(events, e => e.Name == "message_stop");
        var record = (await _relay.WaitForUsageAsync(1)).Single();
        Assert.Equal("api_error", record.ErrorType);
    }

    [Fact]
    public async Task LongUpstreamSilence_ClientGetsPings()
    {
        _upstream.Handler = async (ctx, _) =>
        {
            await OpenAIStream(ctx, [TextChunk("thinking hard")], done: false);
            await Task.Delay(TimeSpan.FromMilliseconds(2300), ctx.RequestAborted);
            await ctx.Response.WriteAsync($"data: {TextChunk(".", "stop")}\n\ndata: {UsageChunk}\n\ndata: [DONE]\n\n", ctx.RequestAborted);
        };

        using var response = await _relay.Client.PostAsync("v1/messages", JsonBody.Of(JsonBody.Message("claude-sonnet-4-6", stream: true)), TestContext.Current.CancellationToken);
        var events = SseTranscript.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));

        Assert.True(events.Count(e => e.Name == "ping") >= 1, string.Join('\n', events.Select(e => e.Name)));
        Assert.Equal("message_stop", events[^1].Name);
    }

    [Fact]
    public async Task ClientDisconnect_CancelsTheUpstreamRequest()
    {
        var upstreamAborted = new TaskCompletionSource();
        _upstream.Handler = async (ctx, _) =>
        {
            ctx.RequestAborted.Register(() => upstreamAborted.TrySetResult());
            try
            {
                await OpenAIStream(ctx, Enumerable.Range(0, 200).Select(i => TextChunk($"w{i} ")), TimeSpan.FromMilliseconds(50));
            }
            catch (OperationCanceledException)
            {
            }
        };

        using (var request = new HttpRequestMessage(HttpMethod.Post, "v1/messages") { Content = JsonBody.Of(JsonBody.Message("claude-sonnet-4-6", stream: true)) })
        using (var response = await _relay.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, TestContext.Current.CancellationToken))
        {
            await using var body = await response.Content.ReadAsStreamAsync(TestContext.Current.CancellationToken);
            Assert.True(await body.ReadAsync(new byte[4096], TestContext.Current.CancellationToken) > 0);
        }

        var finished = await Task.WhenAny(upstreamAborted.Task, Task.Delay(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken));
        Assert.Same(upstreamAborted.Task, finished);
        var record = (await _relay.WaitForUsageAsync(1)).Single();
        Assert.Equal(499, record.Status);
    }

    [Fact]
    public async Task MessageStart_IsSentBeforeTheProvidersFirstChunk()
    {
        var release = new TaskCompletionSource();
        _upstream.Handler = async (ctx, _) =>
        {
            ctx.Response.StatusCode = 200;
            ctx.Response.ContentType = "text/event-stream";
            await ctx.Response.StartAsync(ctx.RequestAborted);
            await ctx.Response.Body.FlushAsync(ctx.RequestAborted);
            await release.Task.WaitAsync(TimeSpan.FromSeconds(10), ctx.RequestAborted);
            await OpenAIStream(ctx, [TextChunk("x", "stop")]);
        };

        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/messages") { Content = JsonBody.Of(JsonBody.Message("claude-sonnet-4-6", stream: true)) };
        using var response = await _relay.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, TestContext.Current.CancellationToken);
        await using var body = await response.Content.ReadAsStreamAsync(TestContext.Current.CancellationToken);
        var buffer = new byte[4096];
        var read = await body.ReadAsync(buffer, TestContext.Current.CancellationToken);
        release.SetResult();

        Assert.StartsWith("event: message_start\n", Encoding.UTF8.GetString(buffer, 0, read), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bug06_CountTokens_IsALocalEstimate_AndSurvivesABurstOf25()
    {
        var started = Stopwatch.GetTimestamp();
        var tasks = Enumerable.Range(0, 25).Select(async i =>
        {
            using var response = await _relay.Client.PostAsync("v1/messages/count_tokens?beta=true", JsonBody.Of("""
                {"model":"claude-sonnet-4-6","messages":[{"role":"user","content":"The quick brown fox jumps over the lazy dog @@I@@"}],
                 "tools":[{"name":"Read","description":"Reads a file","input_schema":{"type":"object","properties":{"file_path":{"type":"string"}}}}]}
                """.Replace("@@I@@", i.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal)), TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return (long)JsonNode.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken))!["input_tokens"]!;
        });
        var counts = await Task.WhenAll(tasks);

        Assert.All(counts, c => Assert.InRange(c, 30, 80));
        Assert.Empty(_upstream.Requests); // nothing was sent to the provider
        Assert.True(Stopwatch.GetElapsedTime(started) < TimeSpan.FromSeconds(10));
        var records = await _relay.WaitForUsageAsync(25);
        Assert.All(records, r => Assert.Equal(("count_tokens", 200, 0L), (r.Endpoint, r.Status, r.InputTokens)));
    }

    [Fact]
    public async Task ProviderIgnoresStreamTrue_JsonAnswerIsStillAValidStream()
    {
        _upstream.Handler = (ctx, _) => Responses.Json(ctx, 200, """
            {"id":"x","choices":[{"index":0,"message":{"role":"assistant","content":"whole"},"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":1}}
            """);

        using var response = await _relay.Client.PostAsync("v1/messages", JsonBody.Of(JsonBody.Message("claude-sonnet-4-6", stream: true)), TestContext.Current.CancellationToken);
        var events = SseTranscript.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));

        Assert.Equal("whole", (string?)events.Single(e => e.Name == "content_block_delta").Data["delta"]!["text"]);
        Assert.Equal("message_stop", events[^1].Name);
    }

    [Theory]
    [InlineData("claude-code-2.1.330-tool-followup.json")]
    [InlineData("claude-code-2.1.330-interactive-automode.json")]
    [InlineData("claude-code-2.1.330-title-smallfast.json")]
    public async Task RealClaudeCodeRequests_AreAcceptedAndTranslated(string fixture)
    {
        var original = JsonNode.Parse(File.ReadAllText(FindFixture(fixture)))!.AsObject();
        original["model"] = "claude-sonnet-4-6";
        _upstream.Handler = (ctx, _) => OpenAIStream(ctx, [TextChunk("ok", "stop"), UsageChunk]);

        using var response = await _relay.Client.PostAsync("v1/messages?beta=true", JsonBody.Of(original.ToJsonString()), TestContext.Current.CancellationToken);
        var events = SseTranscript.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("message_stop", events[^1].Name);
        var sent = JsonNode.Parse(_upstream.LastRequest.Body)!.AsObject();
        // Only fields the provider knows: context_management, safeguards, output_config, metadata, thinking never go out.
        Assert.Equal(["model", "messages", "max_tokens", "stream", "stream_options", "user"],
            sent.Where(p => p.Key is not ("tools" or "response_format" or "reasoning")).Select(p => p.Key).ToArray());
        Assert.Equal(original["thinking"] is not null, sent["reasoning"] is not null);
        Assert.Equal("system", (string?)sent["messages"]![0]!["role"]);
        Assert.DoesNotContain(sent["messages"]!.AsArray().Skip(1), m => (string?)m!["role"] == "system");
    }

    private static string FindFixture(string name)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "tests", "Relay.Protocol.Tests", "Fixtures", name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new FileNotFoundException(name);
    }

    [Theory]
    [InlineData("""{"type":"openai","baseUrl":"http://x/v1","preset":"openrouterx"}""", "key providers.p.preset: 'openrouterx' is not one of openai, openrouter")]
    [InlineData("""{"type":"anthropic","baseUrl":"http://x","apiKey":"k","preset":"openai"}""", "key providers.p.preset: applies only to \"type\": \"openai\" providers")]
    [InlineData("""{"type":"openai","baseUrl":"http://x/v1","apiKey":"passthrough"}""", "key providers.p.apiKey: \"passthrough\" is only for anthropic providers")]
    [InlineData("""{"type":"openai","preset":"ollama"}""", "key providers.p.baseUrl: is required for an openai provider")]
    [InlineData("""{"type":"openai","baseUrl":"http://x/v1","models":{"m":{"maxTokens":0}}}""", "key providers.p.models.m.maxTokens: must be a positive number")]
    [InlineData("""{"type":"openai","baseUrl":"http://x/v1","models":{"m":{"maxTokenz":10}}}""", "maxTokenz: unknown setting")]
    public void Config_OpenAIProviderSettingsAreValidatedWithClearErrors(string provider, string expected)
    {
        var text = """{"providers":{"p":@@P@@},"models":{"a":{"routes":["p/m"]}}}""".Replace("@@P@@", provider, StringComparison.Ordinal);

        var error = Assert.Throws<ConfigException>(() =>
        {
            var config = ConfigLoader.Parse(text, "relay.json", _ => null);
            ConfigValidator.Validate(config, "relay.json");
        });

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }
}
