using System.Net;
using System.Text.Json.Nodes;
using Relay.Configuration;
using Relay.Tests.Infrastructure;

namespace Relay.Tests;

/// <summary>
/// The OpenAI Responses door, <c>POST /v1/responses</c> (what the Codex CLI sends): the same keys, routes and usage
/// records as <c>/v1/messages</c>, with Responses events and objects out and OpenAI-shaped errors, over real Kestrel.
/// </summary>
public sealed class ResponsesDoorTests : IAsyncLifetime
{
    private const string Tools = """[{"type":"function","name":"shell","description":"Runs a command","parameters":{"type":"object","properties":{"command":{"type":"array","items":{"type":"string"}}},"required":["command"]}}]""";

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
        config.Providers["codex"] = new ProviderConfig { Type = "openai-responses", BaseUrl = _openai.BaseUrl + "/v1", ApiKey = "sk-codex-0123456789" };
        config.Models["codex-model"] = new ModelConfig { Routes = ["codex/gpt-5.3-codex"] };
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
    public async Task Streaming_TextAndAToolCall_FromAnAnthropicProvider_BecomeResponsesEvents_AndAreRecorded()
    {
        _anthropic.Handler = (ctx, _) => Responses.Stream(ctx, TextThenToolUse("Let me look. ", "toolu_01listing", "shell", """{"command":["ls","-la"]}"""));

        using var response = await Post($$"""
            {"model":"claude-sonnet-4-6","stream":true,"store":false,"instructions":"You are a coding agent.","tools":{{Tools}},
             "input":[{"type":"message","role":"user","content":[{"type":"input_text","text":"List the files"}]}]}
            """);
        var text = await response.Content.ReadAsStringAsync(Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var events = Events(text);
        Assert.Equal("response.created", events[0].Name);
        Assert.Equal(Enumerable.Range(0, events.Count), events.Select(e => (int)e.Data["sequence_number"]!));
        Assert.Equal("Let me look. ", string.Concat(events.Where(e => e.Name == "response.output_text.delta").Select(e => (string?)e.Data["delta"])));
        Assert.Equal("""{"command":["ls","-la"]}""", string.Concat(events.Where(e => e.Name == "response.function_call_arguments.delta").Select(e => (string?)e.Data["delta"])));
        var call = events.Where(e => e.Name == "response.output_item.done").Select(e => e.Data["item"]!).Single(i => (string?)i["type"] == "function_call");
        Assert.Equal(("toolu_01listing", "shell"), ((string?)call["call_id"], (string?)call["name"]));

        var (last, completed) = events[^1];
        Assert.Equal("response.completed", last);
        Assert.Equal("completed", (string?)completed["response"]!["status"]);
        var usage = completed["response"]!["usage"]!;
        Assert.Equal((40, 17), ((int)usage["input_tokens"]!, (int)usage["output_tokens"]!));

        var sent = JsonNode.Parse(_anthropic.LastRequest.Body)!;
        Assert.Equal("upstream-sonnet", (string?)sent["model"]);
        Assert.Contains("You are a coding agent.", sent["system"]!.ToJsonString(), StringComparison.Ordinal);
        Assert.Equal("shell", (string?)sent["tools"]![0]!["name"]);

        var record = Assert.Single(await _relay.WaitForUsageAsync(1));
        Assert.Equal(("responses", 200, 40L, 17L), (record.Endpoint, record.Status, record.InputTokens, record.OutputTokens));
        Assert.True(record.Streamed);
    }

    [Fact]
    public async Task WholeAnswer_FromAnAnthropicProvider_IsOneResponseObject()
    {
        _anthropic.Handler = (ctx, _) => Responses.Json(ctx, 200, Responses.MessageJson("Whole answer", input: 12, output: 3));

        using var response = await Post("""{"model":"claude-sonnet-4-6","input":"Hi"}""");
        var body = await response.Content.ReadAsStringAsync(Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var answer = JsonNode.Parse(body)!;
        Assert.Equal(("response", "completed"), ((string?)answer["object"], (string?)answer["status"]));
        Assert.StartsWith("resp_", (string?)answer["id"], StringComparison.Ordinal);
        var message = answer["output"]!.AsArray().Single(i => (string?)i!["type"] == "message")!;
        Assert.Equal("Whole answer", (string?)message["content"]![0]!["text"]);
        Assert.Equal((12, 3), ((int)answer["usage"]!["input_tokens"]!, (int)answer["usage"]!["output_tokens"]!));
        Assert.False((bool)JsonNode.Parse(_anthropic.LastRequest.Body)!["stream"]!);

        var record = Assert.Single(await _relay.WaitForUsageAsync(1));
        Assert.Equal(("responses", 200, 12L, 3L), (record.Endpoint, record.Status, record.InputTokens, record.OutputTokens));
        Assert.False(record.Streamed);
    }

    [Fact]
    public async Task FunctionCallOutput_ReachesTheProviderAsAToolResult_WithTheSameId()
    {
        _anthropic.Handler = (ctx, _) => Responses.Stream(ctx, Responses.StreamEvents(["Two files."]));

        using var response = await Post($$"""
            {"model":"claude-sonnet-4-6","stream":true,"tools":{{Tools}},"input":[
              {"type":"message","role":"user","content":[{"type":"input_text","text":"List the files"}]},
              {"type":"function_call","call_id":"toolu_01listing","name":"shell","arguments":"{\"command\":[\"ls\"]}"},
              {"type":"function_call_output","call_id":"toolu_01listing","output":"a.txt\nb.txt"}]}
            """);

        Assert.Contains("Two files.", await response.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        var history = JsonNode.Parse(_anthropic.LastRequest.Body)!["messages"]!.AsArray();
        var toolUse = history[1]!["content"]!.AsArray().Single(b => (string?)b!["type"] == "tool_use")!;
        Assert.Equal(("toolu_01listing", "shell"), ((string?)toolUse["id"], (string?)toolUse["name"]));
        var toolResult = history[2]!["content"]!.AsArray().Single(b => (string?)b!["type"] == "tool_result")!;
        Assert.Equal("toolu_01listing", (string?)toolResult["tool_use_id"]);
        Assert.Contains("a.txt", toolResult["content"]!.ToJsonString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ThroughAnOpenAIProvider_AndTheMockProvider_TheAnswerComesBack()
    {
        _openai.Handler = (ctx, _) => OpenAIUpstreamTests.OpenAIStream(ctx, [OpenAIUpstreamTests.TextChunk("from "), OpenAIUpstreamTests.TextChunk("the station", "stop"), OpenAIUpstreamTests.UsageChunk]);

        using var station = await Post("""{"model":"house-model","stream":true,"input":"Hi"}""");
        using var mock = await Post("""{"model":"claude-haiku-4-5","input":"Hi"}""");
        using var mockStream = await Post("""{"model":"claude-haiku-4-5","stream":true,"input":"Hi"}""");

        var stationEvents = Events(await station.Content.ReadAsStringAsync(Ct));
        Assert.Equal("from the station", string.Concat(stationEvents.Where(e => e.Name == "response.output_text.delta").Select(e => (string?)e.Data["delta"])));
        Assert.Equal("response.completed", stationEvents[^1].Name);
        Assert.Equal(7, (int)stationEvents[^1].Data["response"]!["usage"]!["output_tokens"]!);
        Assert.Equal("house-chat-v2", (string?)JsonNode.Parse(_openai.LastRequest.Body)!["model"]);

        var whole = JsonNode.Parse(await mock.Content.ReadAsStringAsync(Ct))!;
        Assert.Equal(HttpStatusCode.OK, mock.StatusCode);
        Assert.Equal("completed", (string?)whole["status"]);
        Assert.False(string.IsNullOrEmpty((string?)whole["output"]!.AsArray().Single(i => (string?)i!["type"] == "message")!["content"]![0]!["text"]));
        Assert.Equal("response.completed", Events(await mockStream.Content.ReadAsStringAsync(Ct))[^1].Name);
    }

    [Fact]
    public async Task UnderTheBasePath_TheDoorAnswers()
    {
        var config = RelayTestServer.DefaultConfig(null);
        config.BasePath = "/gateway";
        await using var relay = await RelayTestServer.StartAsync(config);
        using var client = relay.CreateClient(relay.Key, bearer: true);

        using var response = await client.PostAsync("v1/responses", JsonBody.Of("""{"model":"claude-haiku-4-5","input":"Hi"}"""), Ct);

        Assert.EndsWith("/gateway", relay.BaseUrl, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("response", (string?)JsonNode.Parse(await response.Content.ReadAsStringAsync(Ct))!["object"]);
    }

    [Fact]
    public async Task Errors_AreOpenAIShaped_WithTheRightStatus_AndARequestId()
    {
        using var anonymous = new HttpClient { BaseAddress = new Uri(_relay.BaseUrl + "/") };
        using var noKey = await anonymous.PostAsync("v1/responses", JsonBody.Of("""{"model":"claude-sonnet-4-6","input":"Hi"}"""), Ct);
        await AssertOpenAIError(noKey, HttpStatusCode.Unauthorized, "authentication_error");

        using var stateful = await Post("""{"model":"claude-sonnet-4-6","previous_response_id":"resp_123","input":"Hi"}""");
        var error = await AssertOpenAIError(stateful, HttpStatusCode.BadRequest, "invalid_request_error");
        Assert.Equal("previous_response_id", (string?)error["param"]);
        Assert.Contains("previous_response_id", (string?)error["message"], StringComparison.Ordinal);

        using var unknown = await Post("""{"model":"no-such-model","input":"Hi"}""");
        await AssertOpenAIError(unknown, HttpStatusCode.NotFound, "invalid_request_error");
        Assert.Empty(_anthropic.Requests); // refused before any provider was asked

        _anthropic.Handler = (ctx, _) => Responses.Json(ctx, 429, Responses.ErrorJson("rate_limit_error", "Number of requests has exceeded your rate limit"),
            new Dictionary<string, string> { ["retry-after"] = "7" });
        using var limited = await Post("""{"model":"limited","stream":true,"input":"Hi"}""");
        var limitError = await AssertOpenAIError(limited, HttpStatusCode.TooManyRequests, "rate_limit_error");
        Assert.Contains("exceeded your rate limit", (string?)limitError["message"], StringComparison.Ordinal);
        Assert.Equal("7", limited.Headers.GetValues("retry-after").Single());
    }

    [Fact]
    public async Task AStreamThatBreaksAfterItBegan_EndsWithResponseFailed()
    {
        var events = TextThenToolUse("Partial ", "toolu_01x", "shell", "{}").Take(4); // message_start, text block start and delta, then the connection ends
        _anthropic.Handler = (ctx, _) => Responses.Stream(ctx, events);

        using var response = await Post("""{"model":"claude-sonnet-4-6","stream":true,"input":"Hi"}""");
        var received = Events(await response.Content.ReadAsStringAsync(Ct));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains(received, e => e.Name == "response.output_text.delta");
        var (name, failed) = received[^1];
        Assert.Equal("response.failed", name);
        Assert.Equal("failed", (string?)failed["response"]!["status"]);
        Assert.Contains("ended before the answer was finished", (string?)failed["response"]!["error"]!["message"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task AStreamStillOpenWhenRelayStops_EndsWithResponseFailed_SayingSo()
    {
        await using var upstream = await FakeUpstream.StartAsync();
        upstream.Handler = async (ctx, _) =>
        {
            await Responses.Stream(ctx, Responses.StreamEvents(["begun ", "never finished"]).Take(4));
            await Task.Delay(TimeSpan.FromSeconds(60), ctx.RequestAborted);
        };
        var config = RelayTestServer.DefaultConfig(upstream.BaseUrl);
        config.ShutdownDrainSeconds = 1;
        await using var relay = await RelayTestServer.StartAsync(config);
        using var client = relay.CreateClient(relay.Key, bearer: true);
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/responses") { Content = JsonBody.Of("""{"model":"claude-sonnet-4-6","stream":true,"input":"Hi"}""") };
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, Ct);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(Ct));
        while (await reader.ReadLineAsync(Ct) is { } line && !line.StartsWith("event: response.output_text.delta", StringComparison.Ordinal))
        {
        }

        await relay.StopAsync();
        var (name, failed) = Events(await reader.ReadToEndAsync(Ct))[^1];

        Assert.Equal("response.failed", name);
        Assert.Equal("server_is_overloaded", (string?)failed["response"]!["error"]!["code"]);
        Assert.Contains("shutting down", (string?)failed["response"]!["error"]!["message"], StringComparison.Ordinal);
    }

    /// <summary>An Anthropic stream with a text block, then a tool call whose input arrives in two pieces.</summary>
    internal static IReadOnlyList<string> TextThenToolUse(string text, string toolUseId, string tool, string inputJson)
    {
        var half = inputJson.Length / 2;
        return
        [
            Responses.SseEvent("message_start", """{"type":"message_start","message":{"id":"msg_mix_1","type":"message","role":"assistant","model":"upstream-model","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":40,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":1}}}"""),
            Responses.SseEvent("content_block_start", """{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"""),
            Responses.SseEvent("content_block_delta", $$$"""{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":{{{System.Text.Json.JsonSerializer.Serialize(text)}}}}}"""),
            Responses.SseEvent("content_block_stop", """{"type":"content_block_stop","index":0}"""),
            Responses.SseEvent("content_block_start", $$$$"""{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"{{{{toolUseId}}}}","name":"{{{{tool}}}}","input":{}}}"""),
            Responses.SseEvent("content_block_delta", $$$"""{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":{{{System.Text.Json.JsonSerializer.Serialize(inputJson[..half])}}}}}"""),
            Responses.SseEvent("content_block_delta", $$$"""{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":{{{System.Text.Json.JsonSerializer.Serialize(inputJson[half..])}}}}}"""),
            Responses.SseEvent("content_block_stop", """{"type":"content_block_stop","index":1}"""),
            Responses.SseEvent("message_delta", """{"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":17}}"""),
            Responses.SseEvent("message_stop", """{"type":"message_stop"}"""),
        ];
    }

    [Fact]
    public async Task ToAnOpenAIResponsesProvider_TheClientsOwnBodyGoesOn_AndTheStreamComesBackAsWritten()
    {
        string[] events =
        [
            "event: response.created\ndata: {\"type\":\"response.created\",\"sequence_number\":0,\"response\":{\"id\":\"resp_1\",\"status\":\"in_progress\",\"output\":[]}}\n\n",
            "event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"sequence_number\":1,\"item_id\":\"msg_1\",\"output_index\":0,\"content_index\":0,\"delta\":\"as written\"}\n\n",
            "event: response.completed\ndata: {\"type\":\"response.completed\",\"sequence_number\":2,\"response\":{\"id\":\"resp_1\",\"status\":\"completed\",\"output\":[],\"usage\":{\"input_tokens\":70,\"input_tokens_details\":{\"cached_tokens\":50},\"output_tokens\":3,\"total_tokens\":73}}}\n\n",
        ];
        _openai.Handler = (ctx, _) => Responses.Stream(ctx, events, TimeSpan.FromMilliseconds(5));
        const string body = """{"model":"codex-model","stream":true,"store":false,"instructions":"Be brief.","input":[{"type":"message","role":"user","content":[{"type":"input_text","text":"Hi"}]}],"x_vendor":1,"include":["reasoning.encrypted_content"]}""";

        using var response = await Post(body);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(string.Concat(events), await response.Content.ReadAsStringAsync(Ct));
        Assert.Equal("/v1/responses", _openai.LastRequest.PathAndQuery);
        var sent = JsonNode.Parse(_openai.LastRequest.Body)!.AsObject();
        Assert.Equal("gpt-5.3-codex", (string?)sent["model"]);
        Assert.Equal(1, (int)sent["x_vendor"]!); // the client's own fields go on untouched
        Assert.Equal("reasoning.encrypted_content", (string?)sent["include"]![0]);
        Assert.Equal("Bearer sk-codex-0123456789", _openai.LastRequest.Header("authorization"));
        var record = Assert.Single(await _relay.WaitForUsageAsync(1));
        Assert.Equal(("responses", "codex", 20L, 50L, 3L), (record.Endpoint, record.Provider, record.InputTokens, record.CacheReadInputTokens, record.OutputTokens));
    }

    private async Task<HttpResponseMessage> Post(string body)
    {
        using var client = _relay.CreateClient(_relay.Key, bearer: true);
        return await client.PostAsync("v1/responses", JsonBody.Of(body), Ct);
    }

    private static List<(string Name, JsonNode Data)> Events(string sse) =>
        sse.Split("\n\n", StringSplitOptions.RemoveEmptyEntries)
            .Select(e => e.Split('\n'))
            .Where(lines => lines.Length == 2 && lines[0].StartsWith("event: ", StringComparison.Ordinal))
            .Select(lines => (lines[0]["event: ".Length..], JsonNode.Parse(lines[1]["data: ".Length..])!))
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
