using System.Text;
using Relay.Protocol.Sse;

namespace Relay.Protocol.Tests.Sse;

/// <summary>SSE bytes fed in pieces → the events the SSE specification says they hold.</summary>
public sealed class SseEventSplitterTests
{
    private static List<(string Name, string Data)> Split(string text, int pieceSize = 0)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        var size = pieceSize == 0 ? bytes.Length : pieceSize;
        var events = new List<(string, string)>();
        using var splitter = new SseEventSplitter();
        for (var i = 0; i < bytes.Length; i += size)
        {
            ReadOnlySpan<byte> piece = bytes.AsSpan(i, Math.Min(size, bytes.Length - i));
            while (splitter.TryRead(ref piece, out var e))
            {
                events.Add((Encoding.UTF8.GetString(e.Name), Encoding.UTF8.GetString(e.Data)));
            }
        }

        return events;
    }

    private const string Stream = "event: a\ndata: {\"x\":1}\n\n: a comment\n\nevent:b\ndata:line1\ndata: line2\nid: 7\nretry: 10\n\ndata\n\nevent: no-data\n\ndata: ünïcödé 🌤\n\n";

    private static readonly List<(string, string)> Expected =
    [
        ("a", "{\"x\":1}"),
        ("b", "line1\nline2"),
        ("", ""),
        ("", "ünïcödé 🌤"),
    ];

    [Theory]
    [InlineData("\n")]
    [InlineData("\r\n")]
    [InlineData("\r")]
    public void LinesEndWithLfCrlfOrCr_AndMayBeSplitAnywhere(string lineEnd)
    {
        var text = Stream.Replace("\n", lineEnd, StringComparison.Ordinal);
        for (var size = 1; size <= 8; size++)
        {
            Assert.Equal(Expected, Split(text, size));
        }

        Assert.Equal(Expected, Split(text));
    }

    [Fact]
    public void EveryTwoPieceSplit_OfACrlfStream_GivesTheSameEvents()
    {
        var bytes = Encoding.UTF8.GetBytes(Stream.Replace("\n", "\r\n", StringComparison.Ordinal));
        for (var split = 1; split < bytes.Length; split++)
        {
            var events = new List<(string, string)>();
            using var splitter = new SseEventSplitter();
            foreach (var part in new[] { bytes[..split], bytes[split..] })
            {
                ReadOnlySpan<byte> piece = part;
                while (splitter.TryRead(ref piece, out var e))
                {
                    events.Add((Encoding.UTF8.GetString(e.Name), Encoding.UTF8.GetString(e.Data)));
                }
            }

            Assert.Equal(Expected, events);
        }
    }

    [Fact]
    public void AnEventWithoutItsBlankLine_IsNotDispatched()
    {
        Assert.Equal([("a", "1")], Split("event: a\ndata: 1\n\nevent: b\ndata: 2\n"));
    }

    [Fact]
    public void AnEventLargerThanTheLimit_IsRefused()
    {
        using var splitter = new SseEventSplitter();
        var chunk = new byte[1024 * 1024];
        chunk.AsSpan().Fill((byte)'x');
        "data: "u8.CopyTo(chunk);

        Assert.Throws<InvalidDataException>(() =>
        {
            for (var i = 0; i < 17; i++)
            {
                ReadOnlySpan<byte> piece = chunk;
                splitter.TryRead(ref piece, out _);
            }
        });
    }
}
