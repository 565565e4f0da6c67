using Relay.Protocol.Anthropic;
using Relay.Protocol.Sse;

namespace Relay.Protocol.Tests.Sse;

/// <summary>The output estimate of a stream cut before its final <c>message_delta</c>: answer bytes relayed over 4.</summary>
public sealed class SseOutputEstimateTests
{
    private const string Start = """{"type":"message_start","message":{"id":"m","type":"message","role":"assistant","content":[],"usage":{"input_tokens":100,"output_tokens":1}}}""";

    // Unescaped bytes: Let me "think" = 14; the signature counts nothing; héllo and a newline = 7 (é is 2); the tool
    // input's text {"a":"\u00e9"} = 14 (its own escape is part of the JSON the model wrote). Total 35.
    private static readonly (string Name, string Data)[] CutEvents =
    [
        ("message_start", Start),
        ("content_block_start", """{"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":""}}"""),
        ("content_block_delta", """{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"Let me \"think\""}}"""),
        ("content_block_delta", """{"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxDa3Ha5Y2VGm0Syg"}}"""),
        ("content_block_delta", """{"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"héllo\n"}}"""),
        ("content_block_delta", """{"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"{\"a\":\"\\u00e9\"}"}}"""),
    ];

    private const long CutBytes = 35;

    public static TheoryData<string, bool> Framings => new() { { "\n", true }, { "\r\n", true }, { "\r", true }, { "\n", false } };

    [Theory]
    [MemberData(nameof(Framings))]
    public void CutStream_CountsTheDeltasText_HoweverItIsChunked(string newline, bool eventLines)
    {
        var bytes = SseStreams.Events(newline, eventLines, CutEvents);
        for (var size = 1; size <= bytes.Length; size += size < 16 ? 1 : 37)
        {
            using var scanner = Scan(bytes, size);

            Assert.Equal(CutBytes, scanner.ContentBytes);
            Assert.Equal(new TokenUsage(100, 1, 0, 0), scanner.Usage);
            Assert.Equal(new TokenUsage(100, CutBytes / 4, 0, 0), scanner.BillableUsage(0));
        }
    }

    [Fact]
    public void CompleteStream_BillsTheProvidersOutput_EvenBelowTheEstimate()
    {
        var bytes = SseStreams.Events("\n", true,
            [.. CutEvents, ("message_delta", """{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":3}}"""), ("message_stop", SseStreams.MessageStop)]);

        using var scanner = Scan(bytes, bytes.Length);

        Assert.Equal(CutBytes, scanner.ContentBytes);
        Assert.Equal(new TokenUsage(100, 3, 0, 0), scanner.BillableUsage(0));
    }

    [Fact]
    public void CutStream_ProviderReportedMoreThanTheEstimate_KeepsTheReport()
    {
        var bytes = SseStreams.Events("\n", true,
            ("message_start", Start.Replace("\"output_tokens\":1", "\"output_tokens\":500", StringComparison.Ordinal)), CutEvents[4]);

        using var scanner = Scan(bytes, bytes.Length);

        Assert.Equal(500, scanner.BillableUsage(0).OutputTokens);
    }

    [Fact]
    public void CutStream_EstimateNeverExceedsTheOutputLimit()
    {
        var bytes = SseStreams.Events("\n", true, CutEvents);

        using var scanner = Scan(bytes, bytes.Length);

        Assert.Equal((5L, 8L), (scanner.BillableUsage(5).OutputTokens, scanner.BillableUsage(-1).OutputTokens));
    }

    [Fact]
    public void MalformedDelta_CountsNothing_AndBreaksNothing()
    {
        var bytes = SseStreams.Events("\n", true, ("message_start", Start), ("content_block_delta", """{"type":"content_block_delta","delta":{"text":"abc"""), CutEvents[4]);

        using var scanner = Scan(bytes, 5);

        Assert.Equal(7, scanner.ContentBytes);
        Assert.Equal(100, scanner.Usage.InputTokens);
    }

    private static SseUsageScanner Scan(byte[] bytes, int size)
    {
        var scanner = new SseUsageScanner();
        for (var offset = 0; offset < bytes.Length; offset += size)
        {
            scanner.Feed(bytes.AsSpan(offset, Math.Min(size, bytes.Length - offset)));
        }

        return scanner;
    }
}
