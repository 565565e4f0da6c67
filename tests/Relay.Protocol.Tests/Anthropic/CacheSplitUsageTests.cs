using System.Buffers;
using System.Text;
using Relay.Protocol.Anthropic;
using Relay.Protocol.Events;
using Relay.Protocol.Sse;
using Relay.Protocol.Tests.Sse;

namespace Relay.Protocol.Tests.Anthropic;

/// <summary>The cache-write split (5-minute / 1-hour) and billed server-tool calls, wherever Anthropic usage is read:
/// whole bodies and pass-through streams (<see cref="AnthropicObjectSummary"/>, <see cref="SseUsageScanner"/>) and
/// answers translated for other doors (<see cref="AnthropicEventReader"/>).</summary>
public sealed class CacheSplitUsageTests
{
    private const string MessageStartWithSplit = """
        {"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-6","content":[],"stop_reason":null,
         "usage":{"input_tokens":12,"cache_creation_input_tokens":3000,"cache_read_input_tokens":40000,
                  "cache_creation":{"ephemeral_5m_input_tokens":1000,"ephemeral_1h_input_tokens":2000},"output_tokens":1,"service_tier":"standard"}}}
        """;

    // Cumulative, as Anthropic sends it: the totals again, without the split, and the searches run so far.
    private const string MessageDeltaWithSearches = """
        {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},
         "usage":{"input_tokens":12,"cache_creation_input_tokens":3000,"cache_read_input_tokens":40000,"output_tokens":250,
                  "server_tool_use":{"web_search_requests":3,"web_fetch_requests":2}}}
        """;

    private static readonly TokenUsage StreamUsage = new(InputTokens: 12, OutputTokens: 250, CacheCreationInputTokens: 3000, CacheReadInputTokens: 40000)
    {
        CacheCreation1hInputTokens = 2000,
        ServerToolUses = 3,
    };

    private static UsageFields Summary(string json)
    {
        Assert.True(AnthropicObjectSummary.TryRead(Encoding.UTF8.GetBytes(json), out var summary));
        return summary.Usage;
    }

    [Fact]
    public void WholeBody_WithSplit_OneHourPartAndTotal()
    {
        var usage = Summary("""
            {"type":"message","usage":{"input_tokens":5,"cache_creation_input_tokens":700,
             "cache_creation":{"ephemeral_5m_input_tokens":200,"ephemeral_1h_input_tokens":500},"output_tokens":9}}
            """);

        Assert.Equal(700, usage.CacheCreationInputTokens);
        Assert.Equal(500, usage.CacheCreation1hInputTokens);
    }

    [Fact]
    public void WholeBody_WithoutSplit_EveryCacheWriteIsFiveMinutes()
    {
        var usage = Summary("""{"type":"message","usage":{"input_tokens":5,"cache_creation_input_tokens":700,"output_tokens":9}}""");
        var total = default(TokenUsage);
        total.Apply(usage);

        Assert.Equal(700, total.CacheCreationInputTokens);
        Assert.Null(usage.CacheCreation1hInputTokens);
        Assert.Equal(0, total.CacheCreation1hInputTokens);
    }

    [Fact]
    public void WholeBody_SplitWithoutTotal_TotalIsTheSplitsSum()
    {
        // The split may come before or after the other fields.
        var usage = Summary("""
            {"type":"message","usage":{"cache_creation":{"ephemeral_1h_input_tokens":500,"ephemeral_5m_input_tokens":200},"input_tokens":5,"output_tokens":9}}
            """);

        Assert.Equal(700, usage.CacheCreationInputTokens);
        Assert.Equal(500, usage.CacheCreation1hInputTokens);
    }

    [Fact]
    public void WholeBody_SplitWithOnlyFiveMinutes_NoOneHourPart()
    {
        var usage = Summary("""{"type":"message","usage":{"cache_creation":{"ephemeral_5m_input_tokens":200},"input_tokens":5,"output_tokens":9}}""");

        Assert.Equal(200, usage.CacheCreationInputTokens);
        Assert.Equal(0, usage.CacheCreation1hInputTokens);
    }

    [Fact]
    public void WholeBody_ServerToolUse_CountsWebSearchesOnly_FetchesAreFree()
    {
        var usage = Summary("""
            {"type":"message","usage":{"input_tokens":5,"output_tokens":9,"server_tool_use":{"web_fetch_requests":4,"web_search_requests":2,"future_requests":{"n":1}}}}
            """);

        Assert.Equal(2, usage.ServerToolUses);
        Assert.Equal(5, usage.InputTokens);
        Assert.Equal(9, usage.OutputTokens);
    }

    [Fact]
    public void WholeBody_MalformedSplitAndServerTools_IgnoredAndTheRestRead()
    {
        var usage = Summary("""
            {"type":"message","usage":{"cache_creation":[1,2],"server_tool_use":"many","cache_creation_input_tokens":70,
             "input_tokens":5,"output_tokens":{"x":1}}}
            """);

        Assert.Equal(70, usage.CacheCreationInputTokens);
        Assert.Null(usage.CacheCreation1hInputTokens);
        Assert.Null(usage.ServerToolUses);
        Assert.Equal(5, usage.InputTokens);
        Assert.Null(usage.OutputTokens);
    }

    [Fact]
    public void PassThroughStream_MessageStartSplit_SurvivesCumulativeMessageDelta()
    {
        var bytes = SseStreams.Events("\n", true,
            ("message_start", MessageStartWithSplit.ReplaceLineEndings("")),
            ("message_delta", MessageDeltaWithSearches.ReplaceLineEndings("")),
            ("message_stop", SseStreams.MessageStop));

        Assert.Equal(StreamUsage, SseStreams.ScanInChunksOf(bytes, 7).Usage);
    }

    [Fact]
    public void PassThroughStream_CutAfterMessageStart_InputAndCacheWritesAlreadyCounted()
    {
        var bytes = SseStreams.Events("\n", true, ("message_start", MessageStartWithSplit.ReplaceLineEndings("")));

        var usage = SseStreams.Scan(bytes).Usage;

        Assert.Equal(12, usage.InputTokens);
        Assert.Equal(3000, usage.CacheCreationInputTokens);
        Assert.Equal(2000, usage.CacheCreation1hInputTokens);
        Assert.Equal(40000, usage.CacheReadInputTokens);
    }

    [Fact]
    public void TranslatedStream_SplitAndSearches_InTheReadersUsage()
    {
        var sse = $"""
            event: message_start
            data: {MessageStartWithSplit.ReplaceLineEndings("")}

            event: message_delta
            data: {MessageDeltaWithSearches.ReplaceLineEndings("")}

            event: message_stop
            data: {SseStreams.MessageStop}


            """;
        using var events = new AnthropicSseEvents(new ArrayBufferWriter<byte>());
        using var reader = new AnthropicEventReader(events, "claude-sonnet-4-6");
        var bytes = Encoding.UTF8.GetBytes(sse);
        for (var i = 0; i < bytes.Length; i += 11)
        {
            reader.Feed(bytes.AsSpan(i, Math.Min(11, bytes.Length - i)));
        }

        Assert.True(reader.Completed);
        Assert.Equal(StreamUsage, reader.Usage);
    }

    [Fact]
    public void TranslatedWholeMessage_SplitAndSearches_InTheReadersUsage()
    {
        var events = new AnthropicMessageEvents(new ArrayBufferWriter<byte>());
        using var reader = new AnthropicEventReader(events, "claude-sonnet-4-6");

        reader.ReadMessage(Encoding.UTF8.GetBytes("""
            {"id":"msg_1","type":"message","role":"assistant","content":[{"type":"text","text":"Hi"}],"stop_reason":"end_turn",
             "usage":{"input_tokens":12,"cache_creation_input_tokens":3000,"cache_read_input_tokens":40000,"output_tokens":250,
                      "cache_creation":{"ephemeral_5m_input_tokens":1000,"ephemeral_1h_input_tokens":2000},
                      "server_tool_use":{"web_search_requests":3,"web_fetch_requests":2}}}
            """));

        Assert.True(reader.Completed);
        Assert.Equal(StreamUsage, reader.Usage);
    }
}
