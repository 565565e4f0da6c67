using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Relay.Tests.Infrastructure;

/// <summary>Anthropic-shaped bodies and streams for the fake upstream to answer with.</summary>
public static class Responses
{
    public static string MessageJson(string text = "Hi there", int input = 12, int output = 5, int cacheWrite = 0, int cacheRead = 0) =>
        $$$$"""{"id":"msg_up_1","type":"message","role":"assistant","model":"upstream-model","content":[{"type":"text","text":"{{{{text}}}}"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":{{{{input}}}},"cache_creation_input_tokens":{{{{cacheWrite}}}},"cache_read_input_tokens":{{{{cacheRead}}}},"output_tokens":{{{{output}}}}}}""";

    public static string ErrorJson(string type, string message) =>
        $$$$"""{"type":"error","error":{"type":"{{{{type}}}}","message":"{{{{message}}}}"}}""";

    /// <summary>A complete Anthropic stream: message_start, one text block in <paramref name="pieces"/>, delta, stop.</summary>
    public static IReadOnlyList<string> StreamEvents(IReadOnlyList<string> pieces, int input = 20, int output = 9, int cacheWrite = 0, int cacheRead = 0)
    {
        var events = new List<string>
        {
            SseEvent("message_start", $$$$"""{"type":"message_start","message":{"id":"msg_up_2","type":"message","role":"assistant","model":"upstream-model","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":{{{{input}}}},"cache_creation_input_tokens":{{{{cacheWrite}}}},"cache_read_input_tokens":{{{{cacheRead}}}},"output_tokens":1}}}"""),
            SseEvent("content_block_start", """{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"""),
            SseEvent("ping", """{"type": "ping"}"""),
        };
        events.AddRange(pieces.Select(p => SseEvent("content_block_delta", $$$$"""{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"{{{{p}}}}"}}""")));
        events.Add(SseEvent("content_block_stop", """{"type":"content_block_stop","index":0}"""));
        events.Add(SseEvent("message_delta", $$$$"""{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":{{{{output}}}}}}"""));
        events.Add(SseEvent("message_stop", """{"type":"message_stop"}"""));
        return events;
    }

    public static string SseEvent(string name, string data) => $"event: {name}\ndata: {data}\n\n";

    public static async Task Json(HttpContext context, int status, string json, IDictionary<string, string>? headers = null)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        foreach (var (name, value) in headers ?? new Dictionary<string, string>())
        {
            context.Response.Headers[name] = value;
        }

        await context.Response.WriteAsync(json, context.RequestAborted);
    }

    /// <summary>Streams the events, flushing each, with <paramref name="delay"/> between them.</summary>
    public static async Task Stream(HttpContext context, IEnumerable<string> events, TimeSpan delay = default, IDictionary<string, string>? headers = null)
    {
        context.Response.StatusCode = 200;
        context.Response.ContentType = "text/event-stream";
        context.Response.Headers.CacheControl = "no-cache";
        foreach (var (name, value) in headers ?? new Dictionary<string, string>())
        {
            context.Response.Headers[name] = value;
        }

        context.Features.Get<IHttpResponseBodyFeature>()!.DisableBuffering();
        await context.Response.StartAsync(context.RequestAborted);
        var first = true;
        foreach (var e in events)
        {
            if (!first && delay > TimeSpan.Zero)
            {
                await Task.Delay(delay, context.RequestAborted);
            }

            first = false;
            await context.Response.Body.WriteAsync(Encoding.UTF8.GetBytes(e), context.RequestAborted);
            await context.Response.Body.FlushAsync(context.RequestAborted);
        }
    }
}
