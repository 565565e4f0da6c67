using System.Buffers;
using Relay.Protocol.Anthropic;
using Relay.Protocol.Json;
using Relay.Protocol.Translation;

namespace Relay.Protocol.Events;

/// <summary>Collects message events into a Responses API <c>response</c> object, for a request without
/// <c>stream</c>; <see cref="WriteTo"/> writes it once the answer ended.</summary>
/// <remarks>The object is the one <see cref="ResponsesEvents"/> sends in its final event. After an
/// <see cref="Error"/> the door normally answers with an HTTP error instead (see <see cref="Failed"/>); the object then
/// has status <c>failed</c>.</remarks>
public sealed class ResponsesObjectEvents(IReadOnlySet<string>? customTools = null, long? createdAt = null) : IMessageEvents
{
    private readonly ResponsesAnswer _answer = new(customTools, createdAt);

    public string ResponseId => _answer.ResponseId;

    public bool Completed => _answer.Completed;

    public bool Failed => _answer.Failed;

    /// <summary>The Anthropic error type of the failure, if the answer failed.</summary>
    public string? ErrorType => _answer.ErrorType;

    public string? ErrorMessage => _answer.ErrorMessage;

    public TokenUsage Usage => _answer.Usage;

    public void MessageStart(string id, string model, in TokenUsage usage)
    {
        if (!_answer.Started)
        {
            _answer.Start(id, model, usage);
        }
    }

    public void TextStart(int index) => _answer.Open(index, ResponsesAnswer.ItemKind.Message);

    public void ThinkingStart(int index) => _answer.Open(index, ResponsesAnswer.ItemKind.Reasoning);

    public void ToolUseStart(int index, string id, string name) => _answer.Open(index, ResponsesAnswer.ItemKind.FunctionCall, id, name);

    public void TextDelta(int index, ReadOnlySpan<char> text) => _answer.Find(index)?.Text.Append(text);

    public void ThinkingDelta(int index, ReadOnlySpan<char> thinking) => _answer.Find(index)?.Text.Append(thinking);

    public void SignatureDelta(int index, ReadOnlySpan<char> signature) => _answer.Find(index)?.Signature.Append(signature);

    public void ToolInputDelta(int index, ReadOnlySpan<char> partialJson) => _answer.Find(index)?.Text.Append(partialJson);

    public void BlockStop(int index)
    {
        if (_answer.Find(index) is { } item)
        {
            item.Done = true;
        }
    }

    public void MessageDelta(string stopReason, string? stopSequence, in TokenUsage usage) => _answer.Finish(stopReason, usage);

    public void MessageStop()
    {
        if (_answer.Terminated)
        {
            return;
        }

        foreach (var item in _answer.OpenItems())
        {
            item.Done = true;
        }

        _answer.Completed = true;
    }

    public void Ping()
    {
    }

    public void Error(string type, string message)
    {
        if (_answer.Terminated)
        {
            return;
        }

        if (!_answer.Started)
        {
            _answer.Start(TranslationContext.NewMessageId(), "", default);
        }

        _answer.Failed = true;
        _answer.ErrorType = type;
        _answer.ErrorMessage = message;
    }

    /// <summary>Writes the response object: <c>completed</c>, <c>incomplete</c>, <c>failed</c>, or <c>in_progress</c>
    /// if the answer has not ended.</summary>
    public void WriteTo(IBufferWriter<byte> output)
    {
        using var writer = new System.Text.Json.Utf8JsonWriter(output, ProtocolJson.WriterOptions);
        _answer.WriteResponse(writer, _answer.Terminated ? _answer.FinalStatus : "in_progress");
        writer.Flush();
    }
}
