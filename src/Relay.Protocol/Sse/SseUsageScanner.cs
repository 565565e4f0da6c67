using System.Buffers;
using Relay.Protocol.Anthropic;

namespace Relay.Protocol.Sse;

/// <summary>
/// Watches the bytes of an Anthropic SSE stream as they are forwarded and keeps the usage, the terminal event and any
/// error, without re-serialising or holding the stream.
/// </summary>
/// <remarks>
/// Only the data lines of <c>message_start</c>, <c>message_delta</c>, <c>message_stop</c> and <c>error</c> events (or of
/// events with no <c>event:</c> line) are parsed for usage; the data of each <c>content_block_delta</c> is copied into
/// the scanner's pooled line buffer and read once more for the size of its text (see <see cref="BillableUsage"/>);
/// every other event is scanned for line ends and never copied. Nothing is allocated per event. Lines may be split
/// anywhere across <see cref="Feed"/> calls, including between the CR and LF of a CRLF. Not thread-safe: one instance
/// per stream.
/// </remarks>
public sealed class SseUsageScanner : IDisposable
{
    private const int PrefixLength = 6;            // enough to tell "event:" and "data: " apart
    private const int MaxLineLength = 4 * 1024 * 1024;

    private byte[] _line = ArrayPool<byte>.Shared.Rent(1024);
    private int _lineLength;
    private bool _skipLine;                        // this line is known to be irrelevant: only look for its end
    private bool _lastWasCr;
    private EventName _event = EventName.None;
    private TokenUsage _usage;
    private bool _atBoundary = true;
    private bool _finalOutputReported;

    private enum EventName
    {
        None,
        Relevant,
        ContentDelta,
        Irrelevant,
    }

    /// <summary>The usage seen so far: <c>message_start</c> values updated by each <c>message_delta</c>.</summary>
    public TokenUsage Usage => _usage;

    /// <summary>The usage to record: <see cref="Usage"/>, with output estimated from the answer relayed so far when no
    /// <c>message_delta</c> has reported the final output count (<see cref="OutputEstimate"/>).</summary>
    /// <param name="outputLimit">The request's output limit, which caps the estimate; 0 or less for none.</param>
    public TokenUsage BillableUsage(long outputLimit) => OutputEstimate.Complete(_usage, _finalOutputReported, ContentBytes, outputLimit);

    /// <summary>The unescaped bytes of text, thinking and tool-input JSON in the <c>content_block_delta</c> events so far.</summary>
    public long ContentBytes { get; private set; }

    /// <summary>True once a <c>message_stop</c> event went by: the stream ended properly.</summary>
    public bool SawMessageStop { get; private set; }

    /// <summary>True once a <c>message_start</c> event went by.</summary>
    public bool SawMessageStart { get; private set; }

    /// <summary>True when the bytes so far end exactly between two events, where another event (a ping) may be
    /// inserted without corrupting the stream.</summary>
    public bool AtEventBoundary => _atBoundary;

    /// <summary>The <c>error.type</c> of an in-stream <c>error</c> event, if one was sent.</summary>
    public string? ErrorType { get; private set; }

    /// <summary>Feeds the next bytes of the stream, exactly as they arrive.</summary>
    /// <returns>How many bytes of <paramref name="chunk"/> end with the last complete event in it (through the blank
    /// line that ends the event), or -1 when no event ends in it: what may be forwarded without ever sending a client
    /// part of an event.</returns>
    public int Feed(ReadOnlySpan<byte> chunk)
    {
        var offset = 0;
        var lastBoundary = -1;
        while (!chunk.IsEmpty)
        {
            if (_lastWasCr)
            {
                _lastWasCr = false;
                if (chunk[0] == (byte)'\n')
                {
                    chunk = chunk[1..];
                    offset++;
                    if (lastBoundary == offset - 1 || (lastBoundary < 0 && offset == 1 && _atBoundary))
                    {
                        lastBoundary = offset; // the LF of a CRLF that ended an event belongs to it
                    }

                    continue;
                }
            }

            var end = chunk.IndexOfAny((byte)'\r', (byte)'\n');
            var part = end < 0 ? chunk : chunk[..end];
            if (!part.IsEmpty)
            {
                _atBoundary = false;
            }

            Append(part);
            if (end < 0)
            {
                return lastBoundary;
            }

            _lastWasCr = chunk[end] == (byte)'\r';
            EndLine();
            chunk = chunk[(end + 1)..];
            offset += end + 1;
            if (_atBoundary && part.IsEmpty)
            {
                lastBoundary = offset;
            }
        }

        return lastBoundary;
    }

    /// <summary>Whether the first bytes of a body are the start of an event stream (a field line or a comment), not
    /// an HTML page or a JSON body sent with the wrong content type.</summary>
    public static bool LooksLikeEventStream(ReadOnlySpan<byte> start)
    {
        var trimmed = start.TrimStart("\r\n"u8);
        if (trimmed.IsEmpty)
        {
            return true; // nothing decisive yet
        }

        return trimmed[0] == (byte)':'
            || StartsWithOrIsPrefixOf(trimmed, "event:"u8) || StartsWithOrIsPrefixOf(trimmed, "data:"u8)
            || StartsWithOrIsPrefixOf(trimmed, "id:"u8) || StartsWithOrIsPrefixOf(trimmed, "retry:"u8);
    }

    private static bool StartsWithOrIsPrefixOf(ReadOnlySpan<byte> value, ReadOnlySpan<byte> field) =>
        value.Length >= field.Length ? value.StartsWith(field) : field.StartsWith(value);

    private void Append(ReadOnlySpan<byte> part)
    {
        if (_skipLine || part.IsEmpty)
        {
            return;
        }

        // Inside an event that carries no usage, copy only enough to see whether this line names a new event.
        if (_event == EventName.Irrelevant && _lineLength < PrefixLength)
        {
            var take = Math.Min(part.Length, PrefixLength - _lineLength);
            Copy(part[..take]);
            part = part[take..];
            if (_lineLength == PrefixLength && !_line.AsSpan(0, PrefixLength).SequenceEqual("event:"u8))
            {
                _skipLine = true;
                return;
            }
        }

        if (part.IsEmpty)
        {
            return;
        }

        if (_lineLength + part.Length > MaxLineLength)
        {
            _skipLine = true;
            return;
        }

        Copy(part);
    }

    private void Copy(ReadOnlySpan<byte> part)
    {
        if (_lineLength + part.Length > _line.Length)
        {
            var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(_line.Length * 2, _lineLength + part.Length));
            _line.AsSpan(0, _lineLength).CopyTo(bigger);
            ArrayPool<byte>.Shared.Return(_line);
            _line = bigger;
        }

        part.CopyTo(_line.AsSpan(_lineLength));
        _lineLength += part.Length;
    }

    private void EndLine()
    {
        var line = _line.AsSpan(0, _lineLength);
        var skipped = _skipLine;
        _lineLength = 0;
        _skipLine = false;

        if (skipped)
        {
            return;
        }

        if (line.IsEmpty)
        {
            _event = EventName.None; // blank line: the event is dispatched
            _atBoundary = true;
            return;
        }

        if (line.StartsWith("event:"u8))
        {
            var name = TrimLeadingSpace(line[6..]);
            _event = name.SequenceEqual("message_start"u8) || name.SequenceEqual("message_delta"u8)
                || name.SequenceEqual("message_stop"u8) || name.SequenceEqual("error"u8)
                ? EventName.Relevant
                : name.SequenceEqual("content_block_delta"u8) ? EventName.ContentDelta : EventName.Irrelevant;
            return;
        }

        if (line.StartsWith("data:"u8) && _event != EventName.Irrelevant)
        {
            var data = TrimLeadingSpace(line[5..]);
            if (_event == EventName.ContentDelta)
            {
                ContentBytes += ContentDeltaBytes.Read(data);
            }
            else
            {
                OnData(data);
            }
        }
    }

    private void OnData(ReadOnlySpan<byte> data)
    {
        if (!AnthropicObjectSummary.TryRead(data, out var summary))
        {
            return;
        }

        switch (summary.Kind)
        {
            case AnthropicObjectKind.MessageStart:
                SawMessageStart = true;
                _usage.Apply(summary.Usage);
                break;
            case AnthropicObjectKind.MessageDelta:
                _usage.Apply(summary.Usage);
                _finalOutputReported |= summary.Usage.OutputTokens.HasValue;
                break;
            case AnthropicObjectKind.MessageStop:
                SawMessageStop = true;
                break;
            case AnthropicObjectKind.Error:
                ErrorType = summary.ErrorType ?? ErrorTypes.Api;
                break;
            case AnthropicObjectKind.Other when _event == EventName.None:
                ContentBytes += ContentDeltaBytes.Read(data); // a delta sent without its event: line
                break;
            default:
                break;
        }
    }

    private static ReadOnlySpan<byte> TrimLeadingSpace(ReadOnlySpan<byte> value) =>
        !value.IsEmpty && value[0] == (byte)' ' ? value[1..] : value;

    public void Dispose()
    {
        var line = _line;
        _line = [];
        if (line.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(line);
        }
    }
}
