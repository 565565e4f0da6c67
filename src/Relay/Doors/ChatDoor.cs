using System.Buffers;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;
using Relay.Errors;
using Relay.Protocol.Anthropic;
using Relay.Protocol.Events;
using Relay.Protocol.Json;
using Relay.Protocol.OpenAI;
using Relay.Protocol.Translation;
using Relay.Upstreams;

namespace Relay.Doors;

/// <summary>
/// The OpenAI Chat Completions door (<c>/v1/chat/completions</c>): the OpenAI SDKs, curl, and every tool built on them.
/// Errors are OpenAI-shaped (<c>{"error":{"message","type","param","code"}}</c>); streams are
/// <c>chat.completion.chunk</c>s ending with <c>[DONE]</c>.
/// </summary>
/// <param name="request">What the client's request asked of the answer; null until the body is read.</param>
internal sealed class ChatDoor(ChatDoorRequest? request, ReadOnlyMemory<byte> clientBody = default) : IFrontDoor, IPassThroughClient
{
    public static readonly ChatDoor Instance = new(null);

    /// <summary>What the client's request asked of the answer; null until the body is read.</summary>
    public ChatDoorRequest? Request => request;

    /// <summary>The client's own Chat Completions body, which a provider of the same protocol gets as it is.</summary>
    public ReadOnlyMemory<byte> ClientBody => clientBody;

    public bool Stream => request?.Stream ?? false;

    public bool WantsStreamUsage => request?.IncludeUsage ?? false;

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
            return new ChatDoor(read, body);
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

    /// <summary>A provider's error: an OpenAI-shaped one (a provider of this protocol) goes out as received, headers
    /// included; an Anthropic one is said in OpenAI's shape with the provider's status and wording.</summary>
    public async Task WriteHeldAsync(HttpContext context, HeldResponse held, string provider)
    {
        var anthropicShaped = AnthropicObjectSummary.TryRead(held.Body, out var summary) && summary.Kind == AnthropicObjectKind.Error;
        if (!anthropicShaped && ChatErrorReader.TryRead(held.Body, out _) && !RetryAdvice.IsTooLong(held.RetryAfter))
        {
            var response = context.Response;
            response.StatusCode = held.Status;
            foreach (var (name, values) in held.Headers)
            {
                if (!name.Equals("content-length", StringComparison.OrdinalIgnoreCase) && !name.Equals("retry-after", StringComparison.OrdinalIgnoreCase))
                {
                    response.Headers[name] = values;
                }
            }

            if (held.RetryAfter is { } wait)
            {
                response.Headers.RetryAfter = RetryAdvice.Seconds(wait);
            }

            response.ContentLength = held.Body.Length;
            await response.Body.WriteAsync(held.Body, context.RequestAborted);
            return;
        }

        var error = anthropicShaped
            ? new RelayError(held.Status, summary.ErrorType ?? ErrorTypes.ForStatus(held.Status), summary.ErrorMessage ?? $"Provider '{provider}' answered {held.Status}.", held.Retryable)
            : ChatErrorReader.TryRead(held.Body, out var chatError)
                ? new RelayError(held.Status, ErrorTypes.ForStatus(held.Status), chatError.Message, held.Retryable)
                : new RelayError(held.Status, ErrorTypes.ForStatus(held.Status), $"Provider '{provider}' answered {held.Status}.", held.Retryable);
        await WriteErrorAsync(context, RetryAdvice.ForClient(error with { RetryAfter = held.RetryAfter }, provider));
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
