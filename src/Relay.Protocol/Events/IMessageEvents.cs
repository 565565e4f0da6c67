using Relay.Protocol.Anthropic;

namespace Relay.Protocol.Events;

/// <summary>
/// An answer as it happens, in terms every protocol Relay speaks can express: a message made of content blocks (text,
/// thinking, tool calls) that open, grow and close one after another, then why it stopped and what it used.
/// </summary>
/// <remarks>
/// Readers of a provider's protocol call it; writers of a client's protocol implement it, so any provider can answer
/// any client without a translator per pair. Calls come in the order of Anthropic's stream grammar: one
/// <see cref="MessageStart"/>; blocks strictly one at a time, each opened, given deltas and stopped; then
/// <see cref="MessageDelta"/> and <see cref="MessageStop"/>. <see cref="Error"/> may come at any point and ends it.
/// Strings are spans so a writer can copy them straight into its output.
/// </remarks>
public interface IMessageEvents
{
    /// <param name="id">The message id the client sees.</param>
    /// <param name="model">The model name the client asked for.</param>
    /// <param name="usage">What is known of usage so far (an estimate until the provider reports).</param>
    void MessageStart(string id, string model, in TokenUsage usage);

    void TextStart(int index);

    void ThinkingStart(int index);

    /// <param name="index">The block's position in the message.</param>
    /// <param name="id">The call's id in Anthropic's form (<c>toolu_…</c>).</param>
    /// <param name="name">The tool's name as the client declared it.</param>
    void ToolUseStart(int index, string id, string name);

    void TextDelta(int index, ReadOnlySpan<char> text);

    void ThinkingDelta(int index, ReadOnlySpan<char> thinking);

    /// <summary>The signature that lets a thinking block be sent back later; comes last in its block.</summary>
    void SignatureDelta(int index, ReadOnlySpan<char> signature);

    /// <summary>More of a tool call's input: together, the deltas of a block form one JSON object.</summary>
    void ToolInputDelta(int index, ReadOnlySpan<char> partialJson);

    void BlockStop(int index);

    /// <param name="stopReason">Anthropic's stop reason: <c>end_turn</c>, <c>max_tokens</c>, <c>tool_use</c>, <c>stop_sequence</c>, <c>refusal</c>…</param>
    /// <param name="stopSequence">The stop sequence that ended it, if one did.</param>
    /// <param name="usage">The provider's final numbers.</param>
    void MessageDelta(string stopReason, string? stopSequence, in TokenUsage usage);

    void MessageStop();

    /// <summary>Nothing happened for a while; a writer may send its protocol's keep-alive.</summary>
    void Ping();

    /// <summary>The answer failed after it began; nothing follows.</summary>
    void Error(string type, string message);
}
