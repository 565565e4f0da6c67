using System.Text;
using Relay.Protocol.Anthropic;
using Relay.Protocol.Sse;

namespace Relay.Protocol.Tests.Sse;

/// <summary>Everything a gateway user reads from a scanner once a stream has gone by.</summary>
internal readonly record struct ScanResult(TokenUsage Usage, bool SawMessageStart, bool SawMessageStop, string? ErrorType)
{
    public static ScanResult Of(SseUsageScanner scanner) =>
        new(scanner.Usage, scanner.SawMessageStart, scanner.SawMessageStop, scanner.ErrorType);
}

/// <summary>Realistic Anthropic SSE streams, written out byte for byte, and helpers to feed them.</summary>
internal static class SseStreams
{
    public const string MessageStart = """{"type":"message_start","message":{"id":"msg_01XFDUDYJgAACzvnptvVoYEL","type":"message","role":"assistant","model":"claude-sonnet-4-6","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":472,"cache_creation_input_tokens":1200,"cache_read_input_tokens":3000,"output_tokens":2,"service_tier":"standard"}}}""";

    public const string ContentBlockStart = """{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}""";

    public const string Ping = """{"type": "ping"}""";

    public const string TextDelta = """{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello, usage is fine"}}""";

    /// <summary>Model output that quotes usage JSON and SSE framing; JSON-escaped, so no real line breaks.</summary>
    public const string FakeUsageTextDelta = """{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"usage: {\"type\":\"message_delta\",\"usage\":{\"input_tokens\":99999,\"output_tokens\":99999}}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\nevent: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\"}}"}}""";

    public const string FakeUsageJsonDelta = """{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"usage\": {\"output_tokens\": 77777"}}""";

    /// <summary>Usage-looking data under a content event name: ignored, because the event line decides.</summary>
    /// <remarks>Also a tripwire for a CRLF split read as two line ends: the phantom blank line would drop the event name.</remarks>
    public const string MislabelledDelta = """{"type":"message_delta","usage":{"input_tokens":88888,"output_tokens":99999}}""";

    public const string ContentBlockStop = """{"type":"content_block_stop","index":0}""";

    public const string MessageDelta = """{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":15}}""";

    public const string MessageStop = """{"type":"message_stop"}""";

    public const string OverloadedError = """{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}""";

    /// <summary>Usage of <see cref="Typical"/>: input and cache from message_start, output from message_delta.</summary>
    public static readonly TokenUsage TypicalUsage = new(InputTokens: 472, OutputTokens: 15, CacheCreationInputTokens: 1200, CacheReadInputTokens: 3000);

    public static readonly ScanResult TypicalResult = new(TypicalUsage, SawMessageStart: true, SawMessageStop: true, ErrorType: null);

    public static (string Name, string Data)[] TypicalEvents =>
    [
        ("message_start", MessageStart),
        ("content_block_start", ContentBlockStart),
        ("ping", Ping),
        ("content_block_delta", TextDelta),
        ("content_block_delta", FakeUsageTextDelta),
        ("content_block_delta", FakeUsageJsonDelta),
        ("content_block_stop", ContentBlockStop),
        ("message_delta", MessageDelta),
        ("message_stop", MessageStop),
    ];

    /// <summary>A complete, ordinary stream with the given line ending.</summary>
    /// <remarks>With event lines, a content event carrying <see cref="MislabelledDelta"/> is added after the text.</remarks>
    public static byte[] Typical(string newline, bool eventLines = true) =>
        eventLines ? Events(newline, true, TypicalEventsWithMislabelledDelta) : Events(newline, false, TypicalEvents);

    public static (string Name, string Data)[] TypicalEventsWithMislabelledDelta =>
        [.. TypicalEvents[..4], ("content_block_delta", MislabelledDelta), .. TypicalEvents[4..]];

    /// <summary>Each event as <c>event: name</c> (optional), <c>data: json</c>, blank line.</summary>
    public static byte[] Events(string newline, bool eventLines, params (string Name, string Data)[] events)
    {
        var text = new StringBuilder();
        foreach (var (name, data) in events)
        {
            if (eventLines)
            {
                text.Append("event: ").Append(name).Append(newline);
            }

            text.Append("data: ").Append(data).Append(newline).Append(newline);
        }

        return Encoding.UTF8.GetBytes(text.ToString());
    }

    /// <summary>Each line followed by <paramref name="newline"/>; an empty string is a blank line.</summary>
    public static byte[] Lines(string newline, params string[] lines)
    {
        var text = new StringBuilder();
        foreach (var line in lines)
        {
            text.Append(line).Append(newline);
        }

        return Encoding.UTF8.GetBytes(text.ToString());
    }

    public static ScanResult Scan(params byte[][] chunks)
    {
        using var scanner = new SseUsageScanner();
        foreach (var chunk in chunks)
        {
            scanner.Feed(chunk);
        }

        return ScanResult.Of(scanner);
    }

    public static ScanResult ScanInChunksOf(byte[] bytes, int size)
    {
        using var scanner = new SseUsageScanner();
        for (var offset = 0; offset < bytes.Length; offset += size)
        {
            scanner.Feed(bytes.AsSpan(offset, Math.Min(size, bytes.Length - offset)));
        }

        return ScanResult.Of(scanner);
    }

    /// <summary>Named streams with the result each must give however it is chunked.</summary>
    public static readonly IReadOnlyDictionary<string, (byte[] Bytes, ScanResult Expected)> Catalogue =
        new Dictionary<string, (byte[] Bytes, ScanResult Expected)>
        {
            ["typical-lf"] = (Typical("\n"), TypicalResult),
            ["typical-crlf"] = (Typical("\r\n"), TypicalResult),
            ["typical-cr"] = (Typical("\r"), TypicalResult),
            ["no-event-lines-crlf"] = (Typical("\r\n", eventLines: false), TypicalResult),
            ["no-event-lines-cr"] = (Typical("\r", eventLines: false), TypicalResult),
            ["mixed-endings"] = (MixedEndings(), TypicalResult),
            ["quirks"] = (Quirks(), new ScanResult(
                new TokenUsage(InputTokens: 500, OutputTokens: 42, CacheCreationInputTokens: 1200, CacheReadInputTokens: 3000),
                SawMessageStart: true, SawMessageStop: true, ErrorType: null)),
            ["error-crlf"] = (Events("\r\n", true,
                ("message_start", MessageStart),
                ("content_block_start", ContentBlockStart),
                ("content_block_delta", TextDelta),
                ("error", OverloadedError)), new ScanResult(
                new TokenUsage(InputTokens: 472, OutputTokens: 2, CacheCreationInputTokens: 1200, CacheReadInputTokens: 3000),
                SawMessageStart: true, SawMessageStop: false, ErrorType: ErrorTypes.Overloaded)),
            ["long-lines-no-event-lines"] = (LongLines(), TypicalResult),
        };

    /// <summary>The typical stream with each event using a different line ending: LF, CRLF, CR in turn.</summary>
    private static byte[] MixedEndings()
    {
        string[] endings = ["\n", "\r\n", "\r"];
        var events = TypicalEventsWithMislabelledDelta;
        return [.. events.SelectMany((e, i) => Events(endings[i % endings.Length], true, e))];
    }

    /// <summary>What real upstreams do: comments, pings, no space after the colon, type not first, missing event lines.</summary>
    private static byte[] Quirks() => Lines("\n",
        ": connected",
        "",
        "event: message_start",
        ": a comment inside an event",
        """data:{"message":{"usage":{"output_tokens":1,"cache_read_input_tokens":3000,"input_tokens":472,"cache_creation_input_tokens":1200},"id":"msg_1","type":"message"},"type":"message_start"}""",
        "",
        "event: ping",
        "data: " + Ping,
        "",
        ":",
        ": keep-alive",
        "",
        "data: " + FakeUsageTextDelta,
        "",
        "event: content_block_delta",
        ": keep-alive",
        "data: " + FakeUsageJsonDelta,
        "",
        "event:message_delta",
        """data: {"usage":{"input_tokens":500,"output_tokens":42},"delta":{"stop_reason":"end_turn"},"type":"message_delta"}""",
        "",
        ": keep-alive",
        "data: " + MessageStop,
        "");

    /// <summary>No event lines, so every data line is copied: lines well past the scanner's initial buffer.</summary>
    private static byte[] LongLines()
    {
        var filler = new string('x', 3000);
        var start = MessageStart.Replace("\"content\":[]", "\"content\":[],\"filler\":\"" + filler + "\"", StringComparison.Ordinal);
        var delta = """{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"usage """ + filler + "\"}}";
        return Events("\r\n", false,
            ("message_start", start),
            ("content_block_delta", delta),
            ("content_block_delta", FakeUsageTextDelta),
            ("message_delta", MessageDelta),
            ("message_stop", MessageStop));
    }
}
