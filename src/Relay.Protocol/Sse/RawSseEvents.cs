namespace Relay.Protocol.Sse;

/// <summary>
/// Finds whole events in SSE bytes without copying or re-framing them, so a stream in the client's own protocol can be
/// forwarded event by event exactly as the provider wrote it, and one event looked at (or left out) on the way.
/// </summary>
public static class RawSseEvents
{
    /// <summary>The length of the first complete event in <paramref name="bytes"/>, through the blank line that ends
    /// it; false when no event ends in them yet.</summary>
    /// <remarks>Lines end with LF, CRLF or CR. A CR as the very last byte may be the first half of a CRLF, so the event
    /// is only complete once the next byte is known.</remarks>
    public static bool TryFindEnd(ReadOnlySpan<byte> bytes, out int length)
    {
        var position = 0;
        var lineStart = true;
        while (position < bytes.Length)
        {
            var rest = bytes[position..];
            var end = rest.IndexOfAny((byte)'\r', (byte)'\n');
            if (end < 0)
            {
                break;
            }

            var terminator = 1;
            if (rest[end] == (byte)'\r')
            {
                if (end + 1 >= rest.Length)
                {
                    break; // CR or CRLF: not known yet
                }

                if (rest[end + 1] == (byte)'\n')
                {
                    terminator = 2;
                }
            }

            var blank = lineStart && end == 0;
            position += end + terminator;
            if (blank)
            {
                length = position;
                return true;
            }

            lineStart = true;
        }

        length = 0;
        return false;
    }

    /// <summary>The value of the event's first <c>data:</c> line (Chat Completions events have one); false when it has none.</summary>
    public static bool TryGetData(ReadOnlySpan<byte> sseEvent, out ReadOnlySpan<byte> data)
    {
        while (!sseEvent.IsEmpty)
        {
            var end = sseEvent.IndexOfAny((byte)'\r', (byte)'\n');
            var line = end < 0 ? sseEvent : sseEvent[..end];
            if (line.StartsWith("data:"u8))
            {
                data = line[5..];
                if (data.StartsWith(" "u8))
                {
                    data = data[1..];
                }

                return true;
            }

            if (end < 0)
            {
                break;
            }

            sseEvent = sseEvent[(end + 1)..];
        }

        data = default;
        return false;
    }
}
