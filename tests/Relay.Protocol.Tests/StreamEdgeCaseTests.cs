using System.Buffers;
using System.Text;
using Relay.Protocol.Tests.Infrastructure;
using Relay.Protocol.Translation;

namespace Relay.Protocol.Tests;

/// <summary>Every streaming edge case the issue lists, one test each.</summary>
public sealed class StreamEdgeCaseTests
{
    private static string Content(string text, string? finish = null) =>
        """{"id":"c","choices":[{"index":0,"delta":{"content":@@0@@},"finish_reason":@@1@@}]}"""
            .Replace("@@0@@", System.Text.Json.JsonSerializer.Serialize(text), StringComparison.Ordinal)
            .Replace("@@1@@", finish is null ? "null" : $"\"{finish}\"", StringComparison.Ordinal);

    private const string Usage = """{"id":"c","choices":[],"usage":{"prompt_tokens":10,"completion_tokens":3,"total_tokens":13}}""";

    [Fact]
    public async Task MessageStart_CarriesRelaysInputEstimate_MessageDeltaTheProvidersNumbers()
    {
        var upstream = Translate.Sse(Content("hi"), Content("", "stop"), Usage);

        var (_, events, translator) = await Translate.StreamAsync(upstream, new TranslationContext("m", null) { EstimatedInputTokens = 1234 });

        Assert.Equal(1234, (long)AnthropicStream.Find(events, "message_start")!["message"]!["usage"]!["input_tokens"]!);
        var final = AnthropicStream.Find(events, "message_delta")!["usage"]!;
        Assert.Equal((10, 3), ((long)final["input_tokens"]!, (long)final["output_tokens"]!));
        Assert.Equal(10, translator.Usage.InputTokens);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(7)]
    public async Task Utf8SplitAcrossReads_TextArrivesIntact(int readSize)
    {
        var upstream = Translate.Sse(Content("héllo ☕ 你好 🎉"), Content("", "stop"), Usage);

        var (_, events, _) = await Translate.StreamAsync(upstream, readSize: readSize);

        Assert.Empty(AnthropicStream.Problems(events));
        Assert.Equal("héllo ☕ 你好 🎉", (string?)AnthropicStream.Content(events)[0]!["text"]);
    }

    [Fact]
    public async Task CommentLines_DataWithoutSpace_AndCrLf_AreHandled()
    {
        var upstream = ": keep-alive\r\n\r\ndata:" + Content("a") + "\r\n\r\n: ping\n\ndata: " + Content("b", "stop") + "\n\ndata:[DONE]\n\n";

        var (_, events, _) = await Translate.StreamAsync(upstream);

        Assert.Empty(AnthropicStream.Problems(events));
        Assert.Equal("ab", (string?)AnthropicStream.Content(events)[0]!["text"]);
    }

    [Fact]
    public async Task ContentAndFinishReasonInOneChunk_ContentIsKept()
    {
        var (_, events, _) = await Translate.StreamAsync(Translate.Sse(Content("all at once", "stop")));

        Assert.Empty(AnthropicStream.Problems(events));
        Assert.Equal("all at once", (string?)AnthropicStream.Content(events)[0]!["text"]);
        Assert.Equal("end_turn", (string?)AnthropicStream.Find(events, "message_delta")!["delta"]!["stop_reason"]);
    }

    [Fact]
    public async Task UsageOnlyInTrailingChunk_IsInTheFinalMessageDelta()
    {
        var (_, events, translator) = await Translate.StreamAsync(Translate.Sse(Content("x"), Content("", "stop"), Usage));

        var usage = AnthropicStream.Find(events, "message_delta")!["usage"]!;
        Assert.Equal((10, 3), ((int)usage["input_tokens"]!, (int)usage["output_tokens"]!));
        Assert.True(translator.UsageReported);
        // The end waits for the usage: no event between finish and usage would be allowed to close the message early.
        Assert.Equal("message_stop", events[^1].Name);
    }

    [Fact]
    public async Task NoUsageAtAll_ReportsZeroAndDoesNotInventNumbers()
    {
        var (_, events, translator) = await Translate.StreamAsync(Translate.Sse(Content("x", "stop")));

        Assert.Empty(AnthropicStream.Problems(events));
        Assert.False(translator.UsageReported);
        Assert.Equal(0, (int)AnthropicStream.Find(events, "message_delta")!["usage"]!["output_tokens"]!);
    }

    [Fact]
    public async Task DoneWithoutFinishReason_EndsAsEndTurn()
    {
        var (_, events, _) = await Translate.StreamAsync(Translate.Sse(Content("x")));

        Assert.Empty(AnthropicStream.Problems(events));
        Assert.Equal("end_turn", (string?)AnthropicStream.Find(events, "message_delta")!["delta"]!["stop_reason"]);
    }

    [Fact]
    public async Task NoDone_FinishReasonThenEndOfBody_EndsNormally()
    {
        var upstream = "data: " + Content("x") + "\n\ndata: " + Content("", "stop") + "\n\n";

        var (_, events, translator) = await Translate.StreamAsync(upstream);

        Assert.Empty(AnthropicStream.Problems(events));
        Assert.True(translator.Completed);
    }

    [Fact]
    public async Task BodyEndsWithoutFinishOrDone_IsReportedAsAnErrorNotAsAWholeAnswer()
    {
        var (_, events, translator) = await Translate.StreamAsync("data: " + Content("half an ans") + "\n\n");

        Assert.Empty(AnthropicStream.Problems(events));
        Assert.Equal("error", events[^1].Name);
        Assert.True(translator.Failed);
    }

    [Fact]
    public async Task ConnectionDropsAfterPartialText_ErrorEventThenNothing()
    {
        using var upstream = new ScriptedStream([("data: " + Content("partial") + "\n\n", TimeSpan.Zero)], new IOException("connection reset by peer"));
        var (events, translator) = await RunAsync(upstream, Translate.NoTimers);

        Assert.Empty(AnthropicStream.Problems(events));
        Assert.Equal("error", events[^1].Name);
        Assert.Contains("connection reset", (string?)events[^1].Data["error"]!["message"], StringComparison.Ordinal);
        Assert.Equal("api_error", translator.ErrorType);
    }

    [Fact]
    public async Task InBandErrorChunk_BecomesAnErrorEventWithMappedType()
    {
        var upstream = Translate.Sse(Content("a"), """{"error":{"message":"Rate limit reached for requests","type":"requests","code":"rate_limit_exceeded"}}""", Content("b"));

        var (_, events, _) = await Translate.StreamAsync(upstream);

        Assert.Empty(AnthropicStream.Problems(events));
        Assert.Equal("rate_limit_error", (string?)events[^1].Data["error"]!["type"]);
    }

    [Fact]
    public async Task ErrorWithStringShape_IsStillAnErrorEvent()
    {
        var (_, events, _) = await Translate.StreamAsync(Translate.Sse(Content("a"), """{"error":"model runner crashed"}"""));

        Assert.Equal("error", events[^1].Name);
        Assert.Equal("model runner crashed", (string?)events[^1].Data["error"]!["message"]);
    }

    [Fact]
    public async Task ContentAfterTheEnd_IsDropped()
    {
        var upstream = "data: " + Content("x", "stop") + "\n\ndata: " + Usage + "\n\ndata: " + Content("trailing junk") + "\n\ndata: [DONE]\n\n";

        var (_, events, _) = await Translate.StreamAsync(upstream);

        Assert.Empty(AnthropicStream.Problems(events));
        Assert.Equal("x", (string?)AnthropicStream.Content(events)[0]!["text"]);
    }

    [Fact]
    public async Task EmptyReasoningDeltas_OpenNoEmptyThinkingBlock()
    {
        var upstream = Translate.Sse(
            """{"choices":[{"index":0,"delta":{"role":"assistant","content":"","reasoning_content":""}}]}""",
            """{"choices":[{"index":0,"delta":{"content":"hi","reasoning_content":""}}]}""",
            """{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}""");

        var (_, events, _) = await Translate.StreamAsync(upstream);

        var content = AnthropicStream.Content(events);
        Assert.Single(content);
        Assert.Equal("text", (string?)content[0]!["type"]);
    }

    [Fact]
    public async Task ToolCallIdArrivesLate_AndMissingIdIsSynthesized()
    {
        var upstream = Translate.Sse(
            """{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"name":"A","arguments":"{}"}}]}}]}""",
            """{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_late"}]}}]}""",
            """{"choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"function":{"name":"B","arguments":"{}"}}]}}]}""",
            """{"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}""");

        var (_, events, _) = await Translate.StreamAsync(upstream);

        var content = AnthropicStream.Content(events);
        Assert.Equal("call_late", (string?)content[0]!["id"]);
        Assert.StartsWith("toolu_", (string?)content[1]!["id"], StringComparison.Ordinal);
        Assert.Empty(AnthropicStream.Problems(events));
    }

    [Fact]
    public async Task ToolCallWhoseNameNeverArrives_IsDropped()
    {
        var upstream = Translate.Sse(
            """{"choices":[{"index":0,"delta":{"content":"hmm","tool_calls":[{"index":0,"id":"x","function":{"arguments":"{}"}}]}}]}""",
            """{"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}""");

        var (_, events, _) = await Translate.StreamAsync(upstream);

        Assert.Single(AnthropicStream.Content(events));
        Assert.Equal("end_turn", (string?)AnthropicStream.Find(events, "message_delta")!["delta"]!["stop_reason"]);
    }

    [Fact]
    public async Task TruncatedToolJson_IsRepaired()
    {
        var upstream = Translate.Sse(
            """{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"c1","function":{"name":"Bash","arguments":"{\"command\": \"ls -la\", \"descr"}}]}}]}""",
            """{"choices":[{"index":0,"delta":{},"finish_reason":"length"}]}""");

        var (_, events, translator) = await Translate.StreamAsync(upstream);

        var input = AnthropicStream.Content(events)[0]!["input"]!;
        Assert.Equal("ls -la", (string?)input["command"]);
        Assert.Equal(1, translator.RepairedToolCalls);
    }

    [Fact]
    public async Task HopelessToolJson_IsReportedAsValidJsonCarryingTheRawText()
    {
        var upstream = Translate.Sse(
            """{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"c1","function":{"name":"Bash","arguments":"command=ls"}}]}}]}""",
            """{"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}""");

        var (_, events, translator) = await Translate.StreamAsync(upstream);

        var input = AnthropicStream.Content(events)[0]!["input"]!;
        Assert.Equal("command=ls", (string?)input[ToolArguments.InvalidKey]);
        Assert.Equal(1, translator.InvalidToolCalls);
    }

    [Fact]
    public async Task RefusalDelta_BecomesTextWithRefusalStopReason()
    {
        var upstream = Translate.Sse("""{"choices":[{"index":0,"delta":{"refusal":"I can't help with that."}}]}""", """{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}""");

        var (_, events, _) = await Translate.StreamAsync(upstream);

        Assert.Equal("I can't help with that.", (string?)AnthropicStream.Content(events)[0]!["text"]);
        Assert.Equal("refusal", (string?)AnthropicStream.Find(events, "message_delta")!["delta"]!["stop_reason"]);
    }

    [Fact]
    public async Task LegacyFunctionCallDelta_BecomesToolUse()
    {
        var upstream = Translate.Sse(
            """{"choices":[{"index":0,"delta":{"function_call":{"name":"lookup","arguments":"{\"q\":"}}}]}""",
            """{"choices":[{"index":0,"delta":{"function_call":{"arguments":"\"x\"}"}}}]}""",
            """{"choices":[{"index":0,"delta":{},"finish_reason":"function_call"}]}""");

        var (_, events, _) = await Translate.StreamAsync(upstream);

        var block = AnthropicStream.Content(events)[0]!;
        Assert.Equal(("lookup", "x"), ((string?)block["name"], (string?)block["input"]!["q"]));
    }

    [Fact]
    public async Task ShortenedToolName_IsRestored()
    {
        var longName = "mcp__a_very_long_server_name_for_testing__and_an_even_longer_tool_name_here";
        var shortName = ToolNames.ToUpstream(longName);
        var upstream = Translate.Sse(
            """{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"c","function":{"name":"@@0@@","arguments":"{}"}}]},"finish_reason":"tool_calls"}]}""".Replace("@@0@@", shortName, StringComparison.Ordinal));

        var (_, events, _) = await Translate.StreamAsync(upstream, new TranslationContext("m", new Dictionary<string, string> { [shortName] = longName }));

        Assert.True(shortName.Length <= 64);
        Assert.Equal(longName, (string?)AnthropicStream.Content(events)[0]!["name"]);
    }

    [Fact]
    public async Task LongUpstreamSilence_SendsPings_AndTheStreamStaysValid()
    {
        using var upstream = new ScriptedStream([
            ("data: " + Content("a") + "\n\n", TimeSpan.Zero),
            ("data: " + Content("b", "stop") + "\n\ndata: [DONE]\n\n", TimeSpan.FromMilliseconds(400)),
        ]);

        var (events, _) = await RunAsync(upstream, new ChatStreamTiming(TimeSpan.FromMilliseconds(60), TimeSpan.FromSeconds(10)));

        Assert.Empty(AnthropicStream.Problems(events));
        Assert.True(events.Count(e => e.Name == "ping") >= 2, string.Join('\n', events));
        Assert.Equal("ab", (string?)AnthropicStream.Content(events)[0]!["text"]);
    }

    [Fact]
    public async Task UpstreamSilentLongerThanIdleTimeout_ErrorEventEndsTheStream()
    {
        using var upstream = new ScriptedStream([
            ("data: " + Content("a") + "\n\n", TimeSpan.Zero),
            ("data: " + Content("b", "stop") + "\n\n", TimeSpan.FromSeconds(30)),
        ]);

        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var (events, translator) = await RunAsync(upstream, new ChatStreamTiming(TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(300)));

        Assert.True(System.Diagnostics.Stopwatch.GetElapsedTime(started) < TimeSpan.FromSeconds(5));
        Assert.Equal("error", events[^1].Name);
        Assert.True(translator.Failed);
        Assert.Empty(AnthropicStream.Problems(events));
    }

    [Fact]
    public async Task ClientCancellation_PropagatesSoTheUpstreamCallIsCancelled()
    {
        using var upstream = new ScriptedStream([
            ("data: " + Content("a") + "\n\n", TimeSpan.Zero),
            ("data: " + Content("b", "stop") + "\n\n", TimeSpan.FromSeconds(30)),
        ]);
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        var output = new ArrayBufferWriter<byte>();
        using var translator = new ChatStreamTranslator(output, new TranslationContext("m", null));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            ChatStreamPump.RunAsync(upstream, new MemoryStream(), translator, output, Translate.NoTimers, null, cts.Token));
    }

    private static async Task<(List<SseEvent> Events, ChatStreamTranslator Translator)> RunAsync(Stream upstream, ChatStreamTiming timing)
    {
        var client = new MemoryStream();
        var output = new ArrayBufferWriter<byte>();
        var translator = new ChatStreamTranslator(output, new TranslationContext("m", null));
        await ChatStreamPump.RunAsync(upstream, client, translator, output, timing, null, TestContext.Current.CancellationToken);
        return (AnthropicStream.Parse(Encoding.UTF8.GetString(client.ToArray())), translator);
    }
}
