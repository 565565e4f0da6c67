using System.Buffers;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;
using Relay.Errors;
using Relay.Protocol.Anthropic;
using Relay.Protocol.Events;
using Relay.Protocol.Json;
using Relay.Protocol.Translation;
using Relay.Upstreams;

namespace Relay.Doors;

/// <summary>
/// The OpenAI Chat Completions door (<c>/v1/chat/completions</c>): the OpenAI SDKs, curl, and every tool built on them.
/// Errors are OpenAI-shaped (<c>{"error":{"message","type","param","code"}}</c>); streams are
/// <c>chat.completion.chunk</c>s ending with <c>[DONE]</c>.
/// </summary>
/// <param name="request">What the client's request asked of the answer; null until the body is read.</param>
internal sealed class ChatDoor(ChatDoorRequest? request) : IFrontDoor
{
    public static readonly ChatDoor Instance = new(null);

    public WireProtocol Protocol => WireProtocol.ChatCompletions;

    public string UsageEndpoint(MessagesEndpointKind endpoint) => "chat.completions";

    public IFrontDoor? ReadRequest(ReadOnlyMemory<byte> body, MessagesEndpointKind endpoint, out ReadOnlyMemory<byte> messagesBody, out RelayError? error)
    {
        var output = new ArrayBufferWriter<byte>(body.Length + 512);
        try
        {
            var read = ChatToMessagesTranslator.Write(body, output);
            messagesBody = output.WrittenMemory;
            error = null;
            return new ChatDoor(read);
        }
        catch (TranslationException ex)
        {
            messagesBody = default;
            error = RelayError.InvalidRequest(ex.Message) with { Param = ex.Param };
            return null;
        }
    }

    public async Task WriteErrorAsync(HttpContext context, RelayError error, TimeSpan? retryAfter = null)
    {
        var response = context.Response;
        response.StatusCode = error.Status;
        response.ContentType = "application/json";
        if (!error.Retryable)
        {
            response.Headers["x-should-retry"] = "false";
        }

        if ((retryAfter ?? error.RetryAfter) is { } wait)
        {
            response.Headers.RetryAfter = RetryAdvice.Seconds(wait);
        }

        var buffer = new ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer, ProtocolJson.WriterOptions))
        {
            ChatAnswerJson.WriteError(w, error.Type, error.Message, error.Param);
        }

        response.ContentLength = buffer.WrittenCount;
        await response.Body.WriteAsync(buffer.WrittenMemory, context.RequestAborted);
    }

    /// <summary>An Anthropic provider's error, said in OpenAI's shape with the provider's status and wording.</summary>
    public Task WriteHeldAsync(HttpContext context, HeldResponse held, string provider)
    {
        var error = AnthropicObjectSummary.TryRead(held.Body, out var summary) && summary.Kind == AnthropicObjectKind.Error
            ? new RelayError(held.Status, summary.ErrorType ?? ErrorTypes.ForStatus(held.Status), summary.ErrorMessage ?? $"Provider '{provider}' answered {held.Status}.", held.Retryable)
            : new RelayError(held.Status, ErrorTypes.ForStatus(held.Status), $"Provider '{provider}' answered {held.Status}.", held.Retryable);
        return WriteErrorAsync(context, RetryAdvice.ForClient(error with { RetryAfter = held.RetryAfter }, provider));
    }

    public void BeginEventStream(HttpResponse response)
    {
        response.StatusCode = 200;
        response.ContentType = "text/event-stream; charset=utf-8";
        response.Headers.CacheControl = "no-cache";
        response.HttpContext.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
    }

    public IMessageEvents CreateEventWriter(IBufferWriter<byte> output) =>
        new ChatChunkEvents(output, request?.IncludeUsage ?? false, TimeProvider.System, request?.ToolNames);

    public IMessageEvents CreateMessageWriter(IBufferWriter<byte> output) =>
        new ChatCompletionEvents(output, TimeProvider.System, request?.ToolNames);

    public string MessageContentType => "application/json";

    public byte[] StreamError(string type, string message)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer, ProtocolJson.WriterOptions))
        {
            ChatAnswerJson.WriteError(w, type, message);
        }

        return [.. "data: "u8, .. buffer.WrittenSpan, .. "\n\n"u8];
    }
}
