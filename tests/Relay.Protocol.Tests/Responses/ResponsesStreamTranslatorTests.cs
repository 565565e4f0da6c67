using Relay.Protocol.Anthropic;
using Relay.Protocol.OpenAI;
using Relay.Protocol.Tests.Infrastructure;
using Relay.Protocol.Translation;
using static Relay.Protocol.Tests.Responses.ResponsesHarness;

namespace Relay.Protocol.Tests.Responses;

/// <summary>A provider's Responses API stream (openai-responses) → message events, shown as Anthropic SSE.</summary>
public sealed class ResponsesStreamTranslatorTests
{
    private const string Start = """message_start {"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-6","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":0,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":0}}}""";

    /// <summary>What gpt-5-codex streams: a reasoning summary in two parts, text, then two function calls.</summary>
    private static readonly string CodexModelStream = UpstreamSse(
        """{"type":"response.created","sequence_number":0,"response":{"id":"resp_9","object":"response","status":"in_progress","model":"gpt-5.1-codex","output":[],"usage":null}}""",
        """{"type":"response.in_progress","sequence_number":1,"response":{"id":"resp_9","object":"response","status":"in_progress","output":[]}}""",
        """{"type":"response.output_item.added","sequence_number":2,"output_index":0,"item":{"id":"rs_1","type":"reasoning","summary":[]}}""",
        """{"type":"response.reasoning_summary_part.added","sequence_number":3,"item_id":"rs_1","output_index":0,"summary_index":0,"part":{"type":"summary_text","text":""}}""",
        """{"type":"response.reasoning_summary_text.delta","sequence_number":4,"item_id":"rs_1","output_index":0,"summary_index":0,"delta":"**Planning**"}""",
        """{"type":"response.reasoning_summary_text.done","sequence_number":5,"item_id":"rs_1","output_index":0,"summary_index":0,"text":"**Planning**"}""",
        """{"type":"response.reasoning_summary_part.done","sequence_number":6,"item_id":"rs_1","output_index":0,"summary_index":0,"part":{"type":"summary_text","text":"**Planning**"}}""",
        """{"type":"response.reasoning_summary_part.added","sequence_number":7,"item_id":"rs_1","output_index":0,"summary_index":1,"part":{"type":"summary_text","text":""}}""",
        """{"type":"response.reasoning_summary_text.delta","sequence_number":8,"item_id":"rs_1","output_index":0,"summary_index":1,"delta":"Check both files."}""",
        """{"type":"response.output_item.done","sequence_number":9,"output_index":0,"item":{"id":"rs_1","type":"reasoning","summary":[{"type":"summary_text","text":"**Planning**"},{"type":"summary_text","text":"Check both files."}],"encrypted_content":"gAAAAABenc"}}""",
        """{"type":"response.output_item.added","sequence_number":10,"output_index":1,"item":{"id":"msg_1","type":"message","status":"in_progress","role":"assistant","content":[]}}""",
        """{"type":"response.content_part.added","sequence_number":11,"item_id":"msg_1","output_index":1,"content_index":0,"part":{"type":"output_text","annotations":[],"text":""}}""",
        """{"type":"response.output_text.delta","sequence_number":12,"item_id":"msg_1","output_index":1,"content_index":0,"delta":"Reading","logprobs":[]}""",
        """{"type":"response.output_text.delta","sequence_number":13,"item_id":"msg_1","output_index":1,"content_index":0,"delta":" both.","logprobs":[]}""",
        """{"type":"response.output_text.done","sequence_number":14,"item_id":"msg_1","output_index":1,"content_index":0,"text":"Reading both.","logprobs":[]}""",
        """{"type":"response.output_item.done","sequence_number":15,"output_index":1,"item":{"id":"msg_1","type":"message","status":"completed","role":"assistant","content":[{"type":"output_text","annotations":[],"text":"Reading both."}]}}""",
        """{"type":"response.output_item.added","sequence_number":16,"output_index":2,"item":{"id":"fc_1","type":"function_call","status":"in_progress","arguments":"","call_id":"call_A","name":"Read"}}""",
        """{"type":"response.function_call_arguments.delta","sequence_number":17,"item_id":"fc_1","output_index":2,"delta":"{\"file_path\":"}""",
        """{"type":"response.function_call_arguments.delta","sequence_number":18,"item_id":"fc_1","output_index":2,"delta":"\"a.txt\"}"}""",
        """{"type":"response.function_call_arguments.done","sequence_number":19,"item_id":"fc_1","output_index":2,"arguments":"{\"file_path\":\"a.txt\"}"}""",
        """{"type":"response.output_item.done","sequence_number":20,"output_index":2,"item":{"id":"fc_1","type":"function_call","status":"completed","arguments":"{\"file_path\":\"a.txt\"}","call_id":"call_A","name":"Read"}}""",
        """{"type":"response.output_item.added","sequence_number":21,"output_index":3,"item":{"id":"fc_2","type":"function_call","status":"in_progress","arguments":"","call_id":"call_B","name":"mcp__docs__search_the_documentation_of_a_very_long_named_service_x_19f0b0a8"}}""",
        """{"type":"response.function_call_arguments.done","sequence_number":22,"item_id":"fc_2","output_index":3,"arguments":"{\"q\":\"b\"}"}""",
        """{"type":"response.output_item.done","sequence_number":23,"output_index":3,"item":{"id":"fc_2","type":"function_call","status":"completed","arguments":"{\"q\":\"b\"}","call_id":"call_B","name":"mcp__docs__search_the_documentation_of_a_very_long_named_service_x_19f0b0a8"}}""",
        """{"type":"response.completed","sequence_number":24,"response":{"id":"resp_9","object":"response","status":"completed","model":"gpt-5.1-codex","output":[],"usage":{"input_tokens":5000,"input_tokens_details":{"cached_tokens":4096},"output_tokens":210,"output_tokens_details":{"reasoning_tokens":128},"total_tokens":5210}}}""");

    [Fact]
    public void TextReasoningSummaryAndTwoCalls_AreTheExactAnthropicTranscript()
    {
        var longName = "mcp__docs__search_the_documentation_of_a_very_long_named_service_x_19f0b0a8";
        var context = new TranslationContext("claude-sonnet-4-6", new Dictionary<string, string> { [longName] = "mcp__docs__search_the_documentation_of_a_very_long_named_service_xyz_with_extras" }) { MessageId = "msg_1" };

        var (events, translator) = Translate(CodexModelStream, context);

        AnthropicStream.AssertTranscript(Start + """

            content_block_start {"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":"","signature":""}}
            content_block_delta {"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"**Planning**"}}
            content_block_delta {"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"\n\n"}}
            content_block_delta {"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"Check both files."}}
            content_block_delta {"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"relay-responses-reasoning-v1:gAAAAABenc"}}
            content_block_stop {"type":"content_block_stop","index":0}
            content_block_start {"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}}
            content_block_delta {"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"Reading"}}
            content_block_delta {"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":" both."}}
            content_block_stop {"type":"content_block_stop","index":1}
            content_block_start {"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"call_A","name":"Read","input":{}}}
            content_block_delta {"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"{"}}
            content_block_delta {"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"\"file_path\":\"a.txt\"}"}}
            content_block_stop {"type":"content_block_stop","index":2}
            content_block_start {"type":"content_block_start","index":3,"content_block":{"type":"tool_use","id":"call_B","name":"mcp__docs__search_the_documentation_of_a_very_long_named_service_xyz_with_extras","input":{}}}
            content_block_delta {"type":"content_block_delta","index":3,"delta":{"type":"input_json_delta","partial_json":"{\"q\":\"b\"}"}}
            content_block_stop {"type":"content_block_stop","index":3}
            message_delta {"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"input_tokens":904,"cache_creation_input_tokens":0,"cache_read_input_tokens":4096,"output_tokens":210}}
            message_stop {"type":"message_stop"}
            """, events);
        Assert.Empty(AnthropicStream.Problems(events));
        Assert.True(translator.Completed);
        Assert.True(translator.UsageReported);
        Assert.Equal(new TokenUsage(904, 210, 0, 4096), translator.Usage);
    }

    [Fact]
    public void StreamEndingWithoutResponseCompleted_IsAnError()
    {
        var (events, translator) = Translate(UpstreamSse(
            """{"type":"response.created","response":{"id":"r","status":"in_progress"}}""",
            """{"type":"response.output_text.delta","item_id":"m1","output_index":0,"content_index":0,"delta":"Hal"}"""));

        Assert.Equal("error", events[^1].Name);
        Assert.Equal(("api_error", "The provider's stream ended before the answer was finished."), ((string?)events[^1].Data["error"]!["type"], (string?)events[^1].Data["error"]!["message"]));
        Assert.True(translator.Failed);
        Assert.Empty(AnthropicStream.Problems(events));
    }

    [Theory]
    [InlineData("""{"type":"response.failed","response":{"id":"r","status":"failed","error":{"code":"rate_limit_exceeded","message":"Rate limit reached. Please try again in 2s."}}}""", "rate_limit_error", "Rate limit reached. Please try again in 2s.")]
    [InlineData("""{"type":"response.failed","response":{"id":"r","status":"failed","error":{"code":"context_length_exceeded","message":"Your input exceeds the context window of this model."}}}""", "invalid_request_error", "prompt is too long: Your input exceeds the context window of this model.")]
    [InlineData("""{"type":"response.failed","response":{"id":"r","status":"failed","error":{"code":"server_error","message":"An error occurred while processing your request."}}}""", "api_error", "An error occurred while processing your request.")]
    [InlineData("""{"type":"error","code":"server_is_overloaded","message":"The server is overloaded.","param":null,"sequence_number":3}""", "overloaded_error", "The server is overloaded.")]
    public void FailedOrErrorEvent_IsAnErrorEvent_ThenNothing(string failure, string type, string message)
    {
        var (events, translator) = Translate(UpstreamSse(
            """{"type":"response.created","response":{"id":"r","status":"in_progress"}}""",
            failure,
            """{"type":"response.output_text.delta","item_id":"m1","output_index":0,"content_index":0,"delta":"late"}"""));

        Assert.Equal(["message_start", "error"], events.Select(e => e.Name));
        Assert.Equal((type, message), ((string?)events[1].Data["error"]!["type"], (string?)events[1].Data["error"]!["message"]));
        Assert.Equal(type, translator.ErrorType);
    }

    [Fact]
    public void Incomplete_MaxOutputTokens_IsMaxTokens()
    {
        var (events, _) = Translate(UpstreamSse(
            """{"type":"response.output_text.delta","item_id":"m1","output_index":0,"content_index":0,"delta":"Long"}""",
            """{"type":"response.incomplete","response":{"id":"r","status":"incomplete","incomplete_details":{"reason":"max_output_tokens"},"usage":{"input_tokens":10,"output_tokens":100}}}"""));

        Assert.Equal("max_tokens", (string?)events[^2].Data["delta"]!["stop_reason"]);
        Assert.Empty(AnthropicStream.Problems(events));
    }

    [Fact]
    public void ItemsOnlyInOutputItemDone_AreStillSent_AndBrokenArgumentsAreRepaired()
    {
        var (events, translator) = Translate(UpstreamSse(
            """{"type":"response.output_item.done","output_index":0,"item":{"id":"rs_1","type":"reasoning","summary":[{"type":"summary_text","text":"Think."}]}}""",
            """{"type":"response.output_item.done","output_index":1,"item":{"id":"m_1","type":"message","role":"assistant","content":[{"type":"output_text","text":"Hi."}]}}""",
            """{"type":"response.output_item.done","output_index":2,"item":{"id":"fc_1","type":"function_call","call_id":"call_1","name":"Bash","arguments":"{\"command\":\"ls\""}}""",
            """{"type":"response.completed","response":{"id":"r","status":"completed","usage":{"input_tokens":3,"output_tokens":4}}}"""));

        var content = AnthropicStream.Content(events);
        Assert.Equal("""[{"type":"thinking","thinking":"Think.","signature":"relay-translated-thinking-v1"},{"type":"text","text":"Hi."},{"type":"tool_use","id":"call_1","name":"Bash","input":{"command":"ls"}}]""", content.ToJsonString());
        Assert.Equal(1, translator.RepairedToolCalls);
        Assert.Empty(AnthropicStream.Problems(events));
    }

    [Fact]
    public void NonStreamingResponse_EmitsTheSameBlocks()
    {
        var response = new ResponseObject
        {
            Id = "resp_1",
            Status = "completed",
            Output =
            [
                new ResponseOutputItem { Type = "reasoning", Id = "rs_1", Summary = [new ResponseContentPart { Type = "summary_text", Text = "Plan." }], EncryptedContent = "enc" },
                new ResponseOutputItem { Type = "message", Id = "m_1", Content = [new ResponseContentPart { Type = "output_text", Text = "Done." }] },
                new ResponseOutputItem { Type = "web_search_call", Id = "ws_1" },
                new ResponseOutputItem { Type = "function_call", Id = "fc_1", CallId = "call_1", Name = "Read", Arguments = """{"file_path":"a"}""" },
            ],
            Usage = new ResponseUsage { InputTokens = 50, InputTokensDetails = new ResponseInputTokensDetails { CachedTokens = 10 }, OutputTokens = 7 },
        };
        var output = new System.Buffers.ArrayBufferWriter<byte>();
        using var writer = new Relay.Protocol.Events.AnthropicSseEvents(output);
        var translator = new ResponsesStreamTranslator(writer, new TranslationContext("m", null) { MessageId = "msg_1" });

        translator.OnResponse(response);

        var events = AnthropicStream.Parse(System.Text.Encoding.UTF8.GetString(output.WrittenSpan));
        Assert.Equal("""[{"type":"thinking","thinking":"Plan.","signature":"relay-responses-reasoning-v1:enc"},{"type":"text","text":"Done."},{"type":"tool_use","id":"call_1","name":"Read","input":{"file_path":"a"}}]""", AnthropicStream.Content(events).ToJsonString());
        Assert.Equal("""{"input_tokens":40,"cache_creation_input_tokens":0,"cache_read_input_tokens":10,"output_tokens":7}""", events[^2].Data["usage"]!.ToJsonString());
        Assert.Empty(AnthropicStream.Problems(events));
    }

    [Fact]
    public void Parse_ReadsEventsFromBytes_AndSkipsNoise()
    {
        Assert.Null(ResponsesStreamTranslator.Parse("", "[DONE]"u8));
        Assert.Null(ResponsesStreamTranslator.Parse("", "not json"u8));
        Assert.Equal("response.output_text.delta", ResponsesStreamTranslator.Parse("response.output_text.delta", """{"delta":"x"}"""u8)!.Type);
        Assert.Equal(42, ResponsesStreamTranslator.Parse("", """{"type":"error","code":42,"message":"m"}"""u8) is { Code: "42" } ? 42 : 0);
    }
}

/// <summary>The pump over a provider's Responses body: bytes split anywhere, and the whole Responses-to-Responses path.</summary>
public sealed class ResponsesStreamPumpTests
{
    private static readonly string Upstream = UpstreamSse(
        """{"type":"response.created","response":{"id":"r","status":"in_progress"}}""",
        """{"type":"response.output_item.added","output_index":0,"item":{"id":"m1","type":"message","role":"assistant","content":[]}}""",
        """{"type":"response.output_text.delta","item_id":"m1","output_index":0,"content_index":0,"delta":"Grüße "}""",
        """{"type":"response.output_text.delta","item_id":"m1","output_index":0,"content_index":0,"delta":"🌍"}""",
        """{"type":"response.output_item.done","output_index":0,"item":{"id":"m1","type":"message","role":"assistant","content":[{"type":"output_text","text":"Grüße 🌍"}]}}""",
        """{"type":"response.output_item.added","output_index":1,"item":{"id":"fc1","type":"function_call","call_id":"call_1","name":"shell","arguments":""}}""",
        """{"type":"response.function_call_arguments.delta","item_id":"fc1","output_index":1,"delta":"{\"command\":[\"ls\"]}"}""",
        """{"type":"response.output_item.done","output_index":1,"item":{"id":"fc1","type":"function_call","call_id":"call_1","name":"shell","arguments":"{\"command\":[\"ls\"]}"}}""",
        """{"type":"response.completed","response":{"id":"r","status":"completed","usage":{"input_tokens":12,"output_tokens":3}}}""");

    private static async Task<string> PumpAsync(string upstreamSse, int readSize, Func<System.Buffers.IBufferWriter<byte>, Relay.Protocol.Events.IMessageEvents> writer)
    {
        using var upstream = new ChunkedStream(System.Text.Encoding.UTF8.GetBytes(upstreamSse), readSize);
        var client = new MemoryStream();
        var output = new System.Buffers.ArrayBufferWriter<byte>();
        var events = writer(output);
        var translator = new ResponsesStreamTranslator(events, new TranslationContext("m", null) { MessageId = "msg_p" });
        await ChatStreamPump.RunAsync(upstream, client, translator, output, Relay.Protocol.Tests.Infrastructure.Translate.NoTimers, null, CancellationToken.None);
        (events as IDisposable)?.Dispose();
        return System.Text.Encoding.UTF8.GetString(client.ToArray());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(7)]
    public async Task BytesSplitAnywhere_GiveTheSameAnthropicStream(int readSize)
    {
        var events = AnthropicStream.Parse(await PumpAsync(Upstream, readSize, o => new Relay.Protocol.Events.AnthropicSseEvents(o)));

        Assert.Empty(AnthropicStream.Problems(events));
        Assert.True(System.Text.Json.Nodes.JsonNode.DeepEquals(
            System.Text.Json.Nodes.JsonNode.Parse("""[{"type":"text","text":"Grüße 🌍"},{"type":"tool_use","id":"call_1","name":"shell","input":{"command":["ls"]}}]"""),
            AnthropicStream.Content(events)));
    }

    [Fact]
    public async Task BodyEndingEarly_EndsTheClientStreamWithAnError()
    {
        var cut = Upstream[..Upstream.IndexOf("event: response.completed", StringComparison.Ordinal)];

        var events = AnthropicStream.Parse(await PumpAsync(cut, 0, o => new Relay.Protocol.Events.AnthropicSseEvents(o)));

        Assert.Equal("error", events[^1].Name);
        Assert.Empty(AnthropicStream.Problems(events));
    }

    [Fact]
    public async Task ResponsesProvider_ToResponsesClient_KeepsCallIdsAndText()
    {
        var text = await PumpAsync(Upstream, 5, o => new Relay.Protocol.Events.ResponsesEvents(o, null, ResponsesHarness.CreatedAt));
        var events = AnthropicStream.Parse(text);

        var completed = events[^1];
        Assert.Equal("response.completed", completed.Name);
        Assert.True(System.Text.Json.Nodes.JsonNode.DeepEquals(
            System.Text.Json.Nodes.JsonNode.Parse("""[{"id":"msg_p_0","type":"message","status":"completed","role":"assistant","content":[{"type":"output_text","annotations":[],"text":"Grüße 🌍"}]},{"id":"fc_p_1","type":"function_call","status":"completed","arguments":"{\"command\":[\"ls\"]}","call_id":"call_1","name":"shell"}]"""),
            completed.Data["response"]!["output"]), completed.ToString());
        Assert.Equal(15, (int)completed.Data["response"]!["usage"]!["total_tokens"]!);
    }
}
