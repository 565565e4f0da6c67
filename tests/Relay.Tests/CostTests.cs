using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Relay.Accounting;
using Relay.Configuration;
using Relay.Storage;
using Relay.Storage.Accounts;
using Relay.Storage.Sqlite;
using Relay.Tests.Infrastructure;

namespace Relay.Tests;

/// <summary>
/// Every usage record carries the cost of what the provider reported, at the price of the requested model and the route
/// that answered. Expected costs are worked out by hand in nanodollars: a price of $P per million tokens is P × 1,000
/// nanodollars per token, and a web search is $0.01 = 10,000,000 nanodollars.
/// </summary>
public sealed class CostTests : IAsyncLifetime
{
    // Claude Sonnet 4.6 as shipped (nanodollars per token): input 3,000; 5-minute write 3,750; 1-hour write 6,000;
    // cache read 300; output 15,000.
    private const string Sonnet = "claude-sonnet-4-6";

    // Answered by the anthropic provider "up": input 1,000; cache writes 3,000 (1,000 for 5 minutes, 2,000 for an
    // hour); cache reads 40,000; output 500.
    //   1,000 × 3,000 + 1,000 × 3,750 + 2,000 × 6,000 + 40,000 × 300 + 500 × 15,000
    //   = 3,000,000 + 3,750,000 + 12,000,000 + 12,000,000 + 7,500,000
    private const long CachedSonnetAnswer = 38_250_000;

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

    private static RelayConfig Config(string upstreamBaseUrl)
    {
        var config = RelayTestServer.DefaultConfig(upstreamBaseUrl);
        config.Providers["router"] = new ProviderConfig { Type = "openai", BaseUrl = upstreamBaseUrl + "/api/v1", ApiKey = "sk-or-secret-123456", TimeoutSeconds = 5 };
        config.Providers["resp"] = new ProviderConfig { Type = "openai-responses", BaseUrl = upstreamBaseUrl + "/v1", ApiKey = "sk-proj-responses-0123456789", TimeoutSeconds = 5 };
        config.Models["claude-opus-4-6"] = new ModelConfig { Routes = ["up/claude-opus-4-6"], MaxAttempts = 1 };
        config.Models["claude-*"] = new ModelConfig { Routes = ["up/claude-haiku-4-5-20251001"] };
        config.Models["fast"] = new ModelConfig { Routes = ["up/claude-haiku-5-5"] };
        config.Models["mystery"] = new ModelConfig { Routes = ["up/mystery-model"] };
        config.Models["deepseek-chat"] = new ModelConfig { Routes = ["router/deepseek/deepseek-chat"] };
        config.Models["codex"] = new ModelConfig { Routes = ["resp/gpt-5.3-codex"] };
        config.Prices["deepseek-chat"] = new PriceConfig { Input = 0.27m, Output = 1.10m, CacheRead = 0.07m };
        config.Prices["resp/gpt-5.3-codex"] = new PriceConfig { Input = 1.25m, Output = 10m, CacheRead = 0.125m };
        config.Prices["claude-opus-4-6"] = new PriceConfig { Input = 1m, Output = 2m };
        config.Scenarios = new ScenarioConfig { Thinking = "claude-opus-4-6" };
        config.Models["long-*"] = new ModelConfig { Routes = ["up/long-upstream"] };
        config.Prices["long-*z"] = new PriceConfig { Input = 1m, Output = 1m };
        return config;
    }

    private static string Usage(int input, int output, int cacheWrite = 0, int cacheRead = 0, (int FiveMinutes, int OneHour)? split = null, int searches = 0) =>
        $$"""
        {"input_tokens":{{input}},"cache_creation_input_tokens":{{cacheWrite}},"cache_read_input_tokens":{{cacheRead}},"output_tokens":{{output}}
        {{(split is { } s ? $$""","cache_creation":{"ephemeral_5m_input_tokens":{{s.FiveMinutes}},"ephemeral_1h_input_tokens":{{s.OneHour}}}""" : "")}}
        {{(searches > 0 ? $$""","server_tool_use":{"web_search_requests":{{searches}},"web_fetch_requests":1}""" : "")}}}
        """.ReplaceLineEndings("");

    private static string Message(string usage) =>
        $$$"""{"id":"msg_1","type":"message","role":"assistant","model":"m","content":[{"type":"text","text":"Hi"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{{{usage}}}}""";

    private static string MessageStart(string usage) =>
        Responses.SseEvent("message_start", $$$"""{"type":"message_start","message":{"id":"msg_2","type":"message","role":"assistant","model":"m","content":[],"stop_reason":null,"stop_sequence":null,"usage":{{{usage}}}}}""");

    private static IEnumerable<string> TextBlock(int pieces) =>
    [
        Responses.SseEvent("content_block_start", """{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"""),
        .. Enumerable.Range(0, pieces).Select(i => Responses.SseEvent("content_block_delta", $$$"""{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"w{{{i}}} "}}""")),
        Responses.SseEvent("content_block_stop", """{"type":"content_block_stop","index":0}"""),
    ];

    private static string MessageDelta(string usage) =>
        Responses.SseEvent("message_delta", $$$"""{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{{{usage}}}}""");

    private static readonly string MessageStop = Responses.SseEvent("message_stop", """{"type":"message_stop"}""");

    private async Task<UsageRecord> SendAsync(string body, HttpStatusCode expected = HttpStatusCode.OK, string path = "v1/messages")
    {
        using var response = await _relay.Client.PostAsync(path, JsonBody.Of(body), Ct);
        await response.Content.ReadAsStringAsync(Ct);
        Assert.Equal(expected, response.StatusCode);
        return await RecordOfAsync(response);
    }

    private async Task<UsageRecord> RecordOfAsync(HttpResponseMessage response)
    {
        var requestId = response.Headers.GetValues("request-id").Single();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            var record = (await _relay.Store.GetRecentUsageAsync(100, Ct)).FirstOrDefault(r => r.RequestId == requestId);
            if (record is not null || DateTime.UtcNow > deadline)
            {
                return record ?? throw new Xunit.Sdk.XunitException($"no usage record for {requestId}");
            }

            await Task.Delay(25, Ct);
        }
    }

    [Fact]
    public async Task Anthropic_NonStreamed_WithOneHourAndFiveMinuteWrites_AndCacheReads()
    {
        _upstream.Handler = (ctx, _) => Responses.Json(ctx, 200, Message(Usage(1000, 500, cacheWrite: 3000, cacheRead: 40000, split: (1000, 2000))));

        var record = await SendAsync(JsonBody.Message(Sonnet));

        Assert.Equal(CachedSonnetAnswer, record.CostNanos);
        Assert.Equal((3000L, 2000L, 40000L), (record.CacheCreationInputTokens, record.CacheCreation1hInputTokens, record.CacheReadInputTokens));
    }

    [Fact]
    public async Task Anthropic_CacheWritesWithoutTheSplit_AreFiveMinuteWrites()
    {
        _upstream.Handler = (ctx, _) => Responses.Json(ctx, 200, Message(Usage(10, 20, cacheWrite: 4000)));

        var record = await SendAsync(JsonBody.Message(Sonnet));

        // 10 × 3,000 + 4,000 × 3,750 + 20 × 15,000
        Assert.Equal(30_000 + 15_000_000 + 300_000, record.CostNanos);
        Assert.Equal(0, record.CacheCreation1hInputTokens);
    }

    [Fact]
    public async Task Anthropic_Streamed_CumulativeDeltaAndWebSearches()
    {
        _upstream.Handler = (ctx, _) => Responses.Stream(ctx,
        [
            MessageStart(Usage(1000, 1, cacheWrite: 3000, cacheRead: 40000, split: (1000, 2000))),
            .. TextBlock(3),
            MessageDelta(Usage(1000, 500, cacheWrite: 3000, cacheRead: 40000, searches: 2)),
            MessageStop,
        ]);

        var record = await SendAsync(JsonBody.Message(Sonnet, stream: true));

        // The split from message_start survives message_delta's totals; 2 web searches at $0.01 (the fetch is free).
        Assert.True(record.Streamed);
        Assert.Equal(2, record.ServerToolUses);
        Assert.Equal(CachedSonnetAnswer + 2 * 10_000_000, record.CostNanos);
    }

    [Fact]
    public async Task Anthropic_StreamedToAChatClient_CostsTheSame()
    {
        _upstream.Handler = (ctx, _) => Responses.Stream(ctx,
        [
            MessageStart(Usage(1000, 1, cacheWrite: 3000, cacheRead: 40000, split: (1000, 2000))),
            .. TextBlock(3),
            MessageDelta(Usage(1000, 500, cacheWrite: 3000, cacheRead: 40000)),
            MessageStop,
        ]);

        using var chat = _relay.CreateClient(_relay.Key, bearer: true);
        using var response = await chat.PostAsync("v1/chat/completions", JsonBody.Of($$"""{"model":"{{Sonnet}}","stream":true,"messages":[{"role":"user","content":"Hi"}]}"""), Ct);
        await response.Content.ReadAsStringAsync(Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(CachedSonnetAnswer, (await RecordOfAsync(response)).CostNanos);
    }

    [Fact]
    public async Task Anthropic_UpstreamFails_NothingReported_CostsNothing()
    {
        _upstream.Handler = (ctx, _) => Responses.Json(ctx, 500, Responses.ErrorJson("api_error", "Internal server error"));

        var record = await SendAsync(JsonBody.Message("claude-opus-4-6"), HttpStatusCode.InternalServerError);

        Assert.Equal(500, record.Status);
        Assert.Equal(0, record.CostNanos);
    }

    [Fact]
    public async Task Anthropic_StreamFailsAfterMessageStart_CostsWhatWasReported()
    {
        _upstream.Handler = (ctx, _) => Responses.Stream(ctx,
        [
            MessageStart(Usage(1000, 1, cacheRead: 40000)),
            .. TextBlock(1),
            Responses.SseEvent("error", """{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"""),
        ]);

        var record = await SendAsync(JsonBody.Message(Sonnet, stream: true));

        // 1,000 × 3,000 + 40,000 × 300 + 1 × 15,000
        Assert.Equal("overloaded_error", record.ErrorType);
        Assert.Equal(3_000_000 + 12_000_000 + 15_000, record.CostNanos);
    }

    // A stream cut short is billed for what was relayed: the unescaped UTF-8 bytes of its text, thinking and tool-input
    // deltas over 4. Each "naïve\n" is 7 bytes (ï is 2; \n arrives escaped and counts 1).
    private const string Piece = "naïve\\n";
    private const int PieceBytes = 7;

    private static IEnumerable<string> ThinkingThenText(int pieces) =>
    [
        Responses.SseEvent("content_block_start", """{"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":""}}"""),
        Responses.SseEvent("content_block_delta", """{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"Let me think."}}"""),
        Responses.SseEvent("content_block_delta", """{"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxDa3Ha5Y2VGm0SygEiMMr0bDGdq0d3"}}"""),
        Responses.SseEvent("content_block_stop", """{"type":"content_block_stop","index":0}"""),
        Responses.SseEvent("content_block_start", """{"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}}"""),
        .. Enumerable.Range(0, pieces).Select(_ => Responses.SseEvent("content_block_delta", $$$"""{"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"{{{Piece}}}"}}""")),
    ];

    /// <summary>Sends <paramref name="events"/>, then stays silent until Relay goes away.</summary>
    private static async Task StreamThenWaitAsync(Microsoft.AspNetCore.Http.HttpContext context, IEnumerable<string> events)
    {
        try
        {
            await Responses.Stream(context, events);
            await Task.Delay(Timeout.Infinite, context.RequestAborted);
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Reads the answer until <paramref name="deltas"/> content deltas have arrived, then closes the connection,
    /// as Claude Code does on Esc.</summary>
    private async Task<UsageRecord> ReadThenDisconnectAsync(HttpClient client, string path, string body, string deltaMarker, int deltas)
    {
        string requestId;
        using (var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonBody.Of(body) })
        using (var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, Ct))
        {
            requestId = response.Headers.GetValues("request-id").Single();
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(Ct));
            var seen = 0;
            while (seen < deltas && await reader.ReadLineAsync(Ct) is { } line)
            {
                seen += line.StartsWith("data:", StringComparison.Ordinal) && line.Contains(deltaMarker, StringComparison.Ordinal) ? 1 : 0;
            }

            Assert.Equal(deltas, seen);
        }

        var record = Assert.Single(await _relay.WaitForUsageAsync(1), r => r.RequestId == requestId);
        Assert.Equal(499, record.Status);
        return record;
    }

    [Fact]
    public async Task Anthropic_ClientDisconnectsMidStream_OutputEstimatedFromTheRelayedText()
    {
        _upstream.Handler = (ctx, _) => StreamThenWaitAsync(ctx,
            [MessageStart(Usage(1000, 1, cacheWrite: 3000, cacheRead: 40000, split: (1000, 2000))), .. ThinkingThenText(100)]);

        var record = await ReadThenDisconnectAsync(_relay.Client, "v1/messages", JsonBody.Message(Sonnet, stream: true), "content_block_delta", 102);

        // "Let me think." (13) + 100 × 7 = 713 bytes → 178 tokens; the signature counts nothing. message_start's input
        // and cache counts stand: 1,000 × 3,000 + 1,000 × 3,750 + 2,000 × 6,000 + 40,000 × 300 + 178 × 15,000
        Assert.Equal((1000L, 178L), (record.InputTokens, record.OutputTokens));
        Assert.Equal("client_disconnected", record.ErrorType);
        Assert.Equal(3_000_000 + 3_750_000 + 12_000_000 + 12_000_000 + 2_670_000, record.CostNanos);
    }

    [Fact]
    public async Task Anthropic_ProviderBreaksOffMidStream_OutputEstimatedFromTheRelayedText()
    {
        _upstream.Handler = async (ctx, _) =>
        {
            await Responses.Stream(ctx, [MessageStart(Usage(1000, 1)), .. ThinkingThenText(40)]);
            await Task.Delay(200, ctx.RequestAborted); // a reset would discard what Relay has not read yet
            ctx.Abort();
        };

        var record = await SendAsync(JsonBody.Message(Sonnet, stream: true));

        // 13 + 40 × 7 = 293 bytes → 73 tokens: 1,000 × 3,000 + 73 × 15,000
        Assert.Equal("api_error", record.ErrorType);
        Assert.Equal(73, record.OutputTokens);
        Assert.Equal(3_000_000 + 1_095_000, record.CostNanos);
    }

    [Fact]
    public async Task Anthropic_CompleteStream_RecordsTheProvidersOutputExactly_EvenBelowTheEstimate()
    {
        _upstream.Handler = (ctx, _) => Responses.Stream(ctx,
            [MessageStart(Usage(1000, 1)), .. ThinkingThenText(100), Responses.SseEvent("content_block_stop", """{"type":"content_block_stop","index":1}"""),
             MessageDelta(Usage(1000, 50)), MessageStop]);

        var record = await SendAsync(JsonBody.Message(Sonnet, stream: true));

        Assert.Null(record.ErrorType);
        Assert.Equal(50, record.OutputTokens);
        Assert.Equal(3_000_000 + 50 * 15_000, record.CostNanos);
    }

    [Fact]
    public async Task Anthropic_ChatClientDisconnectsMidStream_OutputEstimatedFromTheRelayedText()
    {
        _upstream.Handler = (ctx, _) => StreamThenWaitAsync(ctx, [MessageStart(Usage(1000, 1)), .. ThinkingThenText(100)]);

        using var chat = _relay.CreateClient(_relay.Key, bearer: true);
        var record = await ReadThenDisconnectAsync(chat, "v1/chat/completions",
            $$"""{"model":"{{Sonnet}}","stream":true,"messages":[{"role":"user","content":"Hi"}]}""", "\"na", 100);

        // Read into message events for the Chat door: the same 713 bytes → 178 tokens.
        Assert.Equal(178, record.OutputTokens);
        Assert.Equal(3_000_000 + 2_670_000, record.CostNanos);
    }

    [Fact]
    public async Task CountTokens_IsNeverBilled()
    {
        _upstream.Handler = (ctx, _) => Responses.Json(ctx, 200, """{"input_tokens":123456}""");

        var record = await SendAsync($$"""{"model":"{{Sonnet}}","messages":[{"role":"user","content":"hi"}]}""", path: "v1/messages/count_tokens");
        // The mock provider records the tokens it counted as input; Haiku 4.5 has a price, and still nothing is billed.
        var counted = await SendAsync("""{"model":"claude-haiku-4-5","messages":[{"role":"user","content":"count these words please"}]}""", path: "v1/messages/count_tokens");

        Assert.Equal(("count_tokens", 0L), (record.Endpoint, record.CostNanos));
        Assert.Equal(("count_tokens", "demo", 0L), (counted.Endpoint, counted.Provider, counted.CostNanos));
        Assert.True(counted.InputTokens > 0);
    }

    [Fact]
    public async Task OpenAI_NonStreamed_PricedFromRelayJson_CachedTokensAsCacheReads()
    {
        _upstream.Handler = (ctx, _) => Responses.Json(ctx, 200, """
            {"id":"c1","object":"chat.completion","model":"deepseek-chat","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}],
             "usage":{"prompt_tokens":1200,"completion_tokens":7,"total_tokens":1207,"prompt_tokens_details":{"cached_tokens":1000}}}
            """);

        var record = await SendAsync(JsonBody.Message("deepseek-chat"));

        // relay.json "deepseek-chat": input 270, cache read 70, output 1,100 per token: 200 × 270 + 1,000 × 70 + 7 × 1,100
        Assert.Equal(("router", "deepseek/deepseek-chat"), (record.Provider, record.UpstreamModel));
        Assert.Equal(54_000 + 70_000 + 7_700, record.CostNanos);
    }

    [Fact]
    public async Task OpenAI_Streamed_PricedFromRelayJson()
    {
        _upstream.Handler = (ctx, _) => OpenAIUpstreamTests.OpenAIStream(ctx,
            [OpenAIUpstreamTests.TextChunk("Hello"), OpenAIUpstreamTests.TextChunk(" there", "stop"), OpenAIUpstreamTests.UsageChunk]);

        var record = await SendAsync(JsonBody.Message("deepseek-chat", stream: true));

        // The same usage as above (1,200 prompt tokens of which 1,000 cached, 7 completion tokens).
        Assert.Equal(54_000 + 70_000 + 7_700, record.CostNanos);
    }

    [Fact]
    public async Task OpenAI_ClientDisconnectsMidStream_OutputEstimatedFromTheRelayedText()
    {
        _upstream.Handler = (ctx, _) => StreamThenWaitAsync(ctx,
            Enumerable.Range(0, 100).Select(_ => $"data: {OpenAIUpstreamTests.TextChunk("naïve\n")}\n\n"));

        var record = await ReadThenDisconnectAsync(_relay.Client, "v1/messages", JsonBody.Message("deepseek-chat", stream: true), "content_block_delta", 100);

        // 100 × 7 bytes → 175 tokens at relay.json's 1,100 per output token; the provider reported nothing else.
        Assert.Equal((0L, 175L), (record.InputTokens, record.OutputTokens));
        Assert.Equal(192_500, record.CostNanos);
    }

    [Fact]
    public async Task OpenAI_CompleteStream_RecordsTheProvidersOutputExactly_EvenBelowTheEstimate()
    {
        _upstream.Handler = (ctx, _) => OpenAIUpstreamTests.OpenAIStream(ctx,
            [.. Enumerable.Range(0, 100).Select(_ => OpenAIUpstreamTests.TextChunk("naïve\n")), OpenAIUpstreamTests.TextChunk(".", "stop"), OpenAIUpstreamTests.UsageChunk]);

        var record = await SendAsync(JsonBody.Message("deepseek-chat", stream: true));

        // 7 completion tokens as reported, not the 175 the text would suggest.
        Assert.Equal(7, record.OutputTokens);
        Assert.Equal(54_000 + 70_000 + 7_700, record.CostNanos);
    }

    [Fact]
    public async Task OpenAIResponses_ClientDisconnectsMidStream_OutputEstimatedFromTheRelayedText()
    {
        IEnumerable<System.Text.Json.Nodes.JsonObject> cut =
        [
            ResponsesUpstreamTests.Created(),
            .. ResponsesUpstreamTests.Text("msg_1", [.. Enumerable.Repeat("naïve\n", 100)]),
            .. ResponsesUpstreamTests.FunctionCall("fc_1", "call_1", "get_weather", "{\"city\":", "\"Paris\"}"),
        ];
        _upstream.Handler = async (ctx, _) =>
        {
            try
            {
                await ResponsesUpstreamTests.Stream(ctx, cut);
                await Task.Delay(Timeout.Infinite, ctx.RequestAborted);
            }
            catch (OperationCanceledException)
            {
            }
        };

        var record = await ReadThenDisconnectAsync(_relay.Client, "v1/messages", JsonBody.Message("codex", stream: true), "content_block_delta", 102);

        // 100 × 7 bytes of text and 16 of tool arguments → 179 tokens at 10,000 per output token.
        Assert.Equal(179, record.OutputTokens);
        Assert.Equal(1_790_000, record.CostNanos);
    }

    // A Chat client on an openai provider gets the provider's chunks as they came: "Let me think." as reasoning (13 bytes),
    // 100 × "naïve\n" (700; ï arrives escaped as \u00EF and counts 2) and tool arguments {"city":"Paris"} (16).
    private static IEnumerable<string> ChatReasoningTextAndToolCall() =>
    [
        """{"id":"chatcmpl-1","choices":[{"index":0,"delta":{"role":"assistant","reasoning_content":"Let me think."},"finish_reason":null}]}""",
        .. Enumerable.Range(0, 100).Select(_ => OpenAIUpstreamTests.TextChunk("naïve\n")),
        """{"id":"chatcmpl-1","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":"}}]},"finish_reason":null}]}""",
        """{"id":"chatcmpl-1","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"Paris\"}"}}]},"finish_reason":null}]}""",
    ];

    private const string ChatBody = """{"model":"deepseek-chat","stream":true,"messages":[{"role":"user","content":"Hi"}]}""";

    [Fact]
    public async Task OpenAIPassThrough_ChatClientDisconnectsMidStream_OutputEstimatedFromTheRelayedText()
    {
        _upstream.Handler = (ctx, _) => StreamThenWaitAsync(ctx, ChatReasoningTextAndToolCall().Select(c => $"data: {c}\n\n"));

        using var chat = _relay.CreateClient(_relay.Key, bearer: true);
        var record = await ReadThenDisconnectAsync(chat, "v1/chat/completions", ChatBody, "\"arguments\"", 2);

        // 13 + 700 + 16 = 729 bytes → 182 tokens at relay.json's 1,100 per output token; ids, names and framing count nothing.
        Assert.Equal(("router", 0L, 182L), (record.Provider, record.InputTokens, record.OutputTokens));
        Assert.Equal("client_disconnected", record.ErrorType);
        Assert.Equal(200_200, record.CostNanos);
    }

    [Fact]
    public async Task OpenAIPassThrough_ChatCompleteStream_RecordsTheProvidersUsageExactly()
    {
        _upstream.Handler = (ctx, _) => OpenAIUpstreamTests.OpenAIStream(ctx,
            [.. ChatReasoningTextAndToolCall(), """{"id":"chatcmpl-1","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}""", OpenAIUpstreamTests.UsageChunk]);

        using var chat = _relay.CreateClient(_relay.Key, bearer: true);
        using var response = await chat.PostAsync("v1/chat/completions", JsonBody.Of(ChatBody), Ct);
        var record = await RecordOfAsync(response);

        // 1,200 prompt tokens of which 1,000 cached and 7 completion tokens, as reported, not the 182 the text suggests.
        Assert.Null(record.ErrorType);
        Assert.Equal((200L, 1000L, 7L), (record.InputTokens, record.CacheReadInputTokens, record.OutputTokens));
        Assert.Equal(54_000 + 70_000 + 7_700, record.CostNanos);
    }

    // A Responses client on an openai-responses provider: a reasoning summary "Let me think." (13 bytes), 100 × "naïve\n"
    // (700) and tool arguments (16); the .done events repeat the text and count nothing.
    private static IEnumerable<System.Text.Json.Nodes.JsonObject> ResponsesReasoningTextAndToolCall() =>
    [
        ResponsesUpstreamTests.Created(),
        .. ResponsesUpstreamTests.Reasoning("rs_1", "gAAAAABencrypted", "Let me think."),
        .. ResponsesUpstreamTests.Text("msg_1", [.. Enumerable.Repeat("naïve\n", 100)]),
        .. ResponsesUpstreamTests.FunctionCall("fc_1", "call_1", "get_weather", "{\"city\":", "\"Paris\"}"),
    ];

    private const string ResponsesBody = """{"model":"codex","stream":true,"input":"Hi"}""";

    [Fact]
    public async Task OpenAIResponsesPassThrough_ClientDisconnectsMidStream_OutputEstimatedFromTheRelayedText()
    {
        _upstream.Handler = async (ctx, _) =>
        {
            try
            {
                await ResponsesUpstreamTests.Stream(ctx, ResponsesReasoningTextAndToolCall());
                await Task.Delay(Timeout.Infinite, ctx.RequestAborted);
            }
            catch (OperationCanceledException)
            {
            }
        };

        using var client = _relay.CreateClient(_relay.Key, bearer: true);
        var record = await ReadThenDisconnectAsync(client, "v1/responses", ResponsesBody, "\"response.output_item.done\"", 3);

        // 13 + 700 + 16 = 729 bytes → 182 tokens at 10,000 per output token.
        Assert.Equal(("resp", 182L), (record.Provider, record.OutputTokens));
        Assert.Equal("client_disconnected", record.ErrorType);
        Assert.Equal(1_820_000, record.CostNanos);
    }

    [Fact]
    public async Task OpenAIResponsesPassThrough_CompleteStream_RecordsTheProvidersUsageExactly()
    {
        _upstream.Handler = (ctx, _) => ResponsesUpstreamTests.Stream(ctx,
            [.. ResponsesReasoningTextAndToolCall(), ResponsesUpstreamTests.Completed(input: 500, cached: 100, output: 40)]);

        using var client = _relay.CreateClient(_relay.Key, bearer: true);
        using var response = await client.PostAsync("v1/responses", JsonBody.Of(ResponsesBody), Ct);
        var record = await RecordOfAsync(response);

        // 400 × 1,250 + 100 × 125 + 40 × 10,000: the reported 40, not the 182 the text suggests.
        Assert.Null(record.ErrorType);
        Assert.Equal((400L, 40L), (record.InputTokens, record.OutputTokens));
        Assert.Equal(500_000 + 12_500 + 400_000, record.CostNanos);
    }

    [Fact]
    public async Task OpenAIResponses_Streamed_PricedByProviderAndUpstreamModel()
    {
        _upstream.Handler = (ctx, _) => ResponsesUpstreamTests.Stream(ctx,
            [ResponsesUpstreamTests.Created(), .. ResponsesUpstreamTests.Text("msg_1", "Hi"), ResponsesUpstreamTests.Completed(input: 500, cached: 100, output: 40)]);

        var record = await SendAsync(JsonBody.Message("codex", stream: true));

        // relay.json "resp/gpt-5.3-codex": input 1,250, cache read 125, output 10,000: 400 × 1,250 + 100 × 125 + 40 × 10,000
        Assert.Equal(500_000 + 12_500 + 400_000, record.CostNanos);
    }

    [Fact]
    public async Task UpstreamModelAlone_PricesAPatternRoute_DatedIdAsItsModel()
    {
        _upstream.Handler = (ctx, _) => Responses.Json(ctx, 200, Message(Usage(100, 10)));

        var record = await SendAsync(JsonBody.Message("claude-custom"));

        // Routed to up/claude-haiku-4-5-20251001: Haiku 4.5, input 1,000 and output 5,000 per token.
        Assert.Equal(100 * 1_000 + 10 * 5_000, record.CostNanos);
    }

    [Fact]
    public async Task LongPrompt_IsBilledAtTheHigherTierThroughout()
    {
        _upstream.Handler = (ctx, captured) => Responses.Json(ctx, 200, captured.BodyText.Contains("long", StringComparison.Ordinal)
            ? Message(Usage(60_000, 10, cacheRead: 40_001))
            : Message(Usage(60_000, 10, cacheRead: 40_000)));

        var shortPrompt = await SendAsync(JsonBody.Message("fast", text: "short"));
        var longPrompt = await SendAsync(JsonBody.Message("fast", text: "long"));

        // Haiku 5.5 up to 100,000 prompt tokens: input 100, cache read 10, output 500 per token.
        Assert.Equal(60_000 * 100 + 40_000 * 10 + 10 * 500, shortPrompt.CostNanos);
        // Over 100,000 (input and cache reads together): input 500, cache read 50, output 2,500, on every token.
        Assert.Equal(60_000 * 500 + 40_001 * 50 + 10 * 2_500, longPrompt.CostNanos);
    }

    [Fact]
    public async Task ScenarioReroute_IsPricedAtTheModelThatServedIt()
    {
        _upstream.Handler = (ctx, _) => Responses.Json(ctx, 200, Message(Usage(1000, 500)));

        var record = await SendAsync($$"""{"model":"{{Sonnet}}","max_tokens":2000,"thinking":{"type":"enabled","budget_tokens":1024},"messages":[{"role":"user","content":"Hi"}]}""");

        // The thinking scenario sent it to claude-opus-4-6 (relay.json: input 1,000, output 2,000 per token), not Sonnet.
        Assert.Equal(("scenario:thinking", Sonnet, "claude-opus-4-6"), (record.RouteRule, record.RequestedModel, record.UpstreamModel));
        Assert.Equal(1000 * 1_000 + 500 * 2_000, record.CostNanos);
    }

    [Fact]
    public async Task ALongModelName_IsPricedByTheNameAsSent_NotTheShortenedOne()
    {
        _upstream.Handler = (ctx, _) => Responses.Json(ctx, 200, Message(Usage(100, 10)));
        var name = "long-" + new string('x', 300) + "z";

        var record = await SendAsync(JsonBody.Message(name));

        // Only the whole name matches the price pattern long-*z; the record keeps the shortened one.
        Assert.EndsWith("…", record.RequestedModel, StringComparison.Ordinal);
        Assert.Equal(100 * 1_000 + 10 * 1_000, record.CostNanos);
    }

    [Fact]
    public async Task NegativeCountsFromAnAnthropicProvider_CountAsNone()
    {
        _upstream.Handler = (ctx, _) => Responses.Json(ctx, 200, Message(Usage(-1_000_000, 500, cacheWrite: -5, cacheRead: -7)));

        var record = await SendAsync(JsonBody.Message(Sonnet));

        Assert.Equal((0L, 0L, 0L), (record.InputTokens, record.CacheCreationInputTokens, record.CacheReadInputTokens));
        Assert.Equal(500 * 15_000, record.CostNanos);
    }

    [Fact]
    public async Task NegativeCountsFromOpenAIProviders_CountAsNone()
    {
        _upstream.Handler = (ctx, _) => Responses.Json(ctx, 200, """
            {"id":"c1","object":"chat.completion","model":"deepseek-chat","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}],
             "usage":{"prompt_tokens":1200,"completion_tokens":-1000000,"total_tokens":1207,"prompt_tokens_details":{"cached_tokens":-1000}}}
            """);
        var chat = await SendAsync(JsonBody.Message("deepseek-chat"));
        _upstream.Handler = (ctx, _) => ResponsesUpstreamTests.Stream(ctx,
            [ResponsesUpstreamTests.Created(), .. ResponsesUpstreamTests.Text("msg_1", "Hi"), ResponsesUpstreamTests.Completed(input: 500, cached: -100, output: -1_000_000)]);
        var responses = await SendAsync(JsonBody.Message("codex", stream: true));

        // deepseek-chat: 1,200 × 270; gpt-5.3-codex: 500 × 1,250. Nothing else counts.
        Assert.Equal((1200L, 0L, 0L), (chat.InputTokens, chat.OutputTokens, chat.CacheReadInputTokens));
        Assert.Equal(1200 * 270, chat.CostNanos);
        Assert.Equal((500L, 0L, 0L), (responses.InputTokens, responses.OutputTokens, responses.CacheReadInputTokens));
        Assert.Equal(500 * 1_250, responses.CostNanos);
    }

    [Fact]
    public async Task NoPriceKnown_CostIsNull()
    {
        _upstream.Handler = (ctx, _) => Responses.Json(ctx, 200, Message(Usage(100, 10)));

        var record = await SendAsync(JsonBody.Message("mystery"));

        Assert.Null(record.CostNanos);
        Assert.Equal(100, record.InputTokens);
    }

    [Fact]
    public async Task RelayJsonPrice_OverridesTheDefault_AndAdminPrice_OverridesRelayJson()
    {
        _upstream.Handler = (ctx, _) => Responses.Json(ctx, 200, Message(Usage(100, 10, cacheWrite: 1000)));
        var book = _relay.App.Services.GetRequiredService<PriceBook>();

        // relay.json: input 1,000, output 2,000, 5-minute writes 1.25 × input: 100 × 1,000 + 10 × 2,000 + 1,000 × 1,250.
        // (The default Opus 4.6 price would be 7,000,000.)
        Assert.Equal(100_000 + 20_000 + 1_250_000, (await SendAsync(JsonBody.Message("claude-opus-4-6"))).CostNanos);

        // Set through this instance: applies to the next request.
        await book.SetPriceAsync("claude-opus-4-6", new PriceRates { Input = 2m, Output = 4m, CacheWrite5m = 3m }, Ct);
        Assert.Equal(200_000 + 40_000 + 3_000_000, (await SendAsync(JsonBody.Message("claude-opus-4-6"))).CostNanos);

        // Set by another instance on the same database: seen at the next refresh.
        await _relay.Store.SetPriceAsync("up/claude-opus-4-6", new PriceRates { Input = 4m, Output = 8m }, Ct);
        await _relay.Store.DeletePriceAsync("claude-opus-4-6", Ct);
        await book.RefreshAsync(Ct);
        Assert.Equal(400_000 + 80_000 + 5_000_000, (await SendAsync(JsonBody.Message("claude-opus-4-6"))).CostNanos);

        // Removed: relay.json's price applies again.
        Assert.True(await book.DeletePriceAsync("up/claude-opus-4-6", Ct));
        Assert.Equal(100_000 + 20_000 + 1_250_000, (await SendAsync(JsonBody.Message("claude-opus-4-6"))).CostNanos);
    }

    [Fact]
    public async Task AdminPrices_AreReadBeforeRelayListens()
    {
        var config = Config(_upstream.BaseUrl);
        using var directory = new TempDirectory();
        config.SourcePath = Path.Combine(directory.Path, "relay.json");
        await using (var store = new SqliteRelayStore(config.DatabasePath))
        {
            await store.InitializeAsync(Ct);
            await store.SetPriceAsync("claude-opus-4-6", new PriceRates { Input = 2m, Output = 4m, CacheWrite5m = 3m }, Ct);
        }

        _upstream.Handler = (ctx, _) => Responses.Json(ctx, 200, Message(Usage(100, 10, cacheWrite: 1000)));
        await using var relay = await RelayTestServer.StartAsync(config);
        using var response = await relay.Client.PostAsync("v1/messages", JsonBody.Of(JsonBody.Message("claude-opus-4-6")), Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        var record = Assert.Single(await relay.WaitForUsageAsync(1));
        Assert.Equal(200_000 + 40_000 + 3_000_000, record.CostNanos);
    }
}
