using Relay.Protocol.OpenAI;

namespace Relay.Protocol.Tests.OpenAI;

/// <summary>The answer bytes an OpenAI stream event carries, for the output estimate of a pass-through cut short:
/// unescaped UTF-8 of text, reasoning and tool-call arguments; ids, names, roles and other events count nothing.</summary>
public sealed class AnswerDeltaBytesTests
{
    [Theory]
    // héllo\n: é escaped or not is 2 bytes, the newline 1.
    [InlineData("""{"id":"c","choices":[{"index":0,"delta":{"role":"assistant","content":"h\u00e9llo\n"},"finish_reason":null}]}""", 7)]
    [InlineData("""{"id":"c","choices":[{"index":0,"delta":{"content":"héllo\n"}}]}""", 7)]
    // Reasoning under either name, and two choices each counted.
    [InlineData("""{"choices":[{"delta":{"reasoning_content":"abc"}},{"delta":{"reasoning":"de","content":"f"}}]}""", 6)]
    // Tool arguments {"a":1}; the id and name count nothing.
    [InlineData("""{"choices":[{"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"a\":1}"}}]}}]}""", 7)]
    [InlineData("""{"choices":[],"usage":{"prompt_tokens":10,"completion_tokens":2}}""", 0)]
    [InlineData("""{"choices":[{"delta":{"content":null},"finish_reason":"stop"}]}""", 0)]
    [InlineData("""{"choices":[{"delta":{"content":"unfinished""", 0)]
    [InlineData("[DONE]", 0)]
    public void Chat(string data, long bytes) => Assert.Equal(bytes, AnswerDeltaBytes.Chat(System.Text.Encoding.UTF8.GetBytes(data)));

    [Theory]
    [InlineData("""{"type":"response.output_text.delta","item_id":"msg_1","content_index":0,"delta":"h\u00e9llo\n","sequence_number":4}""", 7)]
    [InlineData("""{"type":"response.reasoning_summary_text.delta","item_id":"rs_1","summary_index":0,"delta":"abc"}""", 3)]
    [InlineData("""{"type":"response.reasoning_text.delta","item_id":"rs_1","delta":"abcd"}""", 4)]
    [InlineData("""{"type":"response.function_call_arguments.delta","item_id":"fc_1","delta":"{\"a\":1}"}""", 7)]
    // The type may come after the delta.
    [InlineData("""{"delta":"abc","type":"response.output_text.delta"}""", 3)]
    // Events that repeat the text or carry other data count nothing.
    [InlineData("""{"type":"response.output_text.done","item_id":"msg_1","text":"héllo"}""", 0)]
    [InlineData("""{"type":"response.audio.delta","delta":"UklGRiQAAABXQVZF"}""", 0)]
    [InlineData("""{"type":"response.output_text.delta","delta":"unfinished""", 0)]
    public void Responses(string data, long bytes) => Assert.Equal(bytes, AnswerDeltaBytes.Responses(System.Text.Encoding.UTF8.GetBytes(data)));
}
