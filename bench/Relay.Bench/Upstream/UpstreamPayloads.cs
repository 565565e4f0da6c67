using System.Globalization;
using System.Text;

namespace Relay.Bench.Upstream;

/// <summary>
/// The fake upstream's answers, built once: the same bytes go out on every request, so direct and through-Relay runs
/// compare like with like. Shapes follow Anthropic's Messages API (see tests/Relay.Tests/Infrastructure/Responses.cs).
/// </summary>
internal sealed class UpstreamPayloads
{
    public const int InputTokens = 2410;
    public const int CacheReadTokens = 1830;

    private const string Text =
        "Here is what I found. The request handler reads the body once into a pooled buffer, checks the model, "
        + "and forwards it upstream with the provider's key; the response is copied back as it arrives. "
        + "Nothing in the hot path allocates per byte, so throughput is bounded by the socket work.";

    public UpstreamPayloads(int events)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(events);
        Events = events;

        var outputTokens = Math.Max(events, 1);
        MessageJson = Encoding.UTF8.GetBytes(
            $$$$"""{"id":"msg_01BenchUpstreamFixedId0001","type":"message","role":"assistant","model":"claude-sonnet-4-6","content":[{"type":"text","text":"{{{{Text}}}}"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":{{{{InputTokens}}}},"cache_creation_input_tokens":0,"cache_read_input_tokens":{{{{CacheReadTokens}}}},"output_tokens":64,"service_tier":"standard"}}""");

        StreamHead = Encoding.UTF8.GetBytes(
            Event("message_start", $$$$"""{"type":"message_start","message":{"id":"msg_01BenchUpstreamFixedId0002","type":"message","role":"assistant","model":"claude-sonnet-4-6","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":{{{{InputTokens}}}},"cache_creation_input_tokens":0,"cache_read_input_tokens":{{{{CacheReadTokens}}}},"output_tokens":1,"service_tier":"standard"}}}"""));
        StreamBlockStart = Encoding.UTF8.GetBytes(
            Event("content_block_start", """{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}""")
            + Event("ping", """{"type": "ping"}"""));

        var words = Text.Split(' ');
        Deltas = new byte[events][];
        for (var i = 0; i < events; i++)
        {
            var piece = (i == 0 ? "" : " ") + words[i % words.Length];
            Deltas[i] = Encoding.UTF8.GetBytes(
                Event("content_block_delta", $$$$"""{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"{{{{piece}}}}"}}"""));
        }

        StreamTail = Encoding.UTF8.GetBytes(
            Event("content_block_stop", """{"type":"content_block_stop","index":0}""")
            + Event("message_delta", string.Create(CultureInfo.InvariantCulture,
                $$$$"""{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":{{{{outputTokens}}}}}}"""))
            + Event("message_stop", """{"type":"message_stop"}"""));
    }

    public int Events { get; }

    /// <summary>The non-streaming answer: one complete message with usage (about 600 bytes).</summary>
    public byte[] MessageJson { get; }

    /// <summary><c>message_start</c>, sent as soon as the headers are.</summary>
    public byte[] StreamHead { get; }

    /// <summary><c>content_block_start</c> and a <c>ping</c>.</summary>
    public byte[] StreamBlockStart { get; }

    /// <summary>One <c>content_block_delta</c> per streamed event.</summary>
    public byte[][] Deltas { get; }

    /// <summary><c>content_block_stop</c>, <c>message_delta</c> with the output usage, and <c>message_stop</c>.</summary>
    public byte[] StreamTail { get; }

    public long StreamLength => StreamHead.Length + StreamBlockStart.Length + Deltas.Sum(d => (long)d.Length) + StreamTail.Length;

    /// <summary>In every answer the fake upstream fails on purpose, so a client can tell the provider's error from
    /// one Relay made itself.</summary>
    public const string FaultMarker = "relay-bench-fault";

    /// <summary>The page behind an <see cref="Fault.Html"/> answer.</summary>
    public static byte[] FaultPage { get; } = Encoding.UTF8.GetBytes(
        $"<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1><p>{FaultMarker}</p></body></html>\n");

    public static byte[] FaultErrorJson(string type, int status) => ErrorJson(type, $"{FaultMarker}: injected {status}");

    public static byte[] ErrorJson(string type, string message) =>
        Encoding.UTF8.GetBytes($$$$"""{"type":"error","error":{"type":"{{{{type}}}}","message":"{{{{message}}}}"}}""");

    private static string Event(string name, string data) => $"event: {name}\ndata: {data}\n\n";
}
