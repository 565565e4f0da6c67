using System.Buffers;
using System.Text;
using Relay.Protocol.Anthropic;
using Relay.Protocol.Events;
using Relay.Protocol.Tests.Infrastructure;

namespace Relay.Protocol.Tests.ChatDoor;

/// <summary>An Anthropic provider's answer in, message events out (written back as Anthropic SSE to compare exactly).</summary>
public sealed class AnthropicEventReaderTests
{
    private const string Model = "claude-sonnet-4-6";

    /// <summary>Feeds <paramref name="sse"/> in pieces of <paramref name="pieceSize"/> bytes (0: at once).</summary>
    private static (string Text, AnthropicEventReader Reader) Read(string sse, int pieceSize = 0, bool end = true)
    {
        var output = new ArrayBufferWriter<byte>();
        using var events = new AnthropicSseEvents(output);
        var reader = new AnthropicEventReader(events, Model);
        var bytes = Encoding.UTF8.GetBytes(sse);
        var size = pieceSize == 0 ? bytes.Length : pieceSize;
        for (var i = 0; i < bytes.Length; i += size)
        {
            reader.Feed(bytes.AsSpan(i, Math.Min(size, bytes.Length - i)));
        }

        if (end)
        {
            reader.OnEndOfInput();
        }

        reader.Dispose();
        return (Encoding.UTF8.GetString(output.WrittenSpan), reader);
    }

    private const string ToolUseTranscript = """
        message_start {"type":"message_start","message":{"id":"msg_01Abc","type":"message","role":"assistant","model":"claude-sonnet-4-6","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":20,"cache_creation_input_tokens":100,"cache_read_input_tokens":1000,"output_tokens":1}}}
        content_block_start {"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":"","signature":""}}
        ping {"type":"ping"}
        content_block_delta {"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"The user wants the weather."}}
        content_block_delta {"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"EqQBCgIYAhIM1gbcDa9GJwZA2b3h"}}
        content_block_stop {"type":"content_block_stop","index":0}
        content_block_start {"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}}
        content_block_delta {"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"Checking Paris — "}}
        content_block_delta {"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"one \"moment\" 🌤"}}
        content_block_stop {"type":"content_block_stop","index":1}
        content_block_start {"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"toolu_01T1x1fJ34qAmk2tNTrN7Up6","name":"get_weather","input":{}}}
        content_block_delta {"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"{\"city\": \"Par"}}
        content_block_delta {"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"is\"}"}}
        content_block_stop {"type":"content_block_stop","index":2}
        message_delta {"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"input_tokens":20,"cache_creation_input_tokens":100,"cache_read_input_tokens":1000,"output_tokens":89}}
        message_stop {"type":"message_stop"}
        """;

    [Fact]
    public void AStream_BecomesTheSameEvents_WithTheClientsModel_AndCumulativeUsage()
    {
        var (text, reader) = Read(AnthropicGolden.ToolUseStream);

        AnthropicStream.AssertTranscript(ToolUseTranscript, AnthropicStream.Parse(text));
        Assert.True(reader.Completed);
        Assert.Equal(new TokenUsage(20, 89, 100, 1000), reader.Usage);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(7)]
    [InlineData(64)]
    public void AStreamSplitAnywhere_ReadsTheSame(int pieceSize)
    {
        var whole = Read(AnthropicGolden.ToolUseStream).Text;

        Assert.Equal(whole, Read(AnthropicGolden.ToolUseStream, pieceSize).Text);
        Assert.Equal(whole, Read(AnthropicGolden.ToolUseStream.Replace("\n", "\r\n", StringComparison.Ordinal), pieceSize).Text);
        Assert.Equal(whole, Read(AnthropicGolden.ToolUseStream.Replace("\n", "\r", StringComparison.Ordinal), pieceSize).Text);
    }

    [Fact]
    public void EverySplitPoint_ReadsTheSame()
    {
        var bytes = Encoding.UTF8.GetBytes(AnthropicGolden.ToolUseStream.Replace("\n", "\r\n", StringComparison.Ordinal));
        var whole = Read(AnthropicGolden.ToolUseStream).Text;
        for (var split = 1; split < bytes.Length; split++)
        {
            var output = new ArrayBufferWriter<byte>();
            using var events = new AnthropicSseEvents(output);
            using var reader = new AnthropicEventReader(events, Model);
            reader.Feed(bytes.AsSpan(0, split));
            reader.Feed(bytes.AsSpan(split));
            Assert.Equal(whole, Encoding.UTF8.GetString(output.WrittenSpan));
        }
    }

    [Fact]
    public void ServerToolBlocksRedactedThinkingAndCitations_AreSkipped_AndBlocksRenumbered()
    {
        var (text, _) = Read(AnthropicGolden.ServerToolStream, 5);

        AnthropicStream.AssertTranscript("""
            message_start {"type":"message_start","message":{"id":"msg_02","type":"message","role":"assistant","model":"claude-sonnet-4-6","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":50,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":1}}}
            content_block_start {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}
            content_block_delta {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"It is 18°C in Paris."}}
            content_block_stop {"type":"content_block_stop","index":0}
            message_delta {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"input_tokens":50,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":120}}
            message_stop {"type":"message_stop"}
            """, AnthropicStream.Parse(text));
    }

    [Fact]
    public void AnErrorEvent_EndsTheAnswer_AndNothingFollows()
    {
        var sse = AnthropicGolden.ToolUseStream.Replace(
            "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":1}",
            "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}", StringComparison.Ordinal);

        var (text, reader) = Read(sse);

        var events = AnthropicStream.Parse(text);
        Assert.Equal("error", events[^1].Name);
        Assert.Equal("""{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}""", events[^1].Data.ToJsonString());
        Assert.Empty(AnthropicStream.Problems(events));
        Assert.True(reader.Failed);
        Assert.Equal(ErrorTypes.Overloaded, reader.ErrorType);
    }

    [Fact]
    public void AStreamCutShort_EndsWithAnError()
    {
        var cut = AnthropicGolden.ToolUseStream[..AnthropicGolden.ToolUseStream.IndexOf("event: message_delta", StringComparison.Ordinal)];

        var (text, reader) = Read(cut);

        var events = AnthropicStream.Parse(text);
        Assert.Empty(AnthropicStream.Problems(events));
        Assert.Equal(("api_error", AnthropicEventReader.CutShortMessage), ((string?)events[^1].Data["error"]!["type"], (string?)events[^1].Data["error"]!["message"]));
        Assert.True(reader.Failed);
    }

    [Fact]
    public void ANonConformingStream_StillGivesGrammaticalEvents()
    {
        // No event lines, a block left open, a delta for another block, tool input given whole in the start, no
        // message_delta, and bytes after message_stop.
        var sse = """
            data: {"type":"message_start","message":{"id":"msg_3","usage":{"input_tokens":5}}}

            data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":"Hi"}}

            data: {"type":"content_block_delta","index":7,"delta":{"type":"text_delta","text":"lost"}}

            data: {"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_9","name":"f","input":{"a":1}}}

            data: not json

            data: {"type":"content_block_stop","index":1}

            data: {"type":"message_stop"}

            data: {"type":"content_block_start","index":2,"content_block":{"type":"text","text":""}}


            """;

        var (text, reader) = Read(sse);

        AnthropicStream.AssertTranscript("""
            message_start {"type":"message_start","message":{"id":"msg_3","type":"message","role":"assistant","model":"claude-sonnet-4-6","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":5,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":0}}}
            content_block_start {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}
            content_block_delta {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}
            content_block_stop {"type":"content_block_stop","index":0}
            content_block_start {"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_9","name":"f","input":{}}}
            content_block_delta {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"a\":1}"}}
            content_block_stop {"type":"content_block_stop","index":1}
            message_delta {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"input_tokens":5,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":0}}
            message_stop {"type":"message_stop"}
            """, AnthropicStream.Parse(text));
        Assert.True(reader.Completed);
    }

    [Fact]
    public void AWholeMessage_BecomesTheSameEventsAsItsStream()
    {
        var output = new ArrayBufferWriter<byte>();
        using (var events = new AnthropicSseEvents(output))
        using (var reader = new AnthropicEventReader(events, Model))
        {
            reader.ReadMessage("""
                {"id":"msg_01Abc","type":"message","role":"assistant","model":"claude-sonnet-4-6-20260101",
                 "content":[
                   {"type":"thinking","thinking":"The user wants the weather.","signature":"EqQBCgIYAhIM1gbcDa9GJwZA2b3h"},
                   {"type":"redacted_thinking","data":"EmwKAhgB"},
                   {"type":"text","text":"Checking Paris — one \"moment\" 🌤"},
                   {"type":"server_tool_use","id":"srvtoolu_1","name":"web_search","input":{"query":"q"}},
                   {"type":"tool_use","id":"toolu_01T1x1fJ34qAmk2tNTrN7Up6","name":"get_weather","input":{"city":"Paris"}}],
                 "stop_reason":"tool_use","stop_sequence":null,
                 "usage":{"input_tokens":20,"cache_creation_input_tokens":100,"cache_read_input_tokens":1000,"output_tokens":89}}
                """u8);
            Assert.True(reader.Completed);
        }

        AnthropicStream.AssertTranscript("""
            message_start {"type":"message_start","message":{"id":"msg_01Abc","type":"message","role":"assistant","model":"claude-sonnet-4-6","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":20,"cache_creation_input_tokens":100,"cache_read_input_tokens":1000,"output_tokens":89}}}
            content_block_start {"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":"","signature":""}}
            content_block_delta {"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"The user wants the weather."}}
            content_block_delta {"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"EqQBCgIYAhIM1gbcDa9GJwZA2b3h"}}
            content_block_stop {"type":"content_block_stop","index":0}
            content_block_start {"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}}
            content_block_delta {"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"Checking Paris — one \"moment\" 🌤"}}
            content_block_stop {"type":"content_block_stop","index":1}
            content_block_start {"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"toolu_01T1x1fJ34qAmk2tNTrN7Up6","name":"get_weather","input":{}}}
            content_block_delta {"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"{\"city\":\"Paris\"}"}}
            content_block_stop {"type":"content_block_stop","index":2}
            message_delta {"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"input_tokens":20,"cache_creation_input_tokens":100,"cache_read_input_tokens":1000,"output_tokens":89}}
            message_stop {"type":"message_stop"}
            """, AnthropicStream.Parse(Encoding.UTF8.GetString(output.WrittenSpan)));
    }

    [Theory]
    [InlineData("""{"type":"error","error":{"type":"rate_limit_error","message":"Slow down"}}""", "rate_limit_error", "Slow down")]
    [InlineData("""{"error":{"type":"invalid_request_error","message":"bad"}}""", "invalid_request_error", "bad")]
    [InlineData("""{"type":"completion"}""", "api_error", "The provider's answer is not a message.")]
    [InlineData("""<html>""", "api_error", "The provider's answer is not valid JSON.")]
    public void AWholeErrorOrSomethingElse_IsAnError(string body, string type, string message)
    {
        var output = new ArrayBufferWriter<byte>();
        using var events = new AnthropicSseEvents(output);
        using var reader = new AnthropicEventReader(events, Model);

        reader.ReadMessage(Encoding.UTF8.GetBytes(body));

        Assert.True(reader.Failed);
        Assert.Equal((type, message), (reader.ErrorType, reader.ErrorMessage));
    }
}
