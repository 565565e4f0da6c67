using System.Text;
using Relay.Protocol.Anthropic;
using Relay.Protocol.Sse;

namespace Relay.Protocol.Tests.Sse;

public sealed class SseUsageScannerTests
{
    private const int Seed = 20261123;

    public static TheoryData<string> StreamNames => [.. SseStreams.Catalogue.Keys];

    public static TheoryData<string> LineEndings => ["\n", "\r\n", "\r"];

    [Fact]
    public void Feed_TypicalStream_UsageFromMessageStartAndMessageDeltaIncludingCache()
    {
        var result = SseStreams.Scan(SseStreams.Typical("\n"));

        Assert.Equal(472, result.Usage.InputTokens);
        Assert.Equal(15, result.Usage.OutputTokens);
        Assert.Equal(1200, result.Usage.CacheCreationInputTokens);
        Assert.Equal(3000, result.Usage.CacheReadInputTokens);
        Assert.True(result.SawMessageStart);
        Assert.True(result.SawMessageStop);
        Assert.Null(result.ErrorType);
    }

    [Fact]
    public void Feed_MessageDeltaWithInputAndCacheFields_OverridesEarlierValues()
    {
        var bytes = SseStreams.Events("\n", true,
            ("message_start", SseStreams.MessageStart),
            ("message_delta", """{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"input_tokens":480,"cache_read_input_tokens":3100,"output_tokens":20}}"""),
            ("message_stop", SseStreams.MessageStop));

        var result = SseStreams.Scan(bytes);

        Assert.Equal(
            new TokenUsage(InputTokens: 480, OutputTokens: 20, CacheCreationInputTokens: 1200, CacheReadInputTokens: 3100),
            result.Usage);
    }

    [Fact]
    public void Feed_SeveralMessageDeltas_LastValueOfEachFieldWins()
    {
        var bytes = SseStreams.Events("\n", true,
            ("message_start", SseStreams.MessageStart),
            ("message_delta", """{"type":"message_delta","delta":{},"usage":{"output_tokens":10}}"""),
            ("message_delta", """{"type":"message_delta","delta":{},"usage":{"input_tokens":490}}"""),
            ("message_delta", """{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":33}}"""));

        var result = SseStreams.Scan(bytes);

        Assert.Equal(
            new TokenUsage(InputTokens: 490, OutputTokens: 33, CacheCreationInputTokens: 1200, CacheReadInputTokens: 3000),
            result.Usage);
    }

    [Fact]
    public void Feed_StreamCutOffBeforeMessageStop_StartSeenButNotStop()
    {
        var bytes = SseStreams.Events("\n", true,
            ("message_start", SseStreams.MessageStart),
            ("content_block_start", SseStreams.ContentBlockStart),
            ("content_block_delta", SseStreams.TextDelta));

        var result = SseStreams.Scan(bytes);

        Assert.True(result.SawMessageStart);
        Assert.False(result.SawMessageStop);
        Assert.Equal(
            new TokenUsage(InputTokens: 472, OutputTokens: 2, CacheCreationInputTokens: 1200, CacheReadInputTokens: 3000),
            result.Usage);
    }

    [Fact]
    public void Feed_OnlyPingsAndContent_NoStartNoStopNoUsage()
    {
        var bytes = SseStreams.Events("\n", true,
            ("ping", SseStreams.Ping),
            ("content_block_delta", SseStreams.FakeUsageTextDelta),
            ("ping", SseStreams.Ping));

        var result = SseStreams.Scan(bytes);

        Assert.Equal(new ScanResult(default, false, false, null), result);
    }

    [Fact]
    public void Feed_ErrorEvent_ErrorTypeFromEventAndNoStop()
    {
        var result = SseStreams.Scan(SseStreams.Catalogue["error-crlf"].Bytes);

        Assert.Equal(ErrorTypes.Overloaded, result.ErrorType);
        Assert.True(result.SawMessageStart);
        Assert.False(result.SawMessageStop);
    }

    [Fact]
    public void Feed_ErrorEventWithoutEventLine_ErrorTypeRead()
    {
        var bytes = SseStreams.Events("\n", false,
            ("message_start", SseStreams.MessageStart),
            ("error", """{"error":{"message":"Rate limited","type":"rate_limit_error"},"type":"error"}"""));

        Assert.Equal(ErrorTypes.RateLimit, SseStreams.Scan(bytes).ErrorType);
    }

    [Fact]
    public void Feed_ErrorEventWithoutErrorType_ReportsApiError()
    {
        var bytes = SseStreams.Events("\n", true, ("error", """{"type":"error","error":{"message":"something broke"}}"""));

        Assert.Equal(ErrorTypes.Api, SseStreams.Scan(bytes).ErrorType);
    }

    [Theory]
    [MemberData(nameof(LineEndings))]
    public void Feed_AnyLineEnding_SameUsageAndFlags(string newline)
    {
        Assert.Equal(SseStreams.TypicalResult, SseStreams.Scan(SseStreams.Typical(newline)));
    }

    [Theory]
    [MemberData(nameof(LineEndings))]
    public void Feed_NoEventLines_TypeReadFromData(string newline)
    {
        Assert.Equal(SseStreams.TypicalResult, SseStreams.Scan(SseStreams.Typical(newline, eventLines: false)));
    }

    [Fact]
    public void Feed_TypePropertyNotFirst_StillRecognised()
    {
        var bytes = SseStreams.Lines("\n",
            "event: message_start",
            """data: {"message":{"usage":{"input_tokens":11,"output_tokens":1},"type":"message"},"type":"message_start"}""",
            "",
            "event: message_delta",
            """data: {"usage":{"output_tokens":9},"delta":{"stop_reason":"end_turn"},"type":"message_delta"}""",
            "",
            "event: message_stop",
            """data: {"extra":true,"type":"message_stop"}""",
            "");

        Assert.Equal(
            new ScanResult(new TokenUsage(11, 9, 0, 0), SawMessageStart: true, SawMessageStop: true, ErrorType: null),
            SseStreams.Scan(bytes));
    }

    [Fact]
    public void Feed_NoSpaceAfterColons_StillRead()
    {
        var bytes = SseStreams.Lines("\n",
            "event:message_start",
            """data:{"type":"message_start","message":{"usage":{"input_tokens":5,"output_tokens":1}}}""",
            "",
            "event:message_delta",
            """data:{"type":"message_delta","usage":{"output_tokens":6}}""",
            "",
            "event:message_stop",
            """data:{"type":"message_stop"}""",
            "");

        Assert.Equal(new ScanResult(new TokenUsage(5, 6, 0, 0), true, true, null), SseStreams.Scan(bytes));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Feed_TextDeltasQuotingUsageJson_DoNotChangeUsage(bool eventLines)
    {
        var bytes = SseStreams.Events("\n", eventLines,
            ("message_start", SseStreams.MessageStart),
            ("content_block_delta", SseStreams.FakeUsageTextDelta),
            ("content_block_delta", SseStreams.FakeUsageJsonDelta),
            ("content_block_delta", """{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"usage"}}"""),
            ("message_delta", SseStreams.MessageDelta),
            ("content_block_delta", SseStreams.FakeUsageTextDelta));

        var result = SseStreams.Scan(bytes);

        Assert.Equal(SseStreams.TypicalUsage, result.Usage);
        Assert.False(result.SawMessageStop);
        Assert.Null(result.ErrorType);
    }

    [Fact]
    public void Feed_EventLineNamesContentBlockDelta_DataIsNotReadForUsage()
    {
        // The event line decides: the data of a content event is never parsed, whatever it looks like.
        var bytes = SseStreams.Events("\n", true,
            ("message_start", SseStreams.MessageStart),
            ("content_block_delta", """{"type":"message_delta","usage":{"output_tokens":99999}}"""),
            ("message_delta", SseStreams.MessageDelta));

        Assert.Equal(SseStreams.TypicalUsage, SseStreams.Scan(bytes).Usage);
    }

    [Fact]
    public void Feed_EventWithoutNameAfterPing_IsReadBecauseTheNameResetsAtBlankLine()
    {
        var bytes = SseStreams.Lines("\n",
            "event: message_start",
            "data: " + SseStreams.MessageStart,
            "",
            "event: ping",
            "data: " + SseStreams.Ping,
            "",
            "data: " + SseStreams.MessageDelta,
            "",
            "data: " + SseStreams.MessageStop,
            "");

        Assert.Equal(SseStreams.TypicalResult, SseStreams.Scan(bytes));
    }

    [Fact]
    public void Feed_SecondEventLineInOneEvent_LastNameWinsAtAnySplit()
    {
        // As in the SSE spec, a later event line in the same event replaces the name; the scanner must notice it even
        // inside an event it had decided to skip, wherever the chunks break.
        var bytes = SseStreams.Lines("\n",
            "event: message_start",
            "data: " + SseStreams.MessageStart,
            "",
            "event: ping",
            "event: message_delta",
            "data: " + SseStreams.MessageDelta,
            "",
            "event: message_stop",
            "event: content_block_delta",
            "data: " + SseStreams.MessageStop,
            "");
        var expected = new ScanResult(SseStreams.TypicalUsage, SawMessageStart: true, SawMessageStop: false, ErrorType: null);

        for (var split = 0; split <= bytes.Length; split++)
        {
            Assert.Equal(expected, SseStreams.Scan(bytes[..split], bytes[split..]));
        }
    }

    [Theory]
    [MemberData(nameof(LineEndings))]
    public void Feed_CommentLinesEverywhere_Ignored(string newline)
    {
        var bytes = SseStreams.Lines(newline,
            ": keep-alive",
            ":",
            "",
            "event: message_start",
            ": keep-alive",
            "data: " + SseStreams.MessageStart,
            ":",
            "",
            ": keep-alive",
            "",
            "event: content_block_delta",
            ": keep-alive",
            "data: " + SseStreams.TextDelta,
            "",
            ": {\"type\":\"message_delta\",\"usage\":{\"output_tokens\":99999}}",
            "",
            "event: message_delta",
            "data: " + SseStreams.MessageDelta,
            "",
            ":",
            "event: message_stop",
            "data: " + SseStreams.MessageStop,
            "");

        Assert.Equal(SseStreams.TypicalResult, SseStreams.Scan(bytes));
    }

    [Fact]
    public void Feed_LongMessageStartLine_UsageAfterLongContentIsRead()
    {
        var start = """{"type":"message_start","message":{"id":"msg_1","content":[{"type":"text","text":" """
            + new string('a', 200_000)
            + """ "}],"usage":{"input_tokens":472,"cache_creation_input_tokens":1200,"cache_read_input_tokens":3000,"output_tokens":2}}}""";
        var bytes = SseStreams.Events("\r\n", true,
            ("message_start", start),
            ("message_delta", SseStreams.MessageDelta),
            ("message_stop", SseStreams.MessageStop));

        Assert.Equal(SseStreams.TypicalResult, SseStreams.Scan(bytes));
        Assert.Equal(SseStreams.TypicalResult, SseStreams.ScanInChunksOf(bytes, 4096));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Feed_TextDeltaLongerThanLineLimit_SkippedAndLaterEventsStillRead(bool eventLines)
    {
        var huge = """{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"usage """
            + new string('z', 5 * 1024 * 1024)
            + "\"}}";
        var bytes = SseStreams.Events("\n", eventLines,
            ("message_start", SseStreams.MessageStart),
            ("content_block_delta", huge),
            ("message_delta", SseStreams.MessageDelta),
            ("message_stop", SseStreams.MessageStop));

        Assert.Equal(SseStreams.TypicalResult, SseStreams.Scan(bytes));
        Assert.Equal(SseStreams.TypicalResult, SseStreams.ScanInChunksOf(bytes, 65_536));
        Assert.Equal(SseStreams.TypicalResult, SseStreams.ScanInChunksOf(bytes, 7));
    }

    [Theory]
    [MemberData(nameof(StreamNames))]
    public void Feed_WholeStream_GivesExpectedResult(string name)
    {
        var (bytes, expected) = SseStreams.Catalogue[name];

        Assert.Equal(expected, SseStreams.Scan(bytes));
    }

    [Theory]
    [MemberData(nameof(StreamNames))]
    public void Feed_SplitAtEverySinglePoint_SameResultAsWhole(string name)
    {
        var (bytes, expected) = SseStreams.Catalogue[name];
        Assert.Equal(expected, SseStreams.Scan(bytes));

        for (var split = 0; split <= bytes.Length; split++)
        {
            var result = SseStreams.Scan(bytes[..split], bytes[split..]);
            if (result != expected)
            {
                Assert.Fail($"Split at byte {split} of {bytes.Length}: got {result}, expected {expected}.");
            }

            result = SseStreams.Scan(bytes[..split], [], bytes[split..]);
            if (result != expected)
            {
                Assert.Fail($"Split at byte {split} with an empty chunk between: got {result}, expected {expected}.");
            }
        }
    }

    [Theory]
    [MemberData(nameof(StreamNames))]
    public void Feed_OneByteChunks_SameResultAsWhole(string name)
    {
        var (bytes, expected) = SseStreams.Catalogue[name];

        Assert.Equal(expected, SseStreams.ScanInChunksOf(bytes, 1));
    }

    [Theory]
    [MemberData(nameof(StreamNames))]
    public void Feed_RandomChunkingsWithFixedSeed_SameResultAsWhole(string name)
    {
        var (bytes, expected) = SseStreams.Catalogue[name];
        var random = new Random(Seed);
        int[] maxChunkSizes = [2, 3, 8, 64, 1024];

        for (var round = 0; round < 200; round++)
        {
            var maxChunk = maxChunkSizes[round % maxChunkSizes.Length];
            var chunks = new List<byte[]>();
            var offset = 0;
            while (offset < bytes.Length)
            {
                var size = Math.Min(random.Next(0, maxChunk + 1), bytes.Length - offset); // 0: an empty Feed
                chunks.Add(bytes[offset..(offset + size)]);
                offset += size;
            }

            var result = SseStreams.Scan([.. chunks]);
            if (result != expected)
            {
                Assert.Fail($"Round {round} (chunks up to {maxChunk} bytes, seed {Seed}): got {result}, expected {expected}.");
            }
        }
    }

    [Theory]
    [InlineData("typical-crlf")]
    [InlineData("no-event-lines-crlf")]
    [InlineData("error-crlf")]
    [InlineData("long-lines-no-event-lines")]
    public void Feed_SplitBetweenCrAndLf_SameResultAsWhole(string name)
    {
        var (bytes, expected) = SseStreams.Catalogue[name];
        var crlfSplits = Enumerable.Range(1, bytes.Length - 1).Where(i => bytes[i - 1] == '\r' && bytes[i] == '\n').ToList();
        Assert.True(crlfSplits.Count >= 8, "the stream should have CRLF line endings to split");

        foreach (var split in crlfSplits)
        {
            Assert.Equal(expected, SseStreams.Scan(bytes[..split], bytes[split..]));
            Assert.Equal(expected, SseStreams.Scan(bytes[..(split - 1)], [(byte)'\r'], [], [(byte)'\n'], bytes[(split + 1)..]));
        }
    }

    [Fact]
    public void Feed_CrlfSplitAcrossChunks_CountsAsOneLineEndNotABlankLine()
    {
        // Were "\r" | "\n" two line ends, the phantom blank line would drop the content event's name and its
        // usage-looking data would be read.
        var head = Encoding.UTF8.GetBytes("event: message_start\r\ndata: " + SseStreams.MessageStart + "\r\n\r\nevent: content_block_delta\r");
        var tail = Encoding.UTF8.GetBytes("\ndata: " + SseStreams.MislabelledDelta + "\r\n\r\n");

        var result = SseStreams.Scan(head, tail);

        Assert.Equal(472, result.Usage.InputTokens);
        Assert.Equal(2, result.Usage.OutputTokens);
    }

    [Fact]
    public void Feed_CrFollowedByCrlf_IsLineEndThenBlankLine()
    {
        // "\r" then "\r\n": the first CR ends the event line, the CRLF ends a blank line, so the event name is reset.
        var bytes = Encoding.UTF8.GetBytes("event: content_block_delta\r\r\ndata: " + SseStreams.MessageDelta + "\r\n\r\n");

        Assert.Equal(15, SseStreams.Scan(bytes).Usage.OutputTokens);
    }

    [Theory]
    [InlineData("\n")]
    [InlineData("\r\n")]
    [InlineData("\r")]
    public void Feed_ReturnsWhereTheLastCompleteEventEnds_WhateverTheSplit(string newline)
    {
        var text = $"event: message_start{newline}data: {SseStreams.MessageStart}{newline}{newline}event: ping{newline}data: {{\"type\":\"ping\"}}{newline}{newline}event: content_block_delta{newline}data: {{\"type\":\"content";
        var bytes = Encoding.UTF8.GetBytes(text);
        var completeEvents = text.LastIndexOf(newline + newline, StringComparison.Ordinal) + (2 * newline.Length);

        for (var split = 0; split <= bytes.Length; split++)
        {
            using var scanner = new SseUsageScanner();
            var first = scanner.Feed(bytes.AsSpan(0, split));
            var second = scanner.Feed(bytes.AsSpan(split));

            // What may be forwarded: everything through the last blank line, never a byte of the unfinished event.
            var forwardable = second >= 0 ? split + second : first;
            if (newline == "\r\n" && forwardable == completeEvents - 1)
            {
                forwardable = completeEvents; // split between the last CR and LF: the LF comes with the next chunk
            }

            Assert.Equal(completeEvents, forwardable);
            Assert.False(scanner.AtEventBoundary);
        }
    }

    [Fact]
    public void Feed_NoEventEnds_ReturnsMinusOne()
    {
        using var scanner = new SseUsageScanner();

        Assert.Equal(-1, scanner.Feed("event: content_block_delta\ndata: {\"partial\""u8));
        Assert.Equal(-1, scanner.Feed("more\n"u8));
        Assert.Equal(1, scanner.Feed("\nevent: ping"u8));
    }

    [Theory]
    [InlineData("event: message_start\n", true)]
    [InlineData("data: {}\n\n", true)]
    [InlineData(": keep-alive\n\n", true)]
    [InlineData("\n\nevent: ping", true)]
    [InlineData("eve", true)]
    [InlineData("", true)]
    [InlineData("<html><body>Bad gateway</body></html>", false)]
    [InlineData("{\"id\":\"msg_1\",\"type\":\"message\"}", false)]
    [InlineData("Service Unavailable", false)]
    public void LooksLikeEventStream_TellsAStreamFromAPageOrABody(string start, bool expected) =>
        Assert.Equal(expected, SseUsageScanner.LooksLikeEventStream(Encoding.UTF8.GetBytes(start)));
}
