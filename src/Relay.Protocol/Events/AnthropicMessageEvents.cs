using System.Buffers;
using System.Text;
using System.Text.Json;
using Relay.Protocol.Anthropic;
using Relay.Protocol.Json;

namespace Relay.Protocol.Events;

/// <summary>Collects message events and writes one Anthropic <c>message</c> object when the message stops: the
/// answer to a request that did not ask for a stream.</summary>
public sealed class AnthropicMessageEvents(IBufferWriter<byte> output) : IMessageEvents
{
    private readonly List<Block> _blocks = [];
    private string _id = "";
    private string _model = "";
    private string? _stopReason;
    private string? _stopSequence;
    private TokenUsage _usage;

    /// <summary>True once the message was written.</summary>
    public bool Written { get; private set; }

    public void MessageStart(string id, string model, in TokenUsage usage)
    {
        _id = id;
        _model = model;
        _usage = usage;
    }

    public void TextStart(int index) => _blocks.Add(new Block(BlockType.Text));

    public void ThinkingStart(int index) => _blocks.Add(new Block(BlockType.Thinking));

    public void ToolUseStart(int index, string id, string name) => _blocks.Add(new Block(BlockType.ToolUse) { Id = id, Name = name });

    public void TextDelta(int index, ReadOnlySpan<char> text) => _blocks[^1].Content.Append(text);

    public void ThinkingDelta(int index, ReadOnlySpan<char> thinking) => _blocks[^1].Content.Append(thinking);

    public void SignatureDelta(int index, ReadOnlySpan<char> signature) => _blocks[^1].Signature.Append(signature);

    public void ToolInputDelta(int index, ReadOnlySpan<char> partialJson) => _blocks[^1].Content.Append(partialJson);

    public void BlockStop(int index)
    {
    }

    public void MessageDelta(string stopReason, string? stopSequence, in TokenUsage usage)
    {
        _stopReason = stopReason;
        _stopSequence = stopSequence;
        _usage = usage;
    }

    public void MessageStop()
    {
        using var w = new Utf8JsonWriter(output, ProtocolJson.WriterOptions);
        w.WriteStartObject();
        w.WriteString("id"u8, _id);
        w.WriteString("type"u8, "message"u8);
        w.WriteString("role"u8, "assistant"u8);
        w.WriteString("model"u8, _model);
        w.WriteStartArray("content"u8);
        foreach (var block in _blocks)
        {
            WriteBlock(w, block);
        }

        w.WriteEndArray();
        w.WriteString("stop_reason"u8, _stopReason ?? "end_turn");
        if (_stopSequence is null)
        {
            w.WriteNull("stop_sequence"u8);
        }
        else
        {
            w.WriteString("stop_sequence"u8, _stopSequence);
        }

        UsageJson.Write(w, _usage);
        w.WriteEndObject();
        w.Flush();
        Written = true;
    }

    public void Ping()
    {
    }

    /// <summary>Nothing is written: the caller answers with an error instead.</summary>
    public void Error(string type, string message)
    {
    }

    private static void WriteBlock(Utf8JsonWriter w, Block block)
    {
        w.WriteStartObject();
        switch (block.Type)
        {
            case BlockType.Text:
                w.WriteString("type"u8, "text"u8);
                w.WriteString("text"u8, block.Content.ToString());
                break;
            case BlockType.Thinking:
                w.WriteString("type"u8, "thinking"u8);
                w.WriteString("thinking"u8, block.Content.ToString());
                w.WriteString("signature"u8, block.Signature.ToString());
                break;
            default:
                w.WriteString("type"u8, "tool_use"u8);
                w.WriteString("id"u8, block.Id);
                w.WriteString("name"u8, block.Name);
                w.WritePropertyName("input"u8);
                // The translators promise each tool block's deltas form one JSON object.
                w.WriteRawValue(block.Content.Length == 0 ? "{}" : block.Content.ToString(), skipInputValidation: false);
                break;
        }

        w.WriteEndObject();
    }

    private enum BlockType
    {
        Text,
        Thinking,
        ToolUse,
    }

    private sealed class Block(BlockType type)
    {
        public BlockType Type => type;

        public string? Id { get; init; }

        public string? Name { get; init; }

        public StringBuilder Content { get; } = new();

        public StringBuilder Signature { get; } = new();
    }
}
