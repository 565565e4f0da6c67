using System.Security.Cryptography;
using Relay.Errors;

namespace Relay.Hosting;

/// <summary>Gives every request a <c>request-id</c> (on every response, errors included) and turns anything
/// unhandled into an Anthropic-shaped 500 with no stack trace.</summary>
internal sealed class RequestIdMiddleware(RequestDelegate next, ILogger<RequestIdMiddleware> logger)
{
    private const string Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

    public async Task InvokeAsync(HttpContext context)
    {
        var id = NewRequestId();
        context.TraceIdentifier = id;
        context.Response.Headers["request-id"] = id;
        try
        {
            await next(context);
        }
        catch (Exception ex) when (!context.RequestAborted.IsCancellationRequested)
        {
            Log.UnhandledError(logger, id, ex);
            if (!context.Response.HasStarted)
            {
                context.Response.Clear();
                context.Response.Headers["request-id"] = id;
                await ErrorResponses.WriteAsync(context, RelayError.Internal(id));
            }
        }
    }

    /// <summary><c>req_</c> and 24 random base62 characters, like Anthropic's ids.</summary>
    public static string NewRequestId()
    {
        Span<char> chars = stackalloc char[28];
        "req_".CopyTo(chars);
        RandomNumberGenerator.GetItems(Alphabet, chars[4..]);

        return new string(chars);
    }
}
