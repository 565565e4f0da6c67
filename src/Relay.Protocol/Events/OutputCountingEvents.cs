using System.Text;
using Relay.Protocol.Anthropic;

namespace Relay.Protocol.Events;

/// <summary>
/// Passes a translated answer on to the client's writer and counts what it relays, so that a stream cut short still
/// records an output estimate (<see cref="OutputEstimate"/>): every provider reader (Chat, Responses, Anthropic for
/// another door) goes through this one place.
/// </summary>
/// <remarks>Counts the UTF-8 bytes of text, thinking and tool-input deltas without copying them. The provider's final
/// count is taken to have arrived when <see cref="MessageDelta"/> carried a non-zero output: a Chat provider that
/// never reports usage ends with zero, and then the estimate is the better number.</remarks>
public sealed class OutputCountingEvents(IMessageEvents inner) : IMessageEvents
{
    private bool _finalOutputReported;

    /// <summary>The UTF-8 bytes of text, thinking and tool-input JSON relayed so far.</summary>
    public long ContentBytes { get; private set; }

    /// <summary>The usage to record for a translator that read <paramref name="reported"/> from the provider; an
    /// estimate is capped at <paramref name="outputLimit"/> (0 or less: none).</summary>
    public TokenUsage Billable(in TokenUsage reported, long outputLimit) =>
        OutputEstimate.Complete(reported, _finalOutputReported, ContentBytes, outputLimit);

    public void MessageStart(string id, string model, in TokenUsage usage) => inner.MessageStart(id, model, usage);

    public void TextStart(int index) => inner.TextStart(index);

    public void ThinkingStart(int index) => inner.ThinkingStart(index);

    public void ToolUseStart(int index, string id, string name) => inner.ToolUseStart(index, id, name);

    public void TextDelta(int index, ReadOnlySpan<char> text)
    {
        ContentBytes += Encoding.UTF8.GetByteCount(text);
        inner.TextDelta(index, text);
    }

    public void ThinkingDelta(int index, ReadOnlySpan<char> thinking)
    {
        ContentBytes += Encoding.UTF8.GetByteCount(thinking);
        inner.ThinkingDelta(index, thinking);
    }

    public void SignatureDelta(int index, ReadOnlySpan<char> signature) => inner.SignatureDelta(index, signature);

    public void ToolInputDelta(int index, ReadOnlySpan<char> partialJson)
    {
        ContentBytes += Encoding.UTF8.GetByteCount(partialJson);
        inner.ToolInputDelta(index, partialJson);
    }

    public void BlockStop(int index) => inner.BlockStop(index);

    public void MessageDelta(string stopReason, string? stopSequence, in TokenUsage usage)
    {
        _finalOutputReported |= usage.OutputTokens > 0;
        inner.MessageDelta(stopReason, stopSequence, usage);
    }

    public void MessageStop() => inner.MessageStop();

    public void Ping() => inner.Ping();

    public void Error(string type, string message) => inner.Error(type, message);
}
