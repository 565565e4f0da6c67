using System.Net;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Relay.Configuration;
using Relay.Tests.Infrastructure;

namespace Relay.Tests;

/// <summary>Providers that only speak OpenAI's Responses API (<c>openai-responses</c>, the gpt-5.x-codex class) over the
/// wire: Relay on real Kestrel, the provider a fake streaming real Responses events.</summary>
public sealed class ResponsesUpstreamTests : IAsyncLifetime
{
    private const string ProviderKey = "sk-proj-responses-0123456789";

    private FakeUpstream _upstream = null!;
    private FakeUpstream _backup = null!;
    private RelayTestServer _relay = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _upstream = await FakeUpstream.StartAsync();
        _backup = await FakeUpstream.StartAsync();
        _backup.Handler = (ctx, _) => Responses.Json(ctx, 200, Responses.MessageJson("from backup"));
        var config = RelayTestServer.DefaultConfig(null);
        config.Providers["resp"] = new ProviderConfig
        {
            Type = "openai-responses",
            BaseUrl = _upstream.BaseUrl + "/v1",
            ApiKey = ProviderKey,
            PingIntervalSeconds = 1,
            TimeoutSeconds = 5,
        };
        config.Providers["backup"] = new ProviderConfig { Type = "anthropic", BaseUrl = _backup.BaseUrl, ApiKey = "sk-ant-backup-0123456789" };
        config.Models["claude-sonnet-4-6"] = new ModelConfig { Routes = ["resp/gpt-5.3-codex"], Family = "sonnet", MaxAttempts = 1 };
        config.Models["claude-opus-4-6"] = new ModelConfig { Routes = ["resp/gpt-5.3-codex", "backup/claude-backup"], Family = "opus" };
        _relay = await RelayTestServer.StartAsync(config);
    }

    public async ValueTask DisposeAsync()
    {
        await _relay.DisposeAsync();
        await _upstream.DisposeAsync();
        await _backup.DisposeAsync();
    }

    /// <summary>A Claude Code-like turn: system prompt with the billing header, the Bash tool, thinking on.</summary>
    private const string ClaudeCodeTurn = """
        {"model":"claude-sonnet-4-6","max_tokens":32000,"stream":true,
         "system":[{"type":"text","text":"x-anthropic-billing-header: cc_version=2.1.330.440;"},{"type":"text","text":"You are Claude Code, Anthropic's official CLI for Claude.","cache_control":{"type":"ephemeral"}}],
         "messages":[{"role":"user","content":[{"type":"text","text":"List the files here."}]}],
         "tools":[{"name":"Bash","description":"Executes a bash command.","input_schema":{"$schema":"http://json-schema.org/draft-07/schema#","type":"object","properties":{"command":{"type":"string"},"description":{"type":"string"}},"required":["command"],"additionalProperties":false}}],
         "thinking":{"type":"enabled","budget_tokens":10000},"metadata":{"user_id":"user_abc_account_def_session_123"}}
        """;

    [Fact]
    public async Task Streaming_ReasoningTextAndFunctionCall_BecomeAValidAnthropicStream_FromAProperResponsesRequest()
    {
        _upstream.Handler = (ctx, _) => Stream(ctx,
        [
            Created(),
            .. Reasoning("rs_1", "gAAAAB-encrypted", "**Listing**", " files first."),
            .. Text("msg_1", "Let me", " look."),
            .. FunctionCall("fc_1", "call_ls_1", "Bash", "{\"command\":", "\"ls -la\"}"),
            Completed(input: 1500, cached: 1024, output: 42),
        ]);

        using var response = await _relay.Client.PostAsync("v1/messages?beta=true", JsonBody.Of(ClaudeCodeTurn), Ct);
        var events = SseTranscript.Parse(await response.Content.ReadAsStringAsync(Ct));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("message_start", events[0].Name);
        Assert.Equal("claude-sonnet-4-6", (string?)events[0].Data["message"]!["model"]);
        var blocks = events.Where(e => e.Name == "content_block_start").Select(e => e.Data["content_block"]!).ToArray();
        Assert.Equal(["thinking", "text", "tool_use"], blocks.Select(b => (string?)b["type"]).ToArray());
        Assert.Equal("**Listing** files first.", Deltas(events, 0, "thinking"));
        Assert.Equal("relay-responses-reasoning-v1:gAAAAB-encrypted", Deltas(events, 0, "signature"));
        Assert.Equal("Let me look.", Deltas(events, 1, "text"));
        Assert.Equal(("call_ls_1", "Bash"), ((string?)blocks[2]["id"], (string?)blocks[2]["name"]));
        Assert.Equal("ls -la", (string?)JsonNode.Parse(Deltas(events, 2, "partial_json"))!["command"]);
        var delta = events.Single(e => e.Name == "message_delta").Data;
        Assert.Equal("tool_use", (string?)delta["delta"]!["stop_reason"]);
        Assert.Equal((476, 1024, 42), ((int)delta["usage"]!["input_tokens"]!, (int)delta["usage"]!["cache_read_input_tokens"]!, (int)delta["usage"]!["output_tokens"]!));
        Assert.Equal("message_stop", events[^1].Name);

        var sent = _upstream.LastRequest;
        Assert.Equal("/v1/responses", sent.PathAndQuery);
        Assert.Equal("Bearer " + ProviderKey, sent.Header("authorization"));
        Assert.Equal("text/event-stream", sent.Header("accept"));
        var body = JsonNode.Parse(sent.Body)!;
        Assert.Equal("gpt-5.3-codex", (string?)body["model"]);
        Assert.True((bool)body["stream"]!);
        Assert.False((bool)body["store"]!);
        Assert.Equal("You are Claude Code, Anthropic's official CLI for Claude.", (string?)body["instructions"]);
        var input = body["input"]!.AsArray();
        Assert.Equal(("message", "user"), ((string?)input[0]!["type"], (string?)input[0]!["role"]));
        Assert.Equal("List the files here.", (string?)input[0]!["content"]![0]!["text"]);
        var tool = body["tools"]![0]!;
        Assert.Equal(("function", "Bash"), ((string?)tool["type"], (string?)tool["name"]));
        Assert.Equal("string", (string?)tool["parameters"]!["properties"]!["command"]!["type"]);
        Assert.Equal("auto", (string?)body["reasoning"]!["summary"]);
        Assert.Equal("reasoning.encrypted_content", (string?)body["include"]![0]);
        Assert.Equal(32000, (int)body["max_output_tokens"]!);
        Assert.Null(body["messages"]);
        Assert.Null(body["system"]);

        var record = Assert.Single(await _relay.WaitForUsageAsync(1));
        Assert.Equal((200, "resp", "gpt-5.3-codex"), (record.Status, record.Provider, record.UpstreamModel));
        Assert.Equal((476L, 42L, 1024L, 0L), (record.InputTokens, record.OutputTokens, record.CacheReadInputTokens, record.CacheCreationInputTokens));
        Assert.True(record.Streamed);
    }

    [Fact]
    public async Task ToolResult_GoesBackAsFunctionCallOutput_WithTheSameCallId_AndTheReasoningItem()
    {
        _upstream.Handler = (ctx, _) => Stream(ctx, [Created(), .. Text("msg_2", "Two files."), Completed(input: 300, cached: 0, output: 4)]);

        using var response = await _relay.Client.PostAsync("v1/messages", JsonBody.Of("""
            {"model":"claude-sonnet-4-6","max_tokens":32000,"stream":true,"system":"Be brief.",
             "tools":[{"name":"Bash","input_schema":{"type":"object","properties":{"command":{"type":"string"}}}}],
             "thinking":{"type":"enabled","budget_tokens":10000},
             "messages":[
               {"role":"user","content":"List the files here."},
               {"role":"assistant","content":[
                 {"type":"thinking","thinking":"**Listing** files first.","signature":"relay-responses-reasoning-v1:gAAAAB-encrypted"},
                 {"type":"tool_use","id":"call_ls_1","name":"Bash","input":{"command":"ls"}}]},
               {"role":"user","content":[{"type":"tool_result","tool_use_id":"call_ls_1","content":"a.txt\nb.txt"}]}]}
            """), Ct);
        var events = SseTranscript.Parse(await response.Content.ReadAsStringAsync(Ct));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Two files.", Deltas(events, 0, "text"));
        Assert.Equal("end_turn", (string?)events.Single(e => e.Name == "message_delta").Data["delta"]!["stop_reason"]);

        var input = JsonNode.Parse(_upstream.LastRequest.Body)!["input"]!.AsArray();
        var reasoning = input.Single(i => (string?)i!["type"] == "reasoning")!;
        Assert.Equal("gAAAAB-encrypted", (string?)reasoning["encrypted_content"]);
        var call = input.Single(i => (string?)i!["type"] == "function_call")!;
        Assert.Equal(("call_ls_1", "Bash"), ((string?)call["call_id"], (string?)call["name"]));
        Assert.Equal("ls", (string?)JsonNode.Parse((string)call["arguments"]!)!["command"]);
        var output = input.Single(i => (string?)i!["type"] == "function_call_output")!;
        Assert.Equal("call_ls_1", (string?)output["call_id"]);
        Assert.Contains("a.txt\nb.txt", output["output"]!.ToJsonString().Replace("\\n", "\n", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.True(input.IndexOf(call) < input.IndexOf(output));
    }

    [Fact]
    public async Task NonStreaming_ResponseObject_BecomesAnAnthropicMessage()
    {
        _upstream.Handler = (ctx, _) => Responses.Json(ctx, 200, new JsonObject
        {
            ["id"] = "resp_2",
            ["object"] = "response",
            ["status"] = "completed",
            ["model"] = "gpt-5.3-codex",
            ["output"] = new JsonArray(
                new JsonObject { ["id"] = "rs_2", ["type"] = "reasoning", ["summary"] = new JsonArray(new JsonObject { ["type"] = "summary_text", ["text"] = "Need ls." }), ["encrypted_content"] = "enc2" },
                new JsonObject { ["id"] = "fc_2", ["type"] = "function_call", ["call_id"] = "call_2", ["name"] = "Bash", ["arguments"] = """{"command":"ls"}""", ["status"] = "completed" }),
            ["usage"] = Usage(50, 32, 10),
        }.ToJsonString());

        using var response = await _relay.Client.PostAsync("v1/messages", JsonBody.Of("""
            {"model":"claude-sonnet-4-6","max_tokens":100,"messages":[{"role":"user","content":"list"}],"tools":[{"name":"Bash","input_schema":{"type":"object","properties":{"command":{"type":"string"}}}}]}
            """), Ct);
        var message = JsonNode.Parse(await response.Content.ReadAsStringAsync(Ct))!;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("claude-sonnet-4-6", (string?)message["model"]);
        Assert.Equal("tool_use", (string?)message["stop_reason"]);
        Assert.Equal(["thinking", "tool_use"], message["content"]!.AsArray().Select(b => (string?)b!["type"]).ToArray());
        Assert.Equal("Need ls.", (string?)message["content"]![0]!["thinking"]);
        Assert.Equal(("call_2", "ls"), ((string?)message["content"]![1]!["id"], (string?)message["content"]![1]!["input"]!["command"]));
        var sent = JsonNode.Parse(_upstream.LastRequest.Body)!;
        Assert.NotEqual(true, (bool?)sent["stream"]);
        Assert.Equal("application/json", _upstream.LastRequest.Header("accept"));

        var record = Assert.Single(await _relay.WaitForUsageAsync(1));
        Assert.Equal((18L, 10L, 32L), (record.InputTokens, record.OutputTokens, record.CacheReadInputTokens));
        Assert.False(record.Streamed);
    }

    [Theory]
    [InlineData(429, """{"error":{"message":"Rate limit reached for gpt-5.3-codex on tokens per min (TPM).","type":"tokens","param":null,"code":"rate_limit_exceeded"}}""", 429, "rate_limit_error", true)]
    [InlineData(500, """{"error":{"message":"The server had an error while processing your request.","type":"server_error","param":null,"code":null}}""", 500, "api_error", true)]
    [InlineData(401, """{"error":{"message":"Incorrect API key provided.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}""", 401, "authentication_error", false)]
    public async Task ErrorBeforeTheFirstByte_IsAnOrdinaryAnthropicHttpError(int upstreamStatus, string upstreamBody, int status, string type, bool retryable)
    {
        _upstream.Handler = (ctx, _) => Responses.Json(ctx, upstreamStatus, upstreamBody, new Dictionary<string, string> { ["retry-after"] = "7" });

        using var response = await _relay.Client.PostAsync("v1/messages", JsonBody.Of(JsonBody.Message("claude-sonnet-4-6", stream: true)), Ct);
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync(Ct))!;

        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal(type, (string?)body["error"]!["type"]);
        Assert.Contains("'resp'", (string?)body["error"]!["message"], StringComparison.Ordinal);
        Assert.Equal(retryable, !response.Headers.Contains("x-should-retry"));
        Assert.Equal("7", response.Headers.GetValues("retry-after").Single());
        var record = Assert.Single(await _relay.WaitForUsageAsync(1));
        Assert.Equal((status, type), (record.Status, record.ErrorType));
    }

    [Theory]
    [InlineData(429, "rate_limit_error")]
    [InlineData(500, "api_error")]
    public async Task RetryableStatus_FallsBackToTheNextRoute_WithoutTheClientSeeingIt(int status, string type)
    {
        _upstream.Handler = (ctx, _) => Responses.Json(ctx, status, """{"error":{"message":"try elsewhere","type":"server_error","param":null,"code":null}}""");

        using var response = await _relay.Client.PostAsync("v1/messages", JsonBody.Of(JsonBody.Message("claude-opus-4-6", stream: true)), Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("from backup", await response.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        Assert.Single(_upstream.Requests);
        var record = Assert.Single(await _relay.WaitForUsageAsync(1));
        Assert.Equal((2, "backup", 200), (record.Attempts, record.Provider, record.Status));
        Assert.StartsWith($"resp/gpt-5.3-codex {status} {type}", record.AttemptLog, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RefusedParameter_IsLeftOutAndTheRequestRetried()
    {
        _upstream.Handler = (ctx, request) => JsonNode.Parse(request.Body)!["reasoning"] is not null
            ? Responses.Json(ctx, 400, """{"error":{"message":"Unsupported parameter: 'reasoning.summary' is not supported with this model.","type":"invalid_request_error","param":"reasoning","code":"unsupported_parameter"}}""")
            : Stream(ctx, [Created(), .. Text("msg_3", "ok"), Completed(input: 20, cached: 0, output: 1)]);

        using var response = await _relay.Client.PostAsync("v1/messages", JsonBody.Of(ClaudeCodeTurn), Ct);
        var events = SseTranscript.Parse(await response.Content.ReadAsStringAsync(Ct));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("ok", Deltas(events, 0, "text"));
        Assert.Equal([true, false], _upstream.Requests.Select(r => JsonNode.Parse(r.Body)!["reasoning"] is not null));
        var record = Assert.Single(await _relay.WaitForUsageAsync(1));
        Assert.Equal((200, 2), (record.Status, record.Attempts));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task StreamCutBeforeResponseCompleted_EndsWithAnAnthropicErrorEvent(bool abort)
    {
        _upstream.Handler = async (ctx, _) =>
        {
            await Stream(ctx, [Created(), .. Text("msg_4", "partial")]);
            if (abort)
            {
                await Task.Delay(50);
                ctx.Abort();
            }
        };

        using var response = await _relay.Client.PostAsync("v1/messages", JsonBody.Of(JsonBody.Message("claude-sonnet-4-6", stream: true)), Ct);
        var events = SseTranscript.Parse(await response.Content.ReadAsStringAsync(Ct));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("partial", Deltas(events, 0, "text"));
        Assert.Equal("error", events[^1].Name);
        Assert.Equal("api_error", (string?)events[^1].Data["error"]!["type"]);
        Assert.DoesNotContain(events, e => e.Name == "message_stop");
        var record = Assert.Single(await _relay.WaitForUsageAsync(1));
        Assert.Equal("api_error", record.ErrorType);
    }

    [Fact]
    public async Task ResponseFailed_ContextLengthExceeded_IsPromptTooLong()
    {
        _upstream.Handler = (ctx, _) => Stream(ctx,
        [
            Created(),
            new JsonObject { ["type"] = "response.failed", ["response"] = new JsonObject { ["id"] = "resp_1", ["status"] = "failed", ["error"] = new JsonObject { ["code"] = "context_length_exceeded", ["message"] = "Your input exceeds the context window of this model." } } },
        ]);

        using var response = await _relay.Client.PostAsync("v1/messages", JsonBody.Of(JsonBody.Message("claude-sonnet-4-6", stream: true)), Ct);
        var events = SseTranscript.Parse(await response.Content.ReadAsStringAsync(Ct));

        Assert.Equal("error", events[^1].Name);
        Assert.Equal("invalid_request_error", (string?)events[^1].Data["error"]!["type"]);
        Assert.StartsWith("prompt is too long", (string?)events[^1].Data["error"]!["message"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task ChatCompletionsDoor_GetsTheAnswerAsChatChunks()
    {
        _upstream.Handler = (ctx, _) => Stream(ctx,
            [Created(), .. Text("msg_5", "Hello", " there"), .. FunctionCall("fc_5", "call_5", "Bash", """{"command":"ls"}"""), Completed(input: 120, cached: 100, output: 9)]);

        using var response = await _relay.Client.PostAsync("v1/chat/completions", JsonBody.Of("""
            {"model":"claude-sonnet-4-6","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"Hi"}],
             "tools":[{"type":"function","function":{"name":"Bash","parameters":{"type":"object","properties":{"command":{"type":"string"}}}}}]}
            """), Ct);
        var text = await response.Content.ReadAsStringAsync(Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var chunks = text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries).Select(f => f["data: ".Length..]).Where(d => d != "[DONE]").Select(d => JsonNode.Parse(d)!).ToArray();
        var deltas = chunks.Select(c => c["choices"]?.AsArray().FirstOrDefault()?["delta"]).Where(d => d is not null).ToArray();
        Assert.Equal("Hello there", string.Concat(deltas.Select(d => (string?)d!["content"])));
        Assert.Equal("""{"command":"ls"}""", string.Concat(deltas.SelectMany(d => d!["tool_calls"]?.AsArray() ?? []).Select(t => (string?)t!["function"]!["arguments"])));
        Assert.Equal("tool_calls", chunks.Select(c => (string?)c["choices"]?.AsArray().FirstOrDefault()?["finish_reason"]).Last(f => f is not null));
        Assert.Equal(120, (int)chunks[^1]["usage"]!["prompt_tokens"]!);
        Assert.EndsWith("data: [DONE]\n\n", text, StringComparison.Ordinal);
        Assert.Equal("/v1/responses", _upstream.LastRequest.PathAndQuery);
    }

    [Fact]
    public async Task CountTokens_IsALocalEstimate()
    {
        using var response = await _relay.Client.PostAsync("v1/messages/count_tokens", JsonBody.Of("""
            {"model":"claude-sonnet-4-6","messages":[{"role":"user","content":"How many tokens is this sentence?"}]}
            """), Ct);
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync(Ct))!;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.InRange((int)body["input_tokens"]!, 5, 30);
        Assert.Empty(_upstream.Requests);
    }

    /// <summary>The concatenated deltas of one kind (<c>text</c>, <c>thinking</c>, <c>signature</c>, <c>partial_json</c>) of block <paramref name="index"/>.</summary>
    internal static string Deltas(IEnumerable<SseEventData> events, int index, string field) => string.Concat(events
        .Where(e => e.Name == "content_block_delta" && (int)e.Data["index"]! == index)
        .Select(e => (string?)e.Data["delta"]![field]));

    /// <summary>Streams Responses events as a provider does: <c>event: TYPE</c>, <c>data: JSON</c> with sequence numbers.</summary>
    internal static Task Stream(HttpContext context, IEnumerable<JsonObject> events) =>
        Responses.Stream(context, events.Select((e, i) =>
        {
            e["sequence_number"] = i;
            return $"event: {(string?)e["type"]}\ndata: {e.ToJsonString()}\n\n";
        }));

    internal static JsonObject Created() => new()
    {
        ["type"] = "response.created",
        ["response"] = new JsonObject { ["id"] = "resp_1", ["object"] = "response", ["status"] = "in_progress", ["model"] = "gpt-5.3-codex", ["output"] = new JsonArray() },
    };

    internal static IEnumerable<JsonObject> Reasoning(string id, string encrypted, params string[] summary)
    {
        yield return new JsonObject { ["type"] = "response.output_item.added", ["item"] = new JsonObject { ["id"] = id, ["type"] = "reasoning", ["summary"] = new JsonArray() } };
        yield return new JsonObject { ["type"] = "response.reasoning_summary_part.added", ["item_id"] = id, ["summary_index"] = 0, ["part"] = new JsonObject { ["type"] = "summary_text", ["text"] = "" } };
        foreach (var piece in summary)
        {
            yield return new JsonObject { ["type"] = "response.reasoning_summary_text.delta", ["item_id"] = id, ["summary_index"] = 0, ["delta"] = piece };
        }

        yield return new JsonObject
        {
            ["type"] = "response.output_item.done",
            ["item"] = new JsonObject
            {
                ["id"] = id, ["type"] = "reasoning", ["encrypted_content"] = encrypted,
                ["summary"] = new JsonArray(new JsonObject { ["type"] = "summary_text", ["text"] = string.Concat(summary) }),
            },
        };
    }

    internal static IEnumerable<JsonObject> Text(string id, params string[] pieces)
    {
        yield return new JsonObject { ["type"] = "response.output_item.added", ["item"] = new JsonObject { ["id"] = id, ["type"] = "message", ["role"] = "assistant", ["status"] = "in_progress", ["content"] = new JsonArray() } };
        yield return new JsonObject { ["type"] = "response.content_part.added", ["item_id"] = id, ["content_index"] = 0, ["part"] = new JsonObject { ["type"] = "output_text", ["text"] = "" } };
        foreach (var piece in pieces)
        {
            yield return new JsonObject { ["type"] = "response.output_text.delta", ["item_id"] = id, ["content_index"] = 0, ["delta"] = piece };
        }

        yield return new JsonObject { ["type"] = "response.output_text.done", ["item_id"] = id, ["content_index"] = 0, ["text"] = string.Concat(pieces) };
        yield return new JsonObject
        {
            ["type"] = "response.output_item.done",
            ["item"] = new JsonObject
            {
                ["id"] = id, ["type"] = "message", ["role"] = "assistant", ["status"] = "completed",
                ["content"] = new JsonArray(new JsonObject { ["type"] = "output_text", ["text"] = string.Concat(pieces), ["annotations"] = new JsonArray() }),
            },
        };
    }

    internal static IEnumerable<JsonObject> FunctionCall(string id, string callId, string name, params string[] arguments)
    {
        yield return new JsonObject { ["type"] = "response.output_item.added", ["item"] = new JsonObject { ["id"] = id, ["type"] = "function_call", ["status"] = "in_progress", ["call_id"] = callId, ["name"] = name, ["arguments"] = "" } };
        foreach (var piece in arguments)
        {
            yield return new JsonObject { ["type"] = "response.function_call_arguments.delta", ["item_id"] = id, ["delta"] = piece };
        }

        yield return new JsonObject { ["type"] = "response.function_call_arguments.done", ["item_id"] = id, ["arguments"] = string.Concat(arguments) };
        yield return new JsonObject { ["type"] = "response.output_item.done", ["item"] = new JsonObject { ["id"] = id, ["type"] = "function_call", ["status"] = "completed", ["call_id"] = callId, ["name"] = name, ["arguments"] = string.Concat(arguments) } };
    }

    internal static JsonObject Completed(int input, int cached, int output) => new()
    {
        ["type"] = "response.completed",
        ["response"] = new JsonObject { ["id"] = "resp_1", ["object"] = "response", ["status"] = "completed", ["model"] = "gpt-5.3-codex", ["output"] = new JsonArray(), ["usage"] = Usage(input, cached, output) },
    };

    private static JsonObject Usage(int input, int cached, int output) => new()
    {
        ["input_tokens"] = input,
        ["input_tokens_details"] = new JsonObject { ["cached_tokens"] = cached },
        ["output_tokens"] = output,
        ["output_tokens_details"] = new JsonObject { ["reasoning_tokens"] = 0 },
        ["total_tokens"] = input + output,
    };
}
