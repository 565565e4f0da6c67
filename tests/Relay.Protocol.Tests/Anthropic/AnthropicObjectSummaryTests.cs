using System.Text;
using System.Text.Json;
using Relay.Protocol.Anthropic;

namespace Relay.Protocol.Tests.Anthropic;

public sealed class AnthropicObjectSummaryTests
{
    private static AnthropicObjectSummary Read(string json)
    {
        Assert.True(AnthropicObjectSummary.TryRead(Encoding.UTF8.GetBytes(json), out var summary), "should have been read");
        return summary;
    }

    private static void AssertUsage(UsageFields usage, long? input, long? output, long? cacheCreation, long? cacheRead)
    {
        Assert.Equal(input, usage.InputTokens);
        Assert.Equal(output, usage.OutputTokens);
        Assert.Equal(cacheCreation, usage.CacheCreationInputTokens);
        Assert.Equal(cacheRead, usage.CacheReadInputTokens);
    }

    [Fact]
    public void TryRead_NonStreamingMessage_KindAndAllUsageFields()
    {
        var summary = Read("""
            {"id":"msg_013Zva2CMHLNnXjNJJKqJ2EF","type":"message","role":"assistant","model":"claude-sonnet-4-6",
             "content":[{"type":"text","text":"Hi! \"usage\":{\"input_tokens\":999}"},{"type":"tool_use","id":"toolu_1","name":"t","input":{"usage":{"input_tokens":999,"output_tokens":999}}}],
             "stop_reason":"end_turn","stop_sequence":null,
             "usage":{"input_tokens":2095,"cache_creation":{"ephemeral_5m_input_tokens":2051,"ephemeral_1h_input_tokens":0},"cache_creation_input_tokens":2051,
                      "server_tool_use":{"web_search_requests":0},"cache_read_input_tokens":12,"output_tokens":503,"service_tier":"standard"}}
            """);

        Assert.Equal(AnthropicObjectKind.Message, summary.Kind);
        AssertUsage(summary.Usage, 2095, 503, 2051, 12);
        Assert.Null(summary.ErrorType);
        Assert.Null(summary.ErrorMessage);
    }

    [Fact]
    public void TryRead_ErrorBody_TypeAndMessage()
    {
        var summary = Read("""{"type":"error","error":{"type":"rate_limit_error","message":"Number of request tokens has exceeded your per-minute rate limit"},"request_id":"req_011CSHoEeqs5C35K2UUqR7Fy"}""");

        Assert.Equal(AnthropicObjectKind.Error, summary.Kind);
        Assert.Equal(ErrorTypes.RateLimit, summary.ErrorType);
        Assert.Equal("Number of request tokens has exceeded your per-minute rate limit", summary.ErrorMessage);
        Assert.False(summary.Usage.HasAny);
    }

    [Fact]
    public void TryRead_ErrorBodyInAnyOrderWithExtras_TypeAndMessage()
    {
        var summary = Read("""{"request_id":"r","error":{"details":{"type":"nested","message":"nested"},"message":"Overloaded","type":"overloaded_error","param":"not the message"},"type":"error"}""");

        Assert.Equal(AnthropicObjectKind.Error, summary.Kind);
        Assert.Equal(ErrorTypes.Overloaded, summary.ErrorType);
        Assert.Equal("Overloaded", summary.ErrorMessage);
    }

    [Fact]
    public void TryRead_ErrorFieldsNotStrings_LeftNull()
    {
        var summary = Read("""{"type":"error","error":{"type":529,"message":{"text":"x"}}}""");

        Assert.Equal(AnthropicObjectKind.Error, summary.Kind);
        Assert.Null(summary.ErrorType);
        Assert.Null(summary.ErrorMessage);
    }

    [Fact]
    public void TryRead_MessageStart_UsageFromNestedMessage()
    {
        var summary = Read("""{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","content":[],"model":"claude-sonnet-4-6","stop_reason":null,"usage":{"input_tokens":472,"cache_creation_input_tokens":1200,"cache_read_input_tokens":3000,"output_tokens":2}}}""");

        Assert.Equal(AnthropicObjectKind.MessageStart, summary.Kind);
        AssertUsage(summary.Usage, 472, 2, 1200, 3000);
    }

    [Fact]
    public void TryRead_MessageStartWithTypeLast_KindIsNotTheNestedMessageType()
    {
        var summary = Read("""{"message":{"type":"message","usage":{"input_tokens":5,"output_tokens":1}},"type":"message_start"}""");

        Assert.Equal(AnthropicObjectKind.MessageStart, summary.Kind);
        AssertUsage(summary.Usage, 5, 1, null, null);
    }

    [Fact]
    public void TryRead_MessageStartWithOtherObjectsInMessage_OnlyItsUsageCounts()
    {
        var summary = Read("""{"type":"message_start","message":{"id":"msg_1","usage":{"input_tokens":5,"output_tokens":1},"context_management":{"output_tokens":999,"cache_read_input_tokens":7},"content":[{"input_tokens":998}]}}""");

        Assert.Equal(AnthropicObjectKind.MessageStart, summary.Kind);
        AssertUsage(summary.Usage, 5, 1, null, null);
    }

    [Fact]
    public void TryRead_MessageDelta_TopLevelUsageAbsentFieldsNull()
    {
        var summary = Read("""{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":15}}""");

        Assert.Equal(AnthropicObjectKind.MessageDelta, summary.Kind);
        AssertUsage(summary.Usage, null, 15, null, null);
        Assert.True(summary.Usage.HasAny);
    }

    [Fact]
    public void TryRead_MessageDeltaWithAllFields_AllRead()
    {
        var summary = Read("""{"type":"message_delta","delta":{"stop_reason":"tool_use"},"usage":{"input_tokens":10,"cache_creation_input_tokens":20,"cache_read_input_tokens":30,"output_tokens":40,"server_tool_use":null}}""");

        AssertUsage(summary.Usage, 10, 40, 20, 30);
    }

    [Theory]
    [InlineData("""{"type":"message_stop"}""", AnthropicObjectKind.MessageStop)]
    [InlineData("""{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"usage"}}""", AnthropicObjectKind.Other)]
    [InlineData("""{"type": "ping"}""", AnthropicObjectKind.Other)]
    [InlineData("""{"type":"MESSAGE"}""", AnthropicObjectKind.Other)]
    [InlineData("""{"type":null}""", AnthropicObjectKind.Other)]
    [InlineData("""{"id":"no type"}""", AnthropicObjectKind.Unknown)]
    [InlineData("{}", AnthropicObjectKind.Unknown)]
    [InlineData("""{"type":"mess\u0061ge_stop"}""", AnthropicObjectKind.MessageStop)]
    public void TryRead_TypeValue_MapsToKind(string json, AnthropicObjectKind expected)
    {
        var summary = Read(json);

        Assert.Equal(expected, summary.Kind);
        Assert.False(summary.Usage.HasAny);
    }

    [Fact]
    public void TryRead_UsageInsideContentBlock_Ignored()
    {
        var summary = Read("""{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","input":{"usage":{"output_tokens":99}},"message":{"usage":{"input_tokens":99}}}}""");

        Assert.Equal(AnthropicObjectKind.Other, summary.Kind);
        Assert.False(summary.Usage.HasAny);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("event: message_stop")]
    [InlineData("<html><body>502 Bad Gateway</body></html>")]
    [InlineData("""[{"type":"message","usage":{"input_tokens":1}}]""")]
    [InlineData("\"message\"")]
    [InlineData("42")]
    [InlineData("null")]
    [InlineData("""{"type":"message","usage":{"input_tokens":5""")]
    [InlineData("""{"type":"message","usage":{"input_tokens":5,"output_tokens":""")]
    [InlineData("""{"type":"message","content":[{"type":"text","text":"cut off here""")]
    [InlineData("""{"type":"message",""")]
    [InlineData("{")]
    public void TryRead_NotAJsonObject_ReturnsFalse(string text)
    {
        Assert.False(AnthropicObjectSummary.TryRead(Encoding.UTF8.GetBytes(text), out var summary));
        Assert.Equal(default, summary);
    }

    [Theory]
    [InlineData("1.5")]
    [InlineData("2e3")]
    [InlineData("-0.0")]
    [InlineData("\"100\"")]
    [InlineData("null")]
    [InlineData("true")]
    [InlineData("99999999999999999999")]
    public void TryRead_UsageNumberNotAnInteger_FieldIgnoredOthersRead(string value)
    {
        var summary = Read($$$"""{"type":"message_delta","usage":{"input_tokens":{{{value}}},"output_tokens":7,"cache_read_input_tokens":{{{value}}},"cache_creation_input_tokens":3}}""");

        Assert.Equal(AnthropicObjectKind.MessageDelta, summary.Kind);
        AssertUsage(summary.Usage, null, 7, 3, null);
    }

    [Theory]
    [InlineData("""{"output_tokens":999}""")]
    [InlineData("""[{"output_tokens":999}]""")]
    [InlineData("""[1,2,3]""")]
    [InlineData("""{"a":{"b":[{"output_tokens":999}]}}""")]
    public void TryRead_UsageCountIsObjectOrArray_SkippedWithoutLosingTheRest(string value)
    {
        var summary = Read($$$"""{"usage":{"input_tokens":{{{value}}},"output_tokens":7,"cache_read_input_tokens":3},"message":{"usage":{"cache_creation_input_tokens":{{{value}}}}},"type":"message_delta","after":1}""");

        Assert.Equal(AnthropicObjectKind.MessageDelta, summary.Kind);
        AssertUsage(summary.Usage, null, 7, null, 3);
    }

    [Theory]
    [InlineData("""{"kind":"message_stop"}""")]
    [InlineData("""["message_stop"]""")]
    public void TryRead_TypeIsObjectOrArray_OtherAndRestStillRead(string value)
    {
        var summary = Read($$$"""{"type":{{{value}}},"usage":{"output_tokens":7}}""");

        Assert.Equal(AnthropicObjectKind.Other, summary.Kind);
        AssertUsage(summary.Usage, null, 7, null, null);
    }

    [Theory]
    [InlineData("""{"type":"message_delta","usage":null}""")]
    [InlineData("""{"type":"message_delta","usage":[{"output_tokens":9}]}""")]
    [InlineData("""{"type":"message_delta","usage":"output_tokens: 9"}""")]
    [InlineData("""{"type":"message_delta","message":[{"usage":{"output_tokens":9}}]}""")]
    [InlineData("""{"type":"message_delta","message":"usage"}""")]
    public void TryRead_UsageOrMessageNotAnObject_Ignored(string json)
    {
        var summary = Read(json);

        Assert.Equal(AnthropicObjectKind.MessageDelta, summary.Kind);
        Assert.False(summary.Usage.HasAny);
    }

    [Fact]
    public void TryRead_UsageNotAnObjectBeforeType_TypeStillRead()
    {
        var summary = Read("""{"usage":[{"output_tokens":9},{"type":"x"}],"error":["type"],"type":"message_stop"}""");

        Assert.Equal(AnthropicObjectKind.MessageStop, summary.Kind);
        Assert.False(summary.Usage.HasAny);
        Assert.Null(summary.ErrorType);
    }

    [Fact]
    public void TryRead_CommentsInJson_Skipped()
    {
        var summary = Read("""{/* upstream */"type":"message_delta",// note""" + "\n" + """ "usage":{"output_tokens":4}}""");

        Assert.Equal(AnthropicObjectKind.MessageDelta, summary.Kind);
        Assert.Equal(4, summary.Usage.OutputTokens);
    }

    [Fact]
    public void ReadUsage_ReaderOnUsageObject_ReadsFieldsAndStopsAtItsEnd()
    {
        var json = Encoding.UTF8.GetBytes("""{"usage":{"output_tokens":3,"extra":{"input_tokens":99},"input_tokens":4},"input_tokens":100}""");
        var reader = new Utf8JsonReader(json);
        Assert.True(reader.Read() && reader.Read() && reader.Read());
        Assert.Equal(JsonTokenType.StartObject, reader.TokenType);
        var usage = new UsageFields { CacheReadInputTokens = 8 };

        AnthropicObjectSummary.ReadUsage(ref reader, ref usage);

        AssertUsage(usage, 4, 3, null, 8);
        Assert.Equal(JsonTokenType.EndObject, reader.TokenType);
        Assert.Equal(json.AsSpan().IndexOf(",\"input_tokens\":100"u8), (int)reader.BytesConsumed);
    }
}
