using System.Buffers;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;
using Relay.Errors;
using Relay.Protocol.Anthropic;
using Relay.Protocol.Events;
using Relay.Protocol.Json;
using Relay.Upstreams;

namespace Relay.Doors;

/// <summary>The Anthropic Messages door (<c>/v1/messages</c>): Claude Code, Claude Desktop, Anthropic's SDKs.</summary>
internal sealed class AnthropicDoor : IFrontDoor
{
    public static readonly AnthropicDoor Instance = new();

    public WireProtocol Protocol => WireProtocol.Anthropic;

    public string UsageEndpoint(MessagesEndpointKind endpoint) => endpoint == MessagesEndpointKind.CountTokens ? "count_tokens" : "messages";

    /// <summary>The client already speaks the canonical form.</summary>
    public IFrontDoor? ReadRequest(ReadOnlyMemory<byte> body, MessagesEndpointKind endpoint, out ReadOnlyMemory<byte> messagesBody, out RelayError? error)
    {
        messagesBody = body;
        error = null;
        return this;
    }

    public Task WriteErrorAsync(HttpContext context, RelayError error, TimeSpan? retryAfter = null) =>
        ErrorResponses.WriteAsync(context, error, retryAfter);

    public async Task WriteHeldAsync(HttpContext context, HeldResponse held, string provider)
    {
        // An upstream error that is not Anthropic-shaped (an HTML page from a proxy, an empty body) is wrapped, so
        // clients always get an error they can parse; an Anthropic one is forwarded byte for byte, headers included
        // (x-should-retry, anthropic-ratelimit-*), with retry-after in whole seconds. A wait longer than clients retry
        // by themselves is the exception: its message is reworded to say how long, and x-should-retry is false.
        if (!AnthropicObjectSummary.TryRead(held.Body, out var summary) || summary.Kind != AnthropicObjectKind.Error)
        {
            var snippet = System.Text.Encoding.UTF8.GetString(held.Body.AsSpan(0, Math.Min(held.Body.Length, 200))).ReplaceLineEndings(" ").Trim();
            var error = new RelayError(held.Status, ErrorTypes.ForStatus(held.Status),
                $"Provider '{provider}' answered {held.Status}" + (snippet.Length > 0 ? $": {snippet}" : " with an empty body."), true)
            {
                RetryAfter = held.RetryAfter,
            };
            await WriteErrorAsync(context, RetryAdvice.ForClient(error, provider));
            return;
        }

        var longWait = RetryAdvice.IsTooLong(held.RetryAfter);
        var response = context.Response;
        response.StatusCode = held.Status;
        foreach (var (name, values) in held.Headers)
        {
            if (!name.Equals("content-length", StringComparison.OrdinalIgnoreCase) && !name.Equals("retry-after", StringComparison.OrdinalIgnoreCase)
                && !(longWait && name.Equals("x-should-retry", StringComparison.OrdinalIgnoreCase)))
            {
                response.Headers[name] = values;
            }
        }

        if (held.RetryAfter is { } wait)
        {
            response.Headers.RetryAfter = RetryAdvice.Seconds(wait);
        }

        if (longWait)
        {
            response.Headers["x-should-retry"] = "false";
            response.ContentType = "application/json";
            var envelope = new ErrorEnvelope(summary.ErrorType ?? ErrorTypes.ForStatus(held.Status),
                RetryAdvice.LongWaitMessage(provider, held.RetryAfter!.Value, summary.ErrorMessage));
            await JsonSerializer.SerializeAsync(response.Body, envelope, ProtocolJson.Context.ErrorEnvelope, context.RequestAborted);
            return;
        }

        response.ContentLength = held.Body.Length;
        await response.Body.WriteAsync(held.Body, context.RequestAborted);
    }

    public void BeginEventStream(HttpResponse response)
    {
        response.StatusCode = 200;
        response.ContentType = "text/event-stream; charset=utf-8";
        response.Headers.CacheControl = "no-cache";
        response.HttpContext.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
    }

    public IMessageEvents CreateEventWriter(IBufferWriter<byte> output) => new AnthropicSseEvents(output);

    public IMessageEvents CreateMessageWriter(IBufferWriter<byte> output) => new AnthropicMessageEvents(output);

    public string MessageContentType => "application/json";

    public byte[] StreamError(string type, string message) => ErrorResponses.SseErrorEvent(type, message);
}
