using System.Buffers;
using Relay.Protocol.Anthropic;
using Relay.Protocol.Events;

namespace Relay.Doors;

/// <summary>Collects an answer into a Responses API <c>response</c> object and writes it into
/// <paramref name="output"/> once the answer ends, as <see cref="IFrontDoor.CreateMessageWriter"/> promises.</summary>
internal sealed class ResponsesObjectWriter(IBufferWriter<byte> output, ResponsesObjectEvents answer) : IMessageEvents
{
    private bool _written;

    public void MessageStart(string id, string model, in TokenUsage usage) => answer.MessageStart(id, model, usage);

    public void TextStart(int index) => answer.TextStart(index);

    public void ThinkingStart(int index) => answer.ThinkingStart(index);

    public void ToolUseStart(int index, string id, string name) => answer.ToolUseStart(index, id, name);

    public void TextDelta(int index, ReadOnlySpan<char> text) => answer.TextDelta(index, text);

    public void ThinkingDelta(int index, ReadOnlySpan<char> thinking) => answer.ThinkingDelta(index, thinking);

    public void SignatureDelta(int index, ReadOnlySpan<char> signature) => answer.SignatureDelta(index, signature);

    public void ToolInputDelta(int index, ReadOnlySpan<char> partialJson) => answer.ToolInputDelta(index, partialJson);

    public void BlockStop(int index) => answer.BlockStop(index);

    public void MessageDelta(string stopReason, string? stopSequence, in TokenUsage usage) => answer.MessageDelta(stopReason, stopSequence, usage);

    public void MessageStop()
    {
        answer.MessageStop();
        WriteOnce();
    }

    public void Ping()
    {
    }

    /// <summary>The adapters answer a failed message with an HTTP error; the failed object is written anyway, so the
    /// output always holds what the events said.</summary>
    public void Error(string type, string message)
    {
        answer.Error(type, message);
        WriteOnce();
    }

    private void WriteOnce()
    {
        if (!_written)
        {
            _written = true;
            answer.WriteTo(output);
        }
    }
}
