using System.Buffers;
using System.Text.Json;
using Relay.Protocol.Anthropic;
using Relay.Protocol.Json;
using Relay.Protocol.Translation;

namespace Relay.Protocol.Events;

/// <summary>Writes message events as an OpenAI <c>chat.completion.chunk</c> stream, straight into a buffer.</summary>
/// <remarks>
/// <para>Every chunk is <c>data: {json}</c> and a blank line. The first carries <c>role: assistant</c>; text goes as
/// <c>content</c>, thinking as <c>reasoning_content</c> (what DeepSeek- and OpenRouter-aware clients read; thinking
/// signatures have no place and are dropped); a tool call's first chunk carries its <c>index</c> (counting calls from
/// 0), id, type and name, the next ones pieces of <c>arguments</c>. The stop reason becomes one chunk with an empty
/// delta and <c>finish_reason</c>; with <c>include_usage</c> a chunk with <c>choices: []</c> and the usage follows;
/// then <c>data: [DONE]</c>.</para>
/// <para>An error after the stream began is <c>data: {"error":{…}}</c>, which the OpenAI SDKs raise as an API error,
/// and the stream ends without <c>[DONE]</c>, so a client that only waits for <c>[DONE]</c> still sees it cut short.
/// A ping is the SSE comment <c>: ping</c>, which every SSE parser skips. Nothing is written after the end.</para>
/// </remarks>
/// <param name="includeUsage">The request's <c>stream_options.include_usage</c>.</param>
/// <param name="clock">Gives <c>created</c>, taken once at the start.</param>
/// <param name="toolNames">Name sent → the client's name (<see cref="ChatDoorRequest.ToolNames"/>).</param>
public sealed class ChatChunkEvents(IBufferWriter<byte> output, bool includeUsage, TimeProvider clock, IReadOnlyDictionary<string, string>? toolNames = null)
    : IMessageEvents, IDisposable
{
    private readonly Utf8JsonWriter _json = new(output, ProtocolJson.WriterOptions);
    private string _id = "";
    private string _model = "";
    private long _created;
    private int _toolCalls;
    private bool _toolOpen;
    private bool _toolArgumentsSent;
    private bool _finished;

    /// <summary>True once <c>[DONE]</c> or an error was written.</summary>
    public bool Ended { get; private set; }

    /// <summary>The usage of the last <see cref="MessageDelta"/>.</summary>
    public TokenUsage Usage { get; private set; }

    public void MessageStart(string id, string model, in TokenUsage usage)
    {
        if (Ended)
        {
            return;
        }

        _id = ChatAnswerJson.CompletionId(id);
        _model = model;
        _created = clock.GetUtcNow().ToUnixTimeSeconds();
        var w = BeginDelta();
        w.WriteString("role"u8, "assistant"u8);
        w.WriteString("content"u8, ""u8);
        EndDelta(null);
    }

    public void TextStart(int index)
    {
    }

    public void ThinkingStart(int index)
    {
    }

    public void ToolUseStart(int index, string id, string name)
    {
        if (Ended)
        {
            return;
        }

        var w = BeginToolCall(_toolCalls);
        w.WriteString("id"u8, ToolIds.ToChatClient(id));
        w.WriteString("type"u8, "function"u8);
        w.WriteStartObject("function"u8);
        w.WriteString("name"u8, ChatAnswerJson.ClientToolName(toolNames, name));
        w.WriteString("arguments"u8, ""u8);
        EndToolCall();
        _toolOpen = true;
        _toolArgumentsSent = false;
    }

    public void TextDelta(int index, ReadOnlySpan<char> text) => StringDelta("content"u8, text);

    public void ThinkingDelta(int index, ReadOnlySpan<char> thinking) => StringDelta("reasoning_content"u8, thinking);

    public void SignatureDelta(int index, ReadOnlySpan<char> signature)
    {
    }

    public void ToolInputDelta(int index, ReadOnlySpan<char> partialJson)
    {
        if (Ended || !_toolOpen || partialJson.IsEmpty)
        {
            return;
        }

        WriteArguments(partialJson);
    }

    public void BlockStop(int index)
    {
        if (!_toolOpen)
        {
            return;
        }

        // A call without parameters may come without any input delta; "" is not JSON a client can parse.
        if (!_toolArgumentsSent && !Ended)
        {
            WriteArguments("{}");
        }

        _toolOpen = false;
        _toolCalls++;
    }

    public void MessageDelta(string stopReason, string? stopSequence, in TokenUsage usage)
    {
        if (Ended || _finished)
        {
            return;
        }

        WriteFinish(ChatAnswerJson.FinishReason(stopReason), usage);
    }

    public void MessageStop()
    {
        if (Ended)
        {
            return;
        }

        if (!_finished)
        {
            WriteFinish("stop", default);
        }

        if (includeUsage)
        {
            var w = BeginChunk();
            w.WriteStartArray("choices"u8);
            w.WriteEndArray();
            ChatAnswerJson.WriteUsage(w, Usage);
            EndChunk();
        }

        Raw("data: [DONE]\n\n"u8);
        Ended = true;
    }

    public void Ping()
    {
        if (!Ended)
        {
            Raw(": ping\n\n"u8);
        }
    }

    public void Error(string type, string message)
    {
        if (Ended)
        {
            return;
        }

        Raw("data: "u8);
        _json.Reset(output);
        ChatAnswerJson.WriteError(_json, type, message);
        _json.Flush();
        Raw("\n\n"u8);
        Ended = true;
    }

    public void Dispose() => _json.Dispose();

    private void WriteFinish(string finishReason, in TokenUsage usage)
    {
        Usage = usage;
        BeginDelta();
        EndDelta(finishReason);
        _finished = true;
    }

    private void StringDelta(ReadOnlySpan<byte> field, ReadOnlySpan<char> value)
    {
        if (Ended || value.IsEmpty)
        {
            return;
        }

        var w = BeginDelta();
        w.WriteString(field, value);
        EndDelta(null);
    }

    private void WriteArguments(ReadOnlySpan<char> arguments)
    {
        var w = BeginToolCall(_toolCalls);
        w.WriteStartObject("function"u8);
        w.WriteString("arguments"u8, arguments);
        EndToolCall();
        _toolArgumentsSent = true;
    }

    private Utf8JsonWriter BeginChunk()
    {
        Raw("data: "u8);
        _json.Reset(output);
        _json.WriteStartObject();
        _json.WriteString("id"u8, _id);
        _json.WriteString("object"u8, "chat.completion.chunk"u8);
        _json.WriteNumber("created"u8, _created);
        _json.WriteString("model"u8, _model);
        return _json;
    }

    private void EndChunk()
    {
        _json.WriteEndObject();
        _json.Flush();
        Raw("\n\n"u8);
    }

    /// <summary>Starts a chunk whose one choice's delta the caller fills; finish with <see cref="EndDelta"/>.</summary>
    private Utf8JsonWriter BeginDelta()
    {
        var w = BeginChunk();
        w.WriteStartArray("choices"u8);
        w.WriteStartObject();
        w.WriteNumber("index"u8, 0);
        w.WriteStartObject("delta"u8);
        return w;
    }

    private void EndDelta(string? finishReason)
    {
        _json.WriteEndObject();
        if (finishReason is null)
        {
            _json.WriteNull("finish_reason"u8);
        }
        else
        {
            _json.WriteString("finish_reason"u8, finishReason);
        }

        _json.WriteEndObject();
        _json.WriteEndArray();
        EndChunk();
    }

    /// <summary>Starts a delta with one tool call entry; the caller writes after <c>index</c> and ends with
    /// <see cref="EndToolCall"/> while inside the call's <c>function</c> object.</summary>
    private Utf8JsonWriter BeginToolCall(int callIndex)
    {
        var w = BeginDelta();
        w.WriteStartArray("tool_calls"u8);
        w.WriteStartObject();
        w.WriteNumber("index"u8, callIndex);
        return w;
    }

    private void EndToolCall()
    {
        _json.WriteEndObject(); // function
        _json.WriteEndObject(); // the call
        _json.WriteEndArray();
        EndDelta(null);
    }

    private void Raw(ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(output.GetSpan(bytes.Length));
        output.Advance(bytes.Length);
    }
}
