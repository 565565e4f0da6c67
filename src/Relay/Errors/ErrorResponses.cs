using System.Text.Json;
using Relay.Protocol.Anthropic;
using Relay.Protocol.Json;

namespace Relay.Errors;

/// <summary>Writes Anthropic-shaped errors, as a response or as an SSE <c>error</c> event inside a stream.</summary>
internal static class ErrorResponses
{
    public static async Task WriteAsync(HttpContext context, RelayError error, TimeSpan? retryAfter = null)
    {
        var response = context.Response;
        if (response.HasStarted)
        {
            throw new InvalidOperationException("An error response cannot be written after the response has started.");
        }

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

        await JsonSerializer.SerializeAsync(response.Body, new ErrorEnvelope(error.Type, error.Message),
            ProtocolJson.Context.ErrorEnvelope, context.RequestAborted);
    }

    /// <summary>The bytes of an SSE <c>error</c> event, for failures after a stream has begun.</summary>
    public static byte[] SseErrorEvent(string type, string message)
    {
        var json = JsonSerializer.SerializeToUtf8Bytes(new ErrorEnvelope(type, message), ProtocolJson.Context.ErrorEnvelope);
        return [.. "event: error\ndata: "u8, .. json, .. "\n\n"u8];
    }
}
