using System.Buffers;
using System.Text.Json;
using Relay.Protocol.Anthropic;
using Relay.Protocol.Translation;

namespace Relay.Protocol.Events;

/// <summary>Writes message events as an OpenAI Responses API stream (<c>event: NAME</c>, <c>data: {json}</c>, each
/// event with its <c>sequence_number</c>), straight into a buffer.</summary>
/// <remarks>
/// <para>The stream: <c>response.created</c>, <c>response.in_progress</c>; per block one output item (text → a
/// <c>message</c> with one <c>output_text</c> part, thinking → a <c>reasoning</c> item with one summary part, a tool
/// call → a <c>function_call</c>, or a <c>custom_tool_call</c> for a tool the request declared free-form) with its
/// added/delta/done events; then <c>response.completed</c>, or <c>response.incomplete</c> (reason
/// <c>max_output_tokens</c>) when the answer hit its limit, or <c>response.failed</c> on an error. The final event
/// carries the whole response with its output and usage.</para>
/// <para>A custom tool's input is sent once its block is complete: the model writes it as JSON (<c>{"input": …}</c>)
/// and only the complete text can be unwrapped. Keep-alives are SSE comments, which every client skips.</para>
/// </remarks>
public sealed class ResponsesEvents : IMessageEvents, IDisposable
{
    private readonly IBufferWriter<byte> _output;
    private readonly AnthropicSseWriter _sse;
    private readonly ResponsesAnswer _answer;
    private long _sequence;

    /// <param name="output">Where the SSE bytes go.</param>
    /// <param name="customTools">Names of the request's free-form tools (<see cref="ResponsesRequestResult.CustomTools"/>).</param>
    /// <param name="createdAt">The response's <c>created_at</c> (Unix seconds); now when null.</param>
    public ResponsesEvents(IBufferWriter<byte> output, IReadOnlySet<string>? customTools = null, long? createdAt = null)
    {
        _output = output;
        _sse = new AnthropicSseWriter(output);
        _answer = new ResponsesAnswer(customTools, createdAt);
    }

    /// <summary>The response id the client sees (<c>resp_…</c>), once the answer started.</summary>
    public string ResponseId => _answer.ResponseId;

    public bool Terminated => _answer.Terminated;

    public void MessageStart(string id, string model, in TokenUsage usage)
    {
        if (_answer.Started)
        {
            return;
        }

        _answer.Start(id, model, usage);
        WriteResponseEvent("response.created"u8, "in_progress");
        WriteResponseEvent("response.in_progress"u8, "in_progress");
    }

    public void TextStart(int index)
    {
        if (!Writable)
        {
            return;
        }

        var item = OpenItem(index, ResponsesAnswer.ItemKind.Message);
        var w = BeginItemEvent("response.content_part.added"u8, item);
        w.WriteNumber("content_index"u8, 0);
        w.WritePropertyName("part"u8);
        ResponsesAnswer.WriteTextPart(w, "");
        _sse.End();
    }

    public void ThinkingStart(int index)
    {
        if (Writable)
        {
            OpenItem(index, ResponsesAnswer.ItemKind.Reasoning);
        }
    }

    public void ToolUseStart(int index, string id, string name)
    {
        if (Writable)
        {
            OpenItem(index, ResponsesAnswer.ItemKind.FunctionCall, id, name);
        }
    }

    public void TextDelta(int index, ReadOnlySpan<char> text)
    {
        if (!Writable || _answer.Find(index) is not { Kind: ResponsesAnswer.ItemKind.Message } item)
        {
            return;
        }

        item.Text.Append(text);
        var w = BeginItemEvent("response.output_text.delta"u8, item);
        w.WriteNumber("content_index"u8, 0);
        w.WriteString("delta"u8, text);
        w.WriteStartArray("logprobs"u8);
        w.WriteEndArray();
        _sse.End();
    }

    public void ThinkingDelta(int index, ReadOnlySpan<char> thinking)
    {
        if (!Writable || _answer.Find(index) is not { Kind: ResponsesAnswer.ItemKind.Reasoning } item || thinking.IsEmpty)
        {
            return;
        }

        if (!item.PartStarted)
        {
            item.PartStarted = true;
            WriteSummaryPartEvent("response.reasoning_summary_part.added"u8, item, "");
        }

        item.Text.Append(thinking);
        var w = BeginItemEvent("response.reasoning_summary_text.delta"u8, item);
        w.WriteNumber("summary_index"u8, 0);
        w.WriteString("delta"u8, thinking);
        _sse.End();
    }

    public void SignatureDelta(int index, ReadOnlySpan<char> signature) => _answer.Find(index)?.Signature.Append(signature);

    public void ToolInputDelta(int index, ReadOnlySpan<char> partialJson)
    {
        if (!Writable || _answer.Find(index) is not { } item || item.Kind is not (ResponsesAnswer.ItemKind.FunctionCall or ResponsesAnswer.ItemKind.CustomToolCall))
        {
            return;
        }

        item.Text.Append(partialJson);
        if (item.Kind == ResponsesAnswer.ItemKind.FunctionCall && !partialJson.IsEmpty)
        {
            var w = BeginItemEvent("response.function_call_arguments.delta"u8, item);
            w.WriteString("delta"u8, partialJson);
            _sse.End();
        }
    }

    public void BlockStop(int index)
    {
        if (Writable && _answer.Find(index) is { } item)
        {
            Close(item);
        }
    }

    public void MessageDelta(string stopReason, string? stopSequence, in TokenUsage usage) => _answer.Finish(stopReason, usage);

    public void MessageStop()
    {
        if (!_answer.Started || _answer.Terminated)
        {
            return;
        }

        foreach (var item in _answer.OpenItems().ToList())
        {
            Close(item);
        }

        var status = _answer.FinalStatus;
        _answer.Completed = true;
        WriteResponseEvent(status == "incomplete" ? "response.incomplete"u8 : "response.completed"u8, status);
    }

    public void Ping()
    {
        if (_answer.Started && !_answer.Terminated)
        {
            Raw(": keep-alive\n\n"u8);
        }
    }

    public void Error(string type, string message)
    {
        if (_answer.Terminated)
        {
            return;
        }

        if (!_answer.Started)
        {
            MessageStart(TranslationContext.NewMessageId(), "", default);
        }

        _answer.Failed = true;
        _answer.ErrorType = type;
        _answer.ErrorMessage = message;
        WriteResponseEvent("response.failed"u8, "failed");
    }

    /// <summary>A <c>response.failed</c> event that ends a stream whose writer is out of reach (the connection broke,
    /// Relay is stopping): clients read its <c>response.error</c> and end the turn.</summary>
    /// <param name="sequenceNumber">The event's <c>sequence_number</c>; the writer's count is not known here.</param>
    public static byte[] FailedEvent(string type, string message, long sequenceNumber = 0)
    {
        var answer = new ResponsesAnswer(null, null);
        answer.Start(TranslationContext.NewMessageId(), "", default);
        answer.Failed = true;
        answer.ErrorType = type;
        answer.ErrorMessage = message;
        var output = new ArrayBufferWriter<byte>(256);
        using (var sse = new AnthropicSseWriter(output))
        {
            var w = sse.Begin("response.failed"u8);
            w.WriteNumber("sequence_number"u8, sequenceNumber);
            w.WritePropertyName("response"u8);
            answer.WriteResponse(w, "failed");
            sse.End();
        }

        return output.WrittenSpan.ToArray();
    }

    public void Dispose() => _sse.Dispose();

    /// <summary>Items are written between the start and the end; nothing follows the final event.</summary>
    private bool Writable => _answer.Started && !_answer.Terminated;

    private ResponsesAnswer.OutputItem OpenItem(int index, ResponsesAnswer.ItemKind kind, string? callId = null, string? name = null)
    {
        var item = _answer.Open(index, kind, callId, name);
        var w = Begin("response.output_item.added"u8);
        w.WriteNumber("output_index"u8, item.OutputIndex);
        w.WritePropertyName("item"u8);
        ResponsesAnswer.WriteItem(w, item);
        _sse.End();
        return item;
    }

    private void Close(ResponsesAnswer.OutputItem item)
    {
        Utf8JsonWriter w;
        switch (item.Kind)
        {
            case ResponsesAnswer.ItemKind.Message:
                var text = item.Text.ToString();
                w = BeginItemEvent("response.output_text.done"u8, item);
                w.WriteNumber("content_index"u8, 0);
                w.WriteString("text"u8, text);
                w.WriteStartArray("logprobs"u8);
                w.WriteEndArray();
                _sse.End();
                w = BeginItemEvent("response.content_part.done"u8, item);
                w.WriteNumber("content_index"u8, 0);
                w.WritePropertyName("part"u8);
                ResponsesAnswer.WriteTextPart(w, text);
                _sse.End();
                break;
            case ResponsesAnswer.ItemKind.Reasoning when item.PartStarted:
                var summary = item.Text.ToString();
                w = BeginItemEvent("response.reasoning_summary_text.done"u8, item);
                w.WriteNumber("summary_index"u8, 0);
                w.WriteString("text"u8, summary);
                _sse.End();
                WriteSummaryPartEvent("response.reasoning_summary_part.done"u8, item, summary);
                break;
            case ResponsesAnswer.ItemKind.FunctionCall:
                w = BeginItemEvent("response.function_call_arguments.done"u8, item);
                w.WriteString("name"u8, item.Name);
                w.WriteString("arguments"u8, item.Arguments);
                _sse.End();
                break;
            case ResponsesAnswer.ItemKind.CustomToolCall:
                var input = item.CustomInput;
                w = BeginItemEvent("response.custom_tool_call_input.delta"u8, item);
                w.WriteString("delta"u8, input);
                _sse.End();
                w = BeginItemEvent("response.custom_tool_call_input.done"u8, item);
                w.WriteString("input"u8, input);
                _sse.End();
                break;
            default:
                break;
        }

        item.Done = true;
        w = Begin("response.output_item.done"u8);
        w.WriteNumber("output_index"u8, item.OutputIndex);
        w.WritePropertyName("item"u8);
        ResponsesAnswer.WriteItem(w, item);
        _sse.End();
    }

    private void WriteSummaryPartEvent(ReadOnlySpan<byte> name, ResponsesAnswer.OutputItem item, string text)
    {
        var w = BeginItemEvent(name, item);
        w.WriteNumber("summary_index"u8, 0);
        w.WritePropertyName("part"u8);
        ResponsesAnswer.WriteSummaryPart(w, text);
        _sse.End();
    }

    private void WriteResponseEvent(ReadOnlySpan<byte> name, string status)
    {
        var w = Begin(name);
        w.WritePropertyName("response"u8);
        _answer.WriteResponse(w, status);
        _sse.End();
    }

    private Utf8JsonWriter BeginItemEvent(ReadOnlySpan<byte> name, ResponsesAnswer.OutputItem item)
    {
        var w = Begin(name);
        w.WriteString("item_id"u8, item.Id);
        w.WriteNumber("output_index"u8, item.OutputIndex);
        return w;
    }

    private Utf8JsonWriter Begin(ReadOnlySpan<byte> name)
    {
        var w = _sse.Begin(name);
        w.WriteNumber("sequence_number"u8, _sequence++);
        return w;
    }

    private void Raw(ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(_output.GetSpan(bytes.Length));
        _output.Advance(bytes.Length);
    }
}
