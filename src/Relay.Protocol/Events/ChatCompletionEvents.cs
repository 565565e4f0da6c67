using System.Buffers;
using System.Text;
using System.Text.Json;
using Relay.Protocol.Anthropic;
using Relay.Protocol.Json;
using Relay.Protocol.Translation;

namespace Relay.Protocol.Events;

/// <summary>Collects message events and writes one OpenAI <c>chat.completion</c> object at the end, for a client that
/// did not ask to stream.</summary>
/// <remarks>
/// Text blocks are joined into <c>message.content</c> (null when there is none, as OpenAI sends with tool calls),
/// thinking into <c>reasoning_content</c>, tool calls into <c>tool_calls</c> with their whole arguments; usage is
/// always included. An error writes OpenAI's error body instead (<see cref="Failed"/> tells the caller to answer with
/// an error status for <see cref="ErrorType"/>).
/// </remarks>
/// <param name="clock">Gives <c>created</c>.</param>
/// <param name="toolNames">Name sent → the client's name (<see cref="ChatDoorRequest.ToolNames"/>).</param>
public sealed class ChatCompletionEvents(IBufferWriter<byte> output, TimeProvider clock, IReadOnlyDictionary<string, string>? toolNames = null)
    : IMessageEvents
{
    private readonly StringBuilder _text = new();
    private readonly StringBuilder _reasoning = new();
    private readonly List<(string Id, string Name, StringBuilder Arguments)> _toolCalls = [];
    private StringBuilder? _openArguments;
    private string _id = "";
    private string _model = "";
    private long _created;
    private string? _stopReason;

    /// <summary>True once the <c>chat.completion</c> was written.</summary>
    public bool Completed { get; private set; }

    /// <summary>True once an error body was written.</summary>
    public bool Failed { get; private set; }

    /// <summary>The Anthropic <c>error.type</c> of the failure, if any.</summary>
    public string? ErrorType { get; private set; }

    public TokenUsage Usage { get; private set; }

    private bool Ended => Completed || Failed;

    public void MessageStart(string id, string model, in TokenUsage usage)
    {
        _id = ChatAnswerJson.CompletionId(id);
        _model = model;
        _created = clock.GetUtcNow().ToUnixTimeSeconds();
        Usage = usage;
    }

    public void TextStart(int index)
    {
    }

    public void ThinkingStart(int index)
    {
    }

    public void ToolUseStart(int index, string id, string name)
    {
        _openArguments = new StringBuilder();
        _toolCalls.Add((ToolIds.ToChatClient(id), ChatAnswerJson.ClientToolName(toolNames, name), _openArguments));
    }

    public void TextDelta(int index, ReadOnlySpan<char> text) => _text.Append(text);

    public void ThinkingDelta(int index, ReadOnlySpan<char> thinking) => _reasoning.Append(thinking);

    public void SignatureDelta(int index, ReadOnlySpan<char> signature)
    {
    }

    public void ToolInputDelta(int index, ReadOnlySpan<char> partialJson) => _openArguments?.Append(partialJson);

    public void BlockStop(int index) => _openArguments = null;

    public void MessageDelta(string stopReason, string? stopSequence, in TokenUsage usage)
    {
        _stopReason = stopReason;
        Usage = usage;
    }

    public void MessageStop()
    {
        if (Ended)
        {
            return;
        }

        using var w = new Utf8JsonWriter(output, ProtocolJson.WriterOptions);
        w.WriteStartObject();
        w.WriteString("id"u8, _id);
        w.WriteString("object"u8, "chat.completion"u8);
        w.WriteNumber("created"u8, _created);
        w.WriteString("model"u8, _model);
        w.WriteStartArray("choices"u8);
        w.WriteStartObject();
        w.WriteNumber("index"u8, 0);
        w.WriteStartObject("message"u8);
        w.WriteString("role"u8, "assistant"u8);
        if (_text.Length > 0)
        {
            w.WriteString("content"u8, _text.ToString());
        }
        else
        {
            w.WriteNull("content"u8);
        }

        if (_reasoning.Length > 0)
        {
            w.WriteString("reasoning_content"u8, _reasoning.ToString());
        }

        if (_toolCalls.Count > 0)
        {
            w.WriteStartArray("tool_calls"u8);
            foreach (var (id, name, arguments) in _toolCalls)
            {
                w.WriteStartObject();
                w.WriteString("id"u8, id);
                w.WriteString("type"u8, "function"u8);
                w.WriteStartObject("function"u8);
                w.WriteString("name"u8, name);
                w.WriteString("arguments"u8, arguments.Length > 0 ? arguments.ToString() : "{}");
                w.WriteEndObject();
                w.WriteEndObject();
            }

            w.WriteEndArray();
        }

        w.WriteEndObject();
        w.WriteString("finish_reason"u8, ChatAnswerJson.FinishReason(_stopReason));
        w.WriteEndObject();
        w.WriteEndArray();
        ChatAnswerJson.WriteUsage(w, Usage);
        w.WriteEndObject();
        w.Flush();
        Completed = true;
    }

    public void Ping()
    {
    }

    public void Error(string type, string message)
    {
        if (Ended)
        {
            return;
        }

        using var w = new Utf8JsonWriter(output, ProtocolJson.WriterOptions);
        ChatAnswerJson.WriteError(w, type, message);
        w.Flush();
        Failed = true;
        ErrorType = type;
    }
}
