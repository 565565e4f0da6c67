using System.Buffers;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Relay.Protocol.Anthropic;
using Relay.Protocol.Sse;
using Relay.Protocol.Translation;

namespace Relay.Protocol.Events;

/// <summary>Reads an Anthropic provider's answer, streamed or whole, into message events for any client protocol.</summary>
/// <remarks>
/// <para>A stream is fed as its bytes arrive (<see cref="Feed"/>, split anywhere) and read by
/// <see cref="SseEventSplitter"/>; each event's data is read with a <see cref="Utf8JsonReader"/>, and delta text is
/// copied into a reused buffer, so deltas cost no strings. A whole message goes through <see cref="ReadMessage"/>.</para>
/// <para>Blocks a client of another protocol cannot use are skipped and the rest renumbered from 0: server tool blocks
/// (<c>server_tool_use</c>, <c>web_search_tool_result</c> and the other <c>*_tool_result</c>s; the model's text after
/// them says what it found), <c>redacted_thinking</c> (encrypted), citations. Usage is message_start's, updated by
/// message_delta's (cumulative, as Anthropic sends it). The events keep their grammar even when the provider does
/// not: a block still open when another starts or the message ends is stopped, deltas of other blocks are dropped,
/// nothing follows the end, and a stream that ends before <c>message_stop</c> ends with an error.</para>
/// <para>Not thread-safe: one instance per answer.</para>
/// </remarks>
/// <param name="events">Where the answer goes.</param>
/// <param name="model">The model name the client asked for, passed on in <see cref="IMessageEvents.MessageStart"/>.</param>
public sealed class AnthropicEventReader(IMessageEvents events, string model) : IDisposable
{
    public const string CutShortMessage = "The provider's stream ended before the answer was finished.";

    private readonly SseEventSplitter _splitter = new();
    private PropertyReader? _readDelta;
    private char[] _text = [];
    private BlockKind _open = BlockKind.None;
    private int _openUpstreamIndex = -1;
    private int _nextIndex;
    private bool _toolInputSeen;
    private string? _startInput;
    private bool _delta;
    private TokenUsage _usage;

    private enum BlockKind
    {
        None,
        Text,
        Thinking,
        Tool,
        Skipped,
    }

    public bool Started { get; private set; }

    /// <summary>True once <see cref="IMessageEvents.MessageStop"/> was called.</summary>
    public bool Completed { get; private set; }

    /// <summary>True once <see cref="IMessageEvents.Error"/> was called.</summary>
    public bool Failed { get; private set; }

    public bool Terminated => Completed || Failed;

    /// <summary>The usage so far, in Anthropic's terms.</summary>
    public TokenUsage Usage => _usage;

    public string? ErrorType { get; private set; }

    public string? ErrorMessage { get; private set; }

    /// <summary>Feeds the next bytes of an Anthropic SSE stream, exactly as they arrived.</summary>
    public void Feed(ReadOnlySpan<byte> bytes)
    {
        try
        {
            while (!Terminated && _splitter.TryRead(ref bytes, out var sse))
            {
                OnEvent(sse.Name, sse.Data);
            }
        }
        catch (InvalidDataException ex)
        {
            Fail(ErrorTypes.Api, ex.Message);
        }
    }

    /// <summary>The provider's body ended. Without <c>message_stop</c> the answer was cut short, and the client must
    /// learn that rather than take a partial answer as whole.</summary>
    public void OnEndOfInput()
    {
        if (!Terminated)
        {
            Fail(ErrorTypes.Api, CutShortMessage);
        }
    }

    /// <summary>Ends the answer with an error (the provider broke off, a timeout); nothing follows.</summary>
    public void Fail(string type, string message)
    {
        if (Terminated)
        {
            return;
        }

        Failed = true;
        ErrorType = type;
        ErrorMessage = message;
        events.Error(type, message);
    }

    /// <summary>Sends a keep-alive, when the answer has begun and not ended.</summary>
    public void Ping()
    {
        if (Started && !Terminated)
        {
            events.Ping();
        }
    }

    /// <summary>Reads a whole non-streaming answer: a <c>message</c> object, or an <c>error</c> body.</summary>
    public void ReadMessage(ReadOnlySpan<byte> json)
    {
        JsonDocument document;
        try
        {
            var reader = new Utf8JsonReader(json);
            document = JsonDocument.ParseValue(ref reader);
        }
        catch (JsonException)
        {
            Fail(ErrorTypes.Api, "The provider's answer is not valid JSON.");
            return;
        }

        using (document)
        {
            ReadMessage(document.RootElement);
        }
    }

    public void Dispose()
    {
        _splitter.Dispose();
        if (_text.Length > 0)
        {
            ArrayPool<char>.Shared.Return(_text);
            _text = [];
        }
    }

    // ---- whole messages ----

    private void ReadMessage(JsonElement message)
    {
        var type = ChatRequestTranslator.StringOf(message, "type");
        if (type == "error" || (type is null && message.TryGetProperty("error", out _)))
        {
            message.TryGetProperty("error", out var error);
            Fail(ChatRequestTranslator.StringOf(error, "type") ?? ErrorTypes.Api, ChatRequestTranslator.StringOf(error, "message") ?? "The provider answered with an error.");
            return;
        }

        if (message.ValueKind != JsonValueKind.Object || type != "message")
        {
            Fail(ErrorTypes.Api, "The provider's answer is not a message.");
            return;
        }

        if (message.TryGetProperty("usage", out var usage))
        {
            _usage.Apply(ReadUsage(usage));
        }

        Start(ChatRequestTranslator.StringOf(message, "id"));
        if (message.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.Array)
        {
            foreach (var block in content.EnumerateArray())
            {
                switch (ChatRequestTranslator.StringOf(block, "type"))
                {
                    case "text":
                        events.TextStart(_nextIndex);
                        Delta(events.TextDelta, ChatRequestTranslator.StringOf(block, "text"));
                        break;
                    case "thinking":
                        events.ThinkingStart(_nextIndex);
                        Delta(events.ThinkingDelta, ChatRequestTranslator.StringOf(block, "thinking"));
                        Delta(events.SignatureDelta, ChatRequestTranslator.StringOf(block, "signature"));
                        break;
                    case "tool_use":
                        events.ToolUseStart(_nextIndex, ChatRequestTranslator.StringOf(block, "id") ?? ToolIds.NewId(), ChatRequestTranslator.StringOf(block, "name") ?? "");
                        events.ToolInputDelta(_nextIndex, block.TryGetProperty("input", out var input) && input.ValueKind == JsonValueKind.Object ? input.GetRawText() : "{}");
                        break;
                    default:
                        continue; // see the remarks: server tool blocks, redacted thinking
                }

                events.BlockStop(_nextIndex++);
            }
        }

        events.MessageDelta(ChatRequestTranslator.StringOf(message, "stop_reason") ?? "end_turn", ChatRequestTranslator.StringOf(message, "stop_sequence"), _usage);
        events.MessageStop();
        Completed = true;
    }

    private delegate void TextEvent(int index, ReadOnlySpan<char> text);

    private void Delta(TextEvent write, string? text)
    {
        if (!string.IsNullOrEmpty(text))
        {
            write(_nextIndex, text);
        }
    }

    /// <summary>A whole message's usage, read by the same code as a stream's.</summary>
    private static UsageFields ReadUsage(JsonElement usage)
    {
        var fields = default(UsageFields);
        if (usage.ValueKind == JsonValueKind.Object)
        {
            var reader = new Utf8JsonReader(JsonMarshal.GetRawUtf8Value(usage));
            reader.Read();
            AnthropicObjectSummary.ReadUsage(ref reader, ref fields);
        }

        return fields;
    }

    // ---- streams ----

    private void Start(string? id)
    {
        if (Started)
        {
            return;
        }

        Started = true;
        events.MessageStart(string.IsNullOrEmpty(id) ? TranslationContext.NewMessageId() : id, model, _usage);
    }

    private void OnEvent(ReadOnlySpan<byte> name, ReadOnlySpan<byte> data)
    {
        var e = default(StreamEvent);
        if (!TryParse(data, ref e))
        {
            if (name.SequenceEqual("error"u8))
            {
                Fail(ErrorTypes.Api, "The provider sent an error event.");
            }

            return; // not JSON: noise a client has no use for
        }

        if (e.Type == EventType.None)
        {
            e.Type = TypeOf(name); // the data's type decides; the event line only when it is missing
        }

        switch (e.Type)
        {
            case EventType.MessageStart:
                _usage.Apply(e.Usage);
                Start(e.MessageId);
                break;
            case EventType.BlockStart:
                Start(null);
                OnBlockStart(ref e);
                break;
            case EventType.BlockDelta:
                OnBlockDelta(ref e);
                break;
            case EventType.BlockStop:
                if (e.Index == _openUpstreamIndex)
                {
                    CloseBlock();
                }

                break;
            case EventType.MessageDelta:
                Start(null);
                CloseBlock();
                _usage.Apply(e.Usage);
                if (!_delta)
                {
                    _delta = true;
                    events.MessageDelta(e.StopReason ?? "end_turn", e.StopSequence, _usage);
                }

                break;
            case EventType.MessageStop:
                Start(null);
                CloseBlock();
                if (!_delta)
                {
                    _delta = true;
                    events.MessageDelta("end_turn", null, _usage);
                }

                events.MessageStop();
                Completed = true;
                break;
            case EventType.Ping:
                Ping();
                break;
            case EventType.Error:
                Fail(e.ErrorType ?? ErrorTypes.Api, e.ErrorMessage ?? "The provider sent an error event.");
                break;
            default:
                break; // events a later API version adds
        }
    }

    private void OnBlockStart(ref StreamEvent e)
    {
        CloseBlock();
        _openUpstreamIndex = e.Index;
        _toolInputSeen = false;
        _startInput = null;
        switch (e.BlockType)
        {
            case "text":
                _open = BlockKind.Text;
                events.TextStart(_nextIndex);
                if (e.BlockText is { Length: > 0 } text)
                {
                    events.TextDelta(_nextIndex, text);
                }

                break;
            case "thinking":
                _open = BlockKind.Thinking;
                events.ThinkingStart(_nextIndex);
                if (e.BlockText is { Length: > 0 } thinking)
                {
                    events.ThinkingDelta(_nextIndex, thinking);
                }

                break;
            case "tool_use":
                _open = BlockKind.Tool;
                events.ToolUseStart(_nextIndex, e.BlockId ?? ToolIds.NewId(), e.BlockName ?? "");
                // Anthropic streams the input in deltas after input:{}; some compatible servers put it all here.
                _startInput = e.BlockInput is { } input && input != "{}" ? input : null;
                break;
            default:
                _open = BlockKind.Skipped;
                break;
        }
    }

    private void OnBlockDelta(ref StreamEvent e)
    {
        if (e.Index != _openUpstreamIndex || e.DeltaLength == 0)
        {
            return;
        }

        var value = _text.AsSpan(0, e.DeltaLength);
        switch ((_open, e.DeltaField))
        {
            case (BlockKind.Text, DeltaField.Text):
                events.TextDelta(_nextIndex, value);
                break;
            case (BlockKind.Thinking, DeltaField.Thinking):
                events.ThinkingDelta(_nextIndex, value);
                break;
            case (BlockKind.Thinking, DeltaField.Signature):
                events.SignatureDelta(_nextIndex, value);
                break;
            case (BlockKind.Tool, DeltaField.PartialJson):
                _toolInputSeen = true;
                events.ToolInputDelta(_nextIndex, value);
                break;
            default:
                break;
        }
    }

    private void CloseBlock()
    {
        var open = _open;
        _open = BlockKind.None;
        _openUpstreamIndex = -1;
        if (open is BlockKind.None or BlockKind.Skipped)
        {
            return;
        }

        if (open == BlockKind.Tool && !_toolInputSeen && _startInput is not null)
        {
            events.ToolInputDelta(_nextIndex, _startInput);
        }

        events.BlockStop(_nextIndex++);
    }

    private enum DeltaField
    {
        None,
        Text,
        Thinking,
        Signature,
        PartialJson,
    }

    private enum EventType
    {
        None,
        Other,
        MessageStart,
        BlockStart,
        BlockDelta,
        BlockStop,
        MessageDelta,
        MessageStop,
        Ping,
        Error,
    }

    private static EventType TypeOf(ReadOnlySpan<byte> name) => name switch
    {
        _ when name.SequenceEqual("content_block_delta"u8) => EventType.BlockDelta,
        _ when name.SequenceEqual("content_block_start"u8) => EventType.BlockStart,
        _ when name.SequenceEqual("content_block_stop"u8) => EventType.BlockStop,
        _ when name.SequenceEqual("message_start"u8) => EventType.MessageStart,
        _ when name.SequenceEqual("message_delta"u8) => EventType.MessageDelta,
        _ when name.SequenceEqual("message_stop"u8) => EventType.MessageStop,
        _ when name.SequenceEqual("ping"u8) => EventType.Ping,
        _ when name.SequenceEqual("error"u8) => EventType.Error,
        _ => name.IsEmpty ? EventType.None : EventType.Other,
    };

    /// <summary>What one stream event's data says; the delta's text is in <see cref="_text"/>.</summary>
    private struct StreamEvent
    {
        public EventType Type;
        public int Index;
        public string? MessageId;
        public UsageFields Usage;
        public string? BlockType;
        public string? BlockId;
        public string? BlockName;
        public string? BlockText;
        public string? BlockInput;
        public DeltaField DeltaField;
        public int DeltaLength;
        public string? StopReason;
        public string? StopSequence;
        public string? ErrorType;
        public string? ErrorMessage;
    }

    private bool TryParse(ReadOnlySpan<byte> data, ref StreamEvent e)
    {
        try
        {
            var reader = new Utf8JsonReader(data);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return false;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("type"u8))
                {
                    reader.Read();
                    e.Type = reader.TokenType == JsonTokenType.String ? TypeOf(reader.ValueIsEscaped ? Encoding.UTF8.GetBytes(reader.GetString()!) : reader.ValueSpan) : EventType.None;
                }
                else if (reader.ValueTextEquals("index"u8))
                {
                    reader.Read();
                    e.Index = reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var index) ? index : -2;
                }
                else if (reader.ValueTextEquals("usage"u8))
                {
                    reader.Read();
                    AnthropicObjectSummary.ReadUsage(ref reader, ref e.Usage);
                }
                else if (reader.ValueTextEquals("message"u8))
                {
                    reader.Read();
                    ReadObject(ref reader, ref e, ReadMessageProperty);
                }
                else if (reader.ValueTextEquals("content_block"u8))
                {
                    reader.Read();
                    ReadObject(ref reader, ref e, ReadBlockProperty);
                }
                else if (reader.ValueTextEquals("delta"u8))
                {
                    reader.Read();
                    ReadObject(ref reader, ref e, _readDelta ??= ReadDeltaProperty);
                }
                else if (reader.ValueTextEquals("error"u8))
                {
                    reader.Read();
                    ReadObject(ref reader, ref e, ReadErrorProperty);
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }

            return true;
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            return false; // malformed JSON, or a string that is not valid UTF-8
        }
    }

    private delegate void PropertyReader(ref Utf8JsonReader reader, ref StreamEvent e);

    /// <summary>Reads an object's properties with <paramref name="read"/>, which is on the property name and must
    /// consume its value; anything but an object is skipped.</summary>
    private static void ReadObject(ref Utf8JsonReader reader, ref StreamEvent e, PropertyReader read)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return;
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            read(ref reader, ref e);
        }
    }

    private static void ReadMessageProperty(ref Utf8JsonReader reader, ref StreamEvent e)
    {
        if (reader.ValueTextEquals("id"u8))
        {
            e.MessageId = ReadString(ref reader);
        }
        else if (reader.ValueTextEquals("usage"u8))
        {
            reader.Read();
            AnthropicObjectSummary.ReadUsage(ref reader, ref e.Usage);
        }
        else
        {
            reader.Read();
            reader.Skip();
        }
    }

    private static void ReadBlockProperty(ref Utf8JsonReader reader, ref StreamEvent e)
    {
        if (reader.ValueTextEquals("type"u8))
        {
            e.BlockType = ReadString(ref reader);
        }
        else if (reader.ValueTextEquals("id"u8))
        {
            e.BlockId = ReadString(ref reader);
        }
        else if (reader.ValueTextEquals("name"u8))
        {
            e.BlockName = ReadString(ref reader);
        }
        else if (reader.ValueTextEquals("text"u8) || reader.ValueTextEquals("thinking"u8))
        {
            e.BlockText = ReadString(ref reader);
        }
        else if (reader.ValueTextEquals("input"u8))
        {
            reader.Read();
            if (reader.TokenType == JsonTokenType.StartObject)
            {
                using var input = JsonDocument.ParseValue(ref reader);
                e.BlockInput = input.RootElement.GetRawText();
            }
            else
            {
                reader.Skip();
            }
        }
        else
        {
            reader.Read();
            reader.Skip();
        }
    }

    private void ReadDeltaProperty(ref Utf8JsonReader reader, ref StreamEvent e)
    {
        var field = reader.ValueTextEquals("text"u8) ? DeltaField.Text
            : reader.ValueTextEquals("thinking"u8) ? DeltaField.Thinking
            : reader.ValueTextEquals("signature"u8) ? DeltaField.Signature
            : reader.ValueTextEquals("partial_json"u8) ? DeltaField.PartialJson
            : DeltaField.None;
        if (field != DeltaField.None)
        {
            reader.Read();
            if (reader.TokenType == JsonTokenType.String)
            {
                e.DeltaField = field;
                e.DeltaLength = CopyText(ref reader);
            }
            else
            {
                reader.Skip();
            }
        }
        else if (reader.ValueTextEquals("stop_reason"u8))
        {
            e.StopReason = ReadString(ref reader);
        }
        else if (reader.ValueTextEquals("stop_sequence"u8))
        {
            e.StopSequence = ReadString(ref reader);
        }
        else
        {
            reader.Read();
            reader.Skip();
        }
    }

    private static void ReadErrorProperty(ref Utf8JsonReader reader, ref StreamEvent e)
    {
        if (reader.ValueTextEquals("type"u8))
        {
            e.ErrorType = ReadString(ref reader);
        }
        else if (reader.ValueTextEquals("message"u8))
        {
            e.ErrorMessage = ReadString(ref reader);
        }
        else
        {
            reader.Read();
            reader.Skip();
        }
    }

    /// <summary>Reads the value after a property name: its string, or null for anything else (skipped).</summary>
    private static string? ReadString(ref Utf8JsonReader reader)
    {
        reader.Read();
        if (reader.TokenType == JsonTokenType.String)
        {
            return reader.GetString();
        }

        reader.Skip();
        return null;
    }

    /// <summary>Unescapes the string the reader is on into the reused text buffer; UTF-16 never needs more chars than
    /// the UTF-8 had bytes.</summary>
    private int CopyText(ref Utf8JsonReader reader)
    {
        var needed = reader.ValueSpan.Length;
        if (_text.Length < needed)
        {
            if (_text.Length > 0)
            {
                ArrayPool<char>.Shared.Return(_text);
            }

            _text = ArrayPool<char>.Shared.Rent(Math.Max(needed, 256));
        }

        return reader.CopyString(_text);
    }
}
