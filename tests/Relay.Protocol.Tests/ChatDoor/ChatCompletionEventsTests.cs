using System.Buffers;
using System.Text;
using Relay.Protocol.Anthropic;
using Relay.Protocol.Events;
using static Relay.Protocol.Tests.ChatDoor.ChatDoorTesting;

namespace Relay.Protocol.Tests.ChatDoor;

/// <summary>Message events in, one exact <c>chat.completion</c> object out.</summary>
public sealed class ChatCompletionEventsTests
{
    private static (string Json, ChatCompletionEvents Events) Write(Action<IMessageEvents> script, IReadOnlyDictionary<string, string>? toolNames = null)
    {
        var output = new ArrayBufferWriter<byte>();
        var events = new ChatCompletionEvents(output, FixedClock.At1700000000, toolNames);
        script(events);
        return (Encoding.UTF8.GetString(output.WrittenSpan), events);
    }

    [Fact]
    public void TextReasoningAndToolCalls_InOneMessage()
    {
        var (json, events) = Write(e =>
        {
            e.MessageStart("msg_01Abc", "claude-sonnet-4-6", new TokenUsage(20, 1, 0, 0));
            e.ThinkingStart(0);
            e.ThinkingDelta(0, "Weather ");
            e.ThinkingDelta(0, "needed.");
            e.SignatureDelta(0, "sig");
            e.BlockStop(0);
            e.TextStart(1);
            e.TextDelta(1, "Let me ");
            e.TextDelta(1, "check.");
            e.BlockStop(1);
            e.ToolUseStart(2, "toolu_01A", "short");
            e.ToolInputDelta(2, "{\"city\":");
            e.ToolInputDelta(2, "\"Paris\"}");
            e.BlockStop(2);
            e.ToolUseStart(3, "toolu_01B", "now");
            e.BlockStop(3);
            e.MessageDelta("tool_use", null, new TokenUsage(20, 55, 10, 300));
            e.MessageStop();
        }, new Dictionary<string, string> { ["short"] = "get.weather" });

        Assert.Equal(Min("""
            {"id":"chatcmpl-01Abc","object":"chat.completion","created":1700000000,"model":"claude-sonnet-4-6",
             "choices":[{"index":0,"message":{"role":"assistant","content":"Let me check.","reasoning_content":"Weather needed.",
               "tool_calls":[{"id":"toolu_01A","type":"function","function":{"name":"get.weather","arguments":"{\"city\":\"Paris\"}"}},
                             {"id":"toolu_01B","type":"function","function":{"name":"now","arguments":"{}"}}]},
               "finish_reason":"tool_calls"}],
             "usage":{"prompt_tokens":330,"completion_tokens":55,"total_tokens":385,"prompt_tokens_details":{"cached_tokens":300}}}
            """), json);
        Assert.True(events.Completed);
    }

    [Fact]
    public void NoText_IsNullContent()
    {
        var (json, _) = Write(e =>
        {
            e.MessageStart("msg_1", "m", default);
            e.MessageDelta("max_tokens", null, new TokenUsage(1, 2, 0, 0));
            e.MessageStop();
        });

        Assert.Equal(Min("""
            {"id":"chatcmpl-1","object":"chat.completion","created":1700000000,"model":"m",
             "choices":[{"index":0,"message":{"role":"assistant","content":null},"finish_reason":"length"}],
             "usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3,"prompt_tokens_details":{"cached_tokens":0}}}
            """), json);
    }

    [Fact]
    public void Error_WritesOpenAIsErrorBody_AndSaysSo()
    {
        var (json, events) = Write(e =>
        {
            e.MessageStart("msg_1", "m", default);
            e.TextStart(0);
            e.TextDelta(0, "partial");
            e.Error(ErrorTypes.Api, "Upstream broke");
            e.MessageStop();
        });

        Assert.Equal("""{"error":{"message":"Upstream broke","type":"server_error","param":null,"code":"api_error"}}""", json);
        Assert.True(events.Failed);
        Assert.False(events.Completed);
        Assert.Equal(ErrorTypes.Api, events.ErrorType);
    }
}
