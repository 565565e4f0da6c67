using System.Buffers;
using Microsoft.AspNetCore.Http.Features;
using Relay.Errors;
using Relay.Protocol.Anthropic;
using Relay.Protocol.Events;
using Relay.Protocol.Translation;
using Relay.Upstreams;

namespace Relay.Doors;

/// <summary>
/// The OpenAI Responses API door (<c>/v1/responses</c>): the Codex CLI and other Responses clients. Stateless: the
/// whole conversation comes in <c>input</c> every turn. Errors are OpenAI-shaped, as on the Chat Completions door;
/// streams are Responses events ending with <c>response.completed</c>, <c>.incomplete</c> or <c>.failed</c>.
/// </summary>
/// <param name="request">What the client's request asked of the answer; null until the body is read.</param>
internal sealed class ResponsesDoor(ResponsesRequestResult? request, ReadOnlyMemory<byte> clientBody = default) : IFrontDoor, IPassThroughClient
{
    public static readonly ResponsesDoor Instance = new(null);

    /// <summary>What the client's request asked of the answer; null until the body is read.</summary>
    public ResponsesRequestResult? Request => request;

    /// <summary>The client's own Responses body, which a provider of the same protocol gets as it is.</summary>
    public ReadOnlyMemory<byte> ClientBody => clientBody;

    public bool Stream => request?.Stream ?? false;

    /// <summary>A Responses stream always ends with its usage.</summary>
    public bool WantsStreamUsage => true;

    public WireProtocol Protocol => WireProtocol.Responses;

    public string UsageEndpoint(MessagesEndpointKind endpoint) => "responses";

    public IFrontDoor? ReadRequest(ReadOnlyMemory<byte> body, MessagesEndpointKind endpoint, out ReadOnlyMemory<byte> messagesBody, out RelayError? error)
    {
        var output = new ArrayBufferWriter<byte>(body.Length + 512);
        try
        {
            var read = ResponsesToMessagesRequest.Write(body, output);
            messagesBody = output.WrittenMemory;
            error = null;
            return new ResponsesDoor(read, body);
        }
        catch (TranslationException ex)
        {
            messagesBody = default;
            error = RelayError.InvalidRequest(ex.Message) with { Param = ex.Param };
            return null;
        }
    }

    // The Responses API's errors have the same shape as Chat Completions' (`{"error":{"message","type","param","code"}}`).
    public Task WriteErrorAsync(HttpContext context, RelayError error, TimeSpan? retryAfter = null) =>
        ChatDoor.Instance.WriteErrorAsync(context, error, retryAfter);

    public Task WriteHeldAsync(HttpContext context, HeldResponse held, string provider) =>
        ChatDoor.Instance.WriteHeldAsync(context, held, provider);

    public void BeginEventStream(HttpResponse response)
    {
        response.StatusCode = 200;
        response.ContentType = "text/event-stream; charset=utf-8";
        response.Headers.CacheControl = "no-cache";
        response.HttpContext.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
    }

    public IMessageEvents CreateEventWriter(IBufferWriter<byte> output) => new ResponsesEvents(output, request?.CustomTools);

    public IMessageEvents CreateMessageWriter(IBufferWriter<byte> output) =>
        new ResponsesObjectWriter(output, new ResponsesObjectEvents(request?.CustomTools));

    public string MessageContentType => "application/json";

    /// <summary>A <c>response.failed</c> event: Codex ends the turn with its message (and retries the ones it may).</summary>
    public byte[] StreamError(string type, string message) => ResponsesEvents.FailedEvent(type, message);
}
