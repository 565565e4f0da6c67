using System.ClientModel;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using OpenAI;
using OpenAI.Chat;
using Relay.Configuration;
using Relay.Tests.Infrastructure;

namespace Relay.Tests;

/// <summary>
/// The OpenAI Chat Completions door, <c>POST /v1/chat/completions</c>: the same keys, routes and usage records as
/// <c>/v1/messages</c>, with OpenAI's wire format in and out, over real Kestrel; the official OpenAI .NET SDK included.
/// </summary>
public sealed class ChatCompletionsDoorTests : IAsyncLifetime
{
    private FakeUpstream _anthropic = null!;
    private FakeUpstream _openai = null!;
    private RelayTestServer _relay = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _anthropic = await FakeUpstream.StartAsync();
        _openai = await FakeUpstream.StartAsync();
        var config = RelayTestServer.DefaultConfig(_anthropic.BaseUrl); // claude-sonnet-4-6 → up/upstream-sonnet; claude-haiku-* → mock
        config.Providers["station"] = new ProviderConfig { Type = "openai", BaseUrl = _openai.BaseUrl + "/v1", ApiKey = "sk-station-0123456789" };
        config.Models["house-model"] = new ModelConfig { Routes = ["station/house-chat-v2"] };
        config.Models["limited"] = new ModelConfig { Routes = ["up/limited-upstream"], MaxAttempts = 1 };
        _relay = await RelayTestServer.StartAsync(config);
    }

    public async ValueTask DisposeAsync()
    {
        await _relay.DisposeAsync();
        await _anthropic.DisposeAsync();
        await _openai.DisposeAsync();
    }

    [Fact]
    public async Task Streaming_ThroughAnAnthropicProvider_IsTranslatedBothWays_AndRecorded()
    {
        _anthropic.Handler = (ctx, _) => Responses.Stream(ctx, Responses.StreamEvents(["Hello ", "from Claude"], input: 40, output: 6, cacheRead: 100));

        using var response = await Post("""
            {"model":"claude-sonnet-4-6","stream":true,"stream_options":{"include_usage":true},
             "messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hi"}]}
            """);
        var text = await response.Content.ReadAsStringAsync(Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var chunks = Chunks(text);
        Assert.Equal("Hello from Claude", string.Concat(chunks.Select(c => (string?)c["choices"]?.AsArray().FirstOrDefault()?["delta"]?["content"])));
        Assert.Equal("stop", chunks.Select(c => (string?)c["choices"]?.AsArray().FirstOrDefault()?["finish_reason"]).Last(f => f is not null));
        var usage = chunks[^1]["usage"]!;
        Assert.Equal(140, (int)usage["prompt_tokens"]!); // input plus cache reads, as OpenAI counts prompt tokens
        Assert.Equal(100, (int)usage["prompt_tokens_details"]!["cached_tokens"]!);
        Assert.Equal(6, (int)usage["completion_tokens"]!);
        Assert.EndsWith("data: [DONE]\n\n", text, StringComparison.Ordinal);

        var sent = JsonNode.Parse(_anthropic.LastRequest.Body)!;
        Assert.Equal("/v1/messages", _anthropic.LastRequest.PathAndQuery);
        Assert.Equal("upstream-sonnet", (string?)sent["model"]);
        Assert.Contains("Be brief.", sent["system"]!.ToJsonString(), StringComparison.Ordinal);
        Assert.Equal("sk-upstream-secret-123456", _anthropic.LastRequest.Header("x-api-key"));

        var record = Assert.Single(await _relay.WaitForUsageAsync(1));
        Assert.Equal(("chat.completions", 200, 40L, 100L, 6L), (record.Endpoint, record.Status, record.InputTokens, record.CacheReadInputTokens, record.OutputTokens));
        Assert.True(record.Streamed);
    }

    [Fact]
    public async Task WholeAnswer_ThroughAnAnthropicProvider_IsOneChatCompletion()
    {
        _anthropic.Handler = (ctx, _) => Responses.Json(ctx, 200, Responses.MessageJson("Whole answer", input: 12, output: 3));

        using var response = await Post("""{"model":"claude-sonnet-4-6","messages":[{"role":"user","content":"Hi"}]}""");
        var completion = JsonNode.Parse(await response.Content.ReadAsStringAsync(Ct))!;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("chat.completion", (string?)completion["object"]);
        Assert.Equal("claude-sonnet-4-6", (string?)completion["model"]);
        Assert.Equal("Whole answer", (string?)completion["choices"]![0]!["message"]!["content"]);
        Assert.Equal("assistant", (string?)completion["choices"]![0]!["message"]!["role"]);
        Assert.Equal((12, 3), ((int)completion["usage"]!["prompt_tokens"]!, (int)completion["usage"]!["completion_tokens"]!));
        Assert.False((bool)JsonNode.Parse(_anthropic.LastRequest.Body)!["stream"]!);
    }

    [Fact]
    public async Task ToolCalls_FromAnAnthropicProvider_ReachTheClientAsToolCalls_AndResultsGoBack()
    {
        _anthropic.Handler = (ctx, request) => JsonNode.Parse(request.Body)!["messages"]!.AsArray().Count > 1
            ? Responses.Stream(ctx, Responses.StreamEvents(["It is sunny."]))
            : Responses.Stream(ctx, ClaudeCode.ToolUseStream("toolu_01weather", "get_weather", new JsonObject { ["city"] = "Paris" }));
        const string tools = """[{"type":"function","function":{"name":"get_weather","description":"Weather by city","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}]""";

        using var first = await Post($$"""{"model":"claude-sonnet-4-6","stream":true,"tools":{{tools}},"messages":[{"role":"user","content":"Weather in Paris?"}]}""");
        var chunks = Chunks(await first.Content.ReadAsStringAsync(Ct));
        var calls = chunks.SelectMany(c => c["choices"]?.AsArray() ?? []).Select(c => c!["delta"]?["tool_calls"]?[0]).Where(c => c is not null).ToList();
        var id = (string?)calls[0]!["id"];
        Assert.Equal("get_weather", (string?)calls[0]!["function"]!["name"]);
        Assert.Equal("""{"city":"Paris"}""", string.Concat(calls.Select(c => (string?)c!["function"]?["arguments"])));
        Assert.Equal("tool_calls", chunks.Select(c => (string?)c["choices"]?.AsArray().FirstOrDefault()?["finish_reason"]).Last(f => f is not null));

        using var second = await Post($$$"""
            {"model":"claude-sonnet-4-6","stream":true,"tools":{{{tools}}},"messages":[
              {"role":"user","content":"Weather in Paris?"},
              {"role":"assistant","content":null,"tool_calls":[{"id":"{{{id}}}","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},
              {"role":"tool","tool_call_id":"{{{id}}}","content":"sunny, 24 C"}]}
            """);
        Assert.Contains("It is sunny.", await second.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        var history = JsonNode.Parse(_anthropic.LastRequest.Body)!["messages"]!.AsArray();
        Assert.Equal("toolu_01weather", (string?)history[1]!["content"]![0]!["id"]);
        Assert.Equal("toolu_01weather", (string?)history[2]!["content"]![0]!["tool_use_id"]);
    }

    [Fact]
    public async Task ThroughAnOpenAIProvider_AndTheMockProvider_TheAnswerComesBack()
    {
        _openai.Handler = (ctx, _) => OpenAIUpstreamTests.OpenAIStream(ctx, [OpenAIUpstreamTests.TextChunk("from "), OpenAIUpstreamTests.TextChunk("the station", "stop"), OpenAIUpstreamTests.UsageChunk]);

        using var station = await Post("""{"model":"house-model","stream":true,"messages":[{"role":"user","content":"Hi"}]}""");
        using var mock = await Post("""{"model":"claude-haiku-4-5","messages":[{"role":"user","content":"Hi"}]}""");

        Assert.Equal("from the station", string.Concat(Chunks(await station.Content.ReadAsStringAsync(Ct))
            .Select(c => (string?)c["choices"]?.AsArray().FirstOrDefault()?["delta"]?["content"])));
        Assert.Equal("house-chat-v2", (string?)JsonNode.Parse(_openai.LastRequest.Body)!["model"]);
        var whole = JsonNode.Parse(await mock.Content.ReadAsStringAsync(Ct))!;
        Assert.Equal(HttpStatusCode.OK, mock.StatusCode);
        Assert.False(string.IsNullOrEmpty((string?)whole["choices"]![0]!["message"]!["content"]));
    }

    [Fact]
    public async Task ToAnOpenAIProvider_TheClientsOwnBodyGoesOn_AndTheStreamComesBackAsWritten()
    {
        const string usageChunk = """{"id":"c1","object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":50,"completion_tokens":4,"total_tokens":54,"prompt_tokens_details":{"cached_tokens":30}}}""";
        string[] events =
        [
            ": OPENROUTER PROCESSING\n\n",
            "data: " + OpenAIUpstreamTests.TextChunk("raw ") + "\n\n",
            "data:" + OpenAIUpstreamTests.TextChunk("bytes", "stop") + "\r\n\r\n",
            "data: " + usageChunk + "\n\n",
            "data: [DONE]\n\n",
        ];
        _openai.Handler = (ctx, _) => Responses.Stream(ctx, events, TimeSpan.FromMilliseconds(5));
        const string body = """{"model":"house-model","stream":true,"temperature":0.3,"x_vendor_option":{"keep":"me"},"messages":[{"role":"user","content":"Hi"}]}""";

        using var response = await Post(body);
        var text = await response.Content.ReadAsStringAsync(Ct);

        // The provider's bytes, comment and CRLF included; only the usage chunk the client did not ask for is left out.
        Assert.Equal(string.Concat(events[0], events[1], events[2], events[4]), text);
        var sent = JsonNode.Parse(_openai.LastRequest.Body)!.AsObject();
        Assert.Equal("house-chat-v2", (string?)sent["model"]);
        Assert.Equal(0.3, (double)sent["temperature"]!);
        Assert.Equal("""{"keep":"me"}""", sent["x_vendor_option"]!.ToJsonString());
        Assert.True((bool)sent["stream_options"]!["include_usage"]!);
        Assert.Equal("Bearer sk-station-0123456789", _openai.LastRequest.Header("authorization"));
        var record = Assert.Single(await _relay.WaitForUsageAsync(1));
        Assert.Equal(("chat.completions", "station", 20L, 30L, 4L), (record.Endpoint, record.Provider, record.InputTokens, record.CacheReadInputTokens, record.OutputTokens));
    }

    [Fact]
    public async Task ToAnOpenAIProvider_UsageAskedFor_IsForwarded_AndErrorsComeBackAsTheProviderWroteThem()
    {
        _openai.Handler = (ctx, _) => OpenAIUpstreamTests.OpenAIStream(ctx, [OpenAIUpstreamTests.TextChunk("hi", "stop"), OpenAIUpstreamTests.UsageChunk]);
        using var withUsage = await Post("""{"model":"house-model","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"Hi"}]}""");
        Assert.Contains("\"prompt_tokens\":1200", await withUsage.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);

        const string refusal = """{"error":{"message":"This model's maximum context length is 8192 tokens.","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}}""";
        _openai.Handler = (ctx, _) => Responses.Json(ctx, 400, refusal);
        using var refused = await Post("""{"model":"house-model","messages":[{"role":"user","content":"Hi"}]}""");
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Equal(refusal, await refused.Content.ReadAsStringAsync(Ct));

        _openai.Handler = (ctx, _) => OpenAIUpstreamTests.OpenAIStream(ctx, [OpenAIUpstreamTests.TextChunk("cut")], done: false);
        using var cut = await Post("""{"model":"house-model","stream":true,"messages":[{"role":"user","content":"Hi"}]}""");
        var chunks = Chunks(await cut.Content.ReadAsStringAsync(Ct));
        Assert.Contains("ended before the answer was finished", (string?)chunks[^1]["error"]!["message"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Errors_AreOpenAIShaped_WithTheRightStatus_AndARequestId()
    {
        using var anonymous = new HttpClient { BaseAddress = new Uri(_relay.BaseUrl + "/") };
        using var noKey = await anonymous.PostAsync("v1/chat/completions", JsonBody.Of("""{"model":"claude-sonnet-4-6","messages":[]}"""), Ct);
        await AssertOpenAIError(noKey, HttpStatusCode.Unauthorized, "authentication_error");

        using var twoChoices = await Post("""{"model":"claude-sonnet-4-6","n":2,"messages":[{"role":"user","content":"Hi"}]}""");
        var error = await AssertOpenAIError(twoChoices, HttpStatusCode.BadRequest, "invalid_request_error");
        Assert.Equal("n", (string?)error["param"]);

        using var unknown = await Post("""{"model":"no-such-model","messages":[{"role":"user","content":"Hi"}]}""");
        await AssertOpenAIError(unknown, HttpStatusCode.NotFound, "invalid_request_error");

        _anthropic.Handler = (ctx, _) => Responses.Json(ctx, 429, Responses.ErrorJson("rate_limit_error", "Number of requests has exceeded your rate limit"),
            new Dictionary<string, string> { ["retry-after"] = "7" });
        using var limited = await Post("""{"model":"limited","messages":[{"role":"user","content":"Hi"}]}""");
        var limitError = await AssertOpenAIError(limited, HttpStatusCode.TooManyRequests, "rate_limit_error");
        Assert.Contains("exceeded your rate limit", (string?)limitError["message"], StringComparison.Ordinal);
        Assert.Equal("7", limited.Headers.GetValues("retry-after").Single());
    }

    [Fact]
    public async Task OfficialOpenAISdk_CompletesAndStreams_AndSeesTypedErrors()
    {
        _anthropic.Handler = (ctx, request) => (bool?)JsonNode.Parse(request.Body)!["stream"] == true
            ? Responses.Stream(ctx, Responses.StreamEvents(["streamed ", "through Relay"]))
            : Responses.Json(ctx, 200, Responses.MessageJson("completed through Relay"));
        var client = new ChatClient("claude-sonnet-4-6", new ApiKeyCredential(_relay.Key),
            new OpenAIClientOptions { Endpoint = new Uri(_relay.BaseUrl + "/v1"), NetworkTimeout = TimeSpan.FromSeconds(20) });

        ChatCompletion completion = await client.CompleteChatAsync([new UserChatMessage("Hello from the OpenAI SDK")], cancellationToken: Ct);
        Assert.Equal("completed through Relay", completion.Content[0].Text);
        Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);

        var streamed = new List<string>();
        await foreach (var update in client.CompleteChatStreamingAsync([new UserChatMessage("Stream please")], cancellationToken: Ct))
        {
            streamed.AddRange(update.ContentUpdate.Select(part => part.Text));
        }

        Assert.Equal("streamed through Relay", string.Concat(streamed));

        var models = new OpenAI.Models.OpenAIModelClient(new ApiKeyCredential(_relay.Key), new OpenAIClientOptions { Endpoint = new Uri(_relay.BaseUrl + "/v1") });
        var listed = (await models.GetModelsAsync(Ct)).Value;
        Assert.Contains(listed, m => m.Id == "claude-sonnet-4-6" && m.OwnedBy == "relay");

        var badKey = new ChatClient("claude-sonnet-4-6", new ApiKeyCredential("sk-relay-not-a-real-key"),
            new OpenAIClientOptions { Endpoint = new Uri(_relay.BaseUrl + "/v1") });
        var refused = await Assert.ThrowsAsync<ClientResultException>(() => badKey.CompleteChatAsync([new UserChatMessage("Hi")], cancellationToken: Ct));
        Assert.Equal(401, refused.Status);
    }

    private async Task<HttpResponseMessage> Post(string body)
    {
        using var client = _relay.CreateClient(_relay.Key, bearer: true);
        return await client.PostAsync("v1/chat/completions", JsonBody.Of(body), Ct);
    }

    private static List<JsonNode> Chunks(string sse) =>
        sse.Split("\n\n", StringSplitOptions.RemoveEmptyEntries)
            .Where(e => e.StartsWith("data: ", StringComparison.Ordinal) && e != "data: [DONE]")
            .Select(e => JsonNode.Parse(e["data: ".Length..])!)
            .ToList();

    private static async Task<JsonNode> AssertOpenAIError(HttpResponseMessage response, HttpStatusCode status, string type)
    {
        var body = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(status == response.StatusCode, $"expected {(int)status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        AnthropicAssert.HasRelayRequestId(response);
        var error = JsonNode.Parse(body)!["error"]!;
        Assert.Equal(type, (string?)error["type"]);
        Assert.False(string.IsNullOrEmpty((string?)error["message"]));
        Assert.True(error.AsObject().ContainsKey("param") && error.AsObject().ContainsKey("code"));
        return error;
    }
}
