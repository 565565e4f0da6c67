using System.Buffers;
using Relay.Protocol.Anthropic;
using Relay.Protocol.Translation;

namespace Relay.Protocol.Events;

/// <summary>Writes message events as Anthropic's SSE stream, straight into a buffer.</summary>
public sealed class AnthropicSseEvents(IBufferWriter<byte> output) : IMessageEvents, IDisposable
{
    private readonly AnthropicSseWriter _sse = new(output);

    public void MessageStart(string id, string model, in TokenUsage usage)
    {
        var w = _sse.Begin("message_start"u8);
        w.WritePropertyName("message"u8);
        w.WriteStartObject();
        w.WriteString("id"u8, id);
        w.WriteString("type"u8, "message"u8);
        w.WriteString("role"u8, "assistant"u8);
        w.WriteString("model"u8, model);
        w.WriteStartArray("content"u8);
        w.WriteEndArray();
        w.WriteNull("stop_reason"u8);
        w.WriteNull("stop_sequence"u8);
        UsageJson.Write(w, usage);
        w.WriteEndObject();
        _sse.End();
    }

    public void TextStart(int index)
    {
        var w = BeginBlock(index);
        w.WriteString("type"u8, "text"u8);
        w.WriteString("text"u8, ""u8);
        EndBlock(w);
    }

    public void ThinkingStart(int index)
    {
        var w = BeginBlock(index);
        w.WriteString("type"u8, "thinking"u8);
        w.WriteString("thinking"u8, ""u8);
        w.WriteString("signature"u8, ""u8);
        EndBlock(w);
    }

    public void ToolUseStart(int index, string id, string name)
    {
        var w = BeginBlock(index);
        w.WriteString("type"u8, "tool_use"u8);
        w.WriteString("id"u8, id);
        w.WriteString("name"u8, name);
        w.WriteStartObject("input"u8);
        w.WriteEndObject();
        EndBlock(w);
    }

    public void TextDelta(int index, ReadOnlySpan<char> text) => Delta(index, "text_delta"u8, "text"u8, text);

    public void ThinkingDelta(int index, ReadOnlySpan<char> thinking) => Delta(index, "thinking_delta"u8, "thinking"u8, thinking);

    public void SignatureDelta(int index, ReadOnlySpan<char> signature) => Delta(index, "signature_delta"u8, "signature"u8, signature);

    public void ToolInputDelta(int index, ReadOnlySpan<char> partialJson) => Delta(index, "input_json_delta"u8, "partial_json"u8, partialJson);

    public void BlockStop(int index)
    {
        var w = _sse.Begin("content_block_stop"u8);
        w.WriteNumber("index"u8, index);
        _sse.End();
    }

    public void MessageDelta(string stopReason, string? stopSequence, in TokenUsage usage)
    {
        var w = _sse.Begin("message_delta"u8);
        w.WriteStartObject("delta"u8);
        w.WriteString("stop_reason"u8, stopReason);
        if (stopSequence is null)
        {
            w.WriteNull("stop_sequence"u8);
        }
        else
        {
            w.WriteString("stop_sequence"u8, stopSequence);
        }

        w.WriteEndObject();
        UsageJson.Write(w, usage);
        _sse.End();
    }

    public void MessageStop() => _sse.Simple("message_stop"u8);

    public void Ping() => _sse.Simple("ping"u8);

    public void Error(string type, string message)
    {
        var w = _sse.Begin("error"u8);
        w.WriteStartObject("error"u8);
        w.WriteString("type"u8, type);
        w.WriteString("message"u8, message);
        w.WriteEndObject();
        _sse.End();
    }

    public void Dispose() => _sse.Dispose();

    private System.Text.Json.Utf8JsonWriter BeginBlock(int index)
    {
        var w = _sse.Begin("content_block_start"u8);
        w.WriteNumber("index"u8, index);
        w.WriteStartObject("content_block"u8);
        return w;
    }

    private void EndBlock(System.Text.Json.Utf8JsonWriter w)
    {
        w.WriteEndObject();
        _sse.End();
    }

    private void Delta(int index, ReadOnlySpan<byte> type, ReadOnlySpan<byte> field, ReadOnlySpan<char> value)
    {
        var w = _sse.Begin("content_block_delta"u8);
        w.WriteNumber("index"u8, index);
        w.WriteStartObject("delta"u8);
        w.WriteString("type"u8, type);
        w.WriteString(field, value);
        w.WriteEndObject();
        _sse.End();
    }
}
