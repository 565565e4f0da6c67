using System.Buffers;
using System.Text;
using Relay.Protocol.Anthropic;
using Relay.Protocol.Events;
using Relay.Protocol.Translation;
using static Relay.Protocol.Tests.ChatDoor.ChatDoorTesting;

namespace Relay.Protocol.Tests.ChatDoor;

/// <summary>Message events in, the exact <c>chat.completion.chunk</c> stream out.</summary>
public sealed class ChatChunkEventsTests
{
    private const string Head = """{"id":"chatcmpl-01Abc","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o","choices":""";
    private const string First = Head + """[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}""";
    private static readonly TokenUsage FinalUsage = new(InputTokens: 20, OutputTokens: 30, CacheCreationInputTokens: 100, CacheReadInputTokens: 1000);

    private static string Write(bool includeUsage, Action<IMessageEvents> script, IReadOnlyDictionary<string, string>? toolNames = null)
    {
        var output = new ArrayBufferWriter<byte>();
        using (var events = new ChatChunkEvents(output, includeUsage, FixedClock.At1700000000, toolNames))
        {
            script(events);
        }

        return Encoding.UTF8.GetString(output.WrittenSpan);
    }

    [Fact]
    public void ThinkingTextAndUsage_WithIncludeUsage()
    {
        var text = Write(includeUsage: true, e =>
        {
            e.MessageStart("msg_01Abc", "gpt-4o", new TokenUsage(20, 1, 100, 1000));
            e.ThinkingStart(0);
            e.ThinkingDelta(0, "Let me think.");
            e.SignatureDelta(0, "EqQBCgIYAhIM");
            e.BlockStop(0);
            e.TextStart(1);
            e.TextDelta(1, "Hello");
            e.TextDelta(1, "");
            e.TextDelta(1, " \"world\" ✓");
            e.BlockStop(1);
            e.MessageDelta("end_turn", null, FinalUsage);
            e.MessageStop();
        });

        Assert.Equal(Chunks(
            First,
            Head + """[{"index":0,"delta":{"reasoning_content":"Let me think."},"finish_reason":null}]}""",
            Head + """[{"index":0,"delta":{"content":"Hello"},"finish_reason":null}]}""",
            Head + """[{"index":0,"delta":{"content":" \"world\" ✓"},"finish_reason":null}]}""",
            Head + """[{"index":0,"delta":{},"finish_reason":"stop"}]}""",
            Head + """[],"usage":{"prompt_tokens":1120,"completion_tokens":30,"total_tokens":1150,"prompt_tokens_details":{"cached_tokens":1000}}}""",
            "[DONE]"), text);
    }

    [Fact]
    public void ToolCalls_FirstFragmentCarriesIdAndName_IndexCountsCalls_NamesAndIdsRestored()
    {
        var encodedId = ToolIds.ToAnthropic("functions.Bash:0");
        var text = Write(includeUsage: false, e =>
        {
            e.MessageStart("msg_01Abc", "gpt-4o", default);
            e.TextStart(0);
            e.TextDelta(0, "Checking.");
            e.BlockStop(0);
            e.ToolUseStart(1, "toolu_01A", "get_weather");
            e.ToolInputDelta(1, "");
            e.ToolInputDelta(1, "{\"city\":");
            e.ToolInputDelta(1, "\"Paris\"}");
            e.BlockStop(1);
            e.ToolUseStart(2, encodedId, "short_name");
            e.BlockStop(2);
            e.MessageDelta("tool_use", null, FinalUsage);
            e.MessageStop();
        }, new Dictionary<string, string> { ["short_name"] = "fs.read" });

        Assert.Equal(Chunks(
            First,
            Head + """[{"index":0,"delta":{"content":"Checking."},"finish_reason":null}]}""",
            Head + """[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"toolu_01A","type":"function","function":{"name":"get_weather","arguments":""}}]},"finish_reason":null}]}""",
            Head + """[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"city\":"}}]},"finish_reason":null}]}""",
            Head + """[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"Paris\"}"}}]},"finish_reason":null}]}""",
            Head + """[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"functions.Bash:0","type":"function","function":{"name":"fs.read","arguments":""}}]},"finish_reason":null}]}""",
            Head + """[{"index":0,"delta":{"tool_calls":[{"index":1,"function":{"arguments":"{}"}}]},"finish_reason":null}]}""",
            Head + """[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}""",
            "[DONE]"), text);
    }

    [Theory]
    [InlineData("end_turn", "stop")]
    [InlineData("stop_sequence", "stop")]
    [InlineData("max_tokens", "length")]
    [InlineData("tool_use", "tool_calls")]
    [InlineData("refusal", "content_filter")]
    [InlineData("pause_turn", "stop")]
    [InlineData("model_context_window_exceeded", "length")]
    [InlineData("something_new", "stop")]
    public void StopReasons_BecomeFinishReasons(string stopReason, string finishReason)
    {
        var text = Write(includeUsage: false, e =>
        {
            e.MessageStart("msg_01Abc", "gpt-4o", default);
            e.MessageDelta(stopReason, null, default);
            e.MessageStop();
        });

        Assert.Contains($$"""finish_reason":"{{finishReason}}"}]}""", text, StringComparison.Ordinal);
    }

    [Fact]
    public void MessageStopWithoutDelta_StillFinishes()
    {
        var text = Write(includeUsage: false, e =>
        {
            e.MessageStart("other-id", "gpt-4o", default);
            e.MessageStop();
        });

        Assert.Equal(Chunks(
            First.Replace("chatcmpl-01Abc", "chatcmpl-other-id", StringComparison.Ordinal),
            Head.Replace("chatcmpl-01Abc", "chatcmpl-other-id", StringComparison.Ordinal) + """[{"index":0,"delta":{},"finish_reason":"stop"}]}""",
            "[DONE]"), text);
    }

    [Fact]
    public void Error_IsAnErrorObject_WithoutDone_AndNothingFollows()
    {
        var text = Write(includeUsage: true, e =>
        {
            e.MessageStart("msg_01Abc", "gpt-4o", default);
            e.Ping();
            e.TextStart(0);
            e.TextDelta(0, "Hel");
            e.Error(ErrorTypes.Overloaded, "Overloaded");
            e.TextDelta(0, "lo");
            e.Ping();
            e.MessageDelta("end_turn", null, default);
            e.MessageStop();
        });

        Assert.Equal(Chunks(
            First,
            ": ping",
            Head + """[{"index":0,"delta":{"content":"Hel"},"finish_reason":null}]}""",
            """{"error":{"message":"Overloaded","type":"server_error","param":null,"code":"overloaded_error"}}"""), text);
    }

    [Fact]
    public void ErrorBeforeAnything_IsStillAnErrorObject()
    {
        var text = Write(includeUsage: false, e => e.Error(ErrorTypes.RateLimit, "Slow down"));

        Assert.Equal(Chunks("""{"error":{"message":"Slow down","type":"rate_limit_error","param":null,"code":"rate_limit_error"}}"""), text);
    }
}
