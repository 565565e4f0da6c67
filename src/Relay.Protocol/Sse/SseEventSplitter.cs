using System.Buffers;

namespace Relay.Protocol.Sse;

/// <summary>One event read by <see cref="SseEventSplitter"/>; its spans live until the next read.</summary>
public readonly ref struct SseEventBytes(ReadOnlySpan<byte> name, ReadOnlySpan<byte> data)
{
    /// <summary>The <c>event:</c> field; empty when the event had none.</summary>
    public ReadOnlySpan<byte> Name { get; } = name;

    /// <summary>The <c>data:</c> lines, joined by LF.</summary>
    public ReadOnlySpan<byte> Data { get; } = data;
}

/// <summary>Splits an SSE body, fed in pieces as they arrive, into events.</summary>
/// <remarks>
/// <see cref="System.Net.ServerSentEvents.SseParser"/> pulls from a <see cref="Stream"/>; this is its push-side
/// counterpart for code that is handed bytes. It follows the same rules of the SSE specification: lines end with
/// LF, CR or CRLF (a CRLF may be split between two pieces), comment lines (<c>:</c>) are skipped, one space after the
/// field's colon is dropped, <c>data:</c> lines are joined by LF, and a blank line dispatches an event if it had data.
/// <c>id</c> and <c>retry</c> are ignored. Lines are copied only when a piece ends inside one. Not thread-safe.
/// </remarks>
public sealed class SseEventSplitter : IDisposable
{
    /// <summary>An event larger than this is refused: a provider that never ends a line must not take the memory.</summary>
    public const int MaxEventBytes = 16 * 1024 * 1024;

    private byte[] _line = [];
    private int _lineLength;
    private byte[] _data = [];
    private int _dataLength;
    private bool _hasData;
    private byte[] _name = [];
    private int _nameLength;
    private bool _lastWasCr;
    private bool _resetPending;

    /// <summary>Reads the next complete event from <paramref name="input"/>, which is advanced past what was read;
    /// false when <paramref name="input"/> is used up without completing one (its bytes are kept for the next call).</summary>
    /// <exception cref="InvalidDataException">An event exceeds <see cref="MaxEventBytes"/>.</exception>
    public bool TryRead(ref ReadOnlySpan<byte> input, out SseEventBytes sseEvent)
    {
        sseEvent = default;
        if (_resetPending)
        {
            _resetPending = false;
            _dataLength = _nameLength = 0;
            _hasData = false;
        }

        while (!input.IsEmpty)
        {
            if (_lastWasCr)
            {
                _lastWasCr = false;
                if (input[0] == (byte)'\n')
                {
                    input = input[1..];
                    continue;
                }
            }

            var end = input.IndexOfAny((byte)'\r', (byte)'\n');
            if (end < 0)
            {
                Append(ref _line, ref _lineLength, input);
                input = [];
                return false;
            }

            _lastWasCr = input[end] == (byte)'\r';
            ReadOnlySpan<byte> line;
            if (_lineLength == 0)
            {
                line = input[..end];
            }
            else
            {
                Append(ref _line, ref _lineLength, input[..end]);
                line = _line.AsSpan(0, _lineLength);
            }

            input = input[(end + 1)..];
            var dispatch = OnLine(line);
            _lineLength = 0;
            if (dispatch)
            {
                sseEvent = new SseEventBytes(_name.AsSpan(0, _nameLength), _data.AsSpan(0, _dataLength));
                _resetPending = true;
                return true;
            }
        }

        return false;
    }

    private bool OnLine(ReadOnlySpan<byte> line)
    {
        if (line.IsEmpty)
        {
            if (_hasData)
            {
                return true;
            }

            _nameLength = 0;
            return false;
        }

        if (line[0] == (byte)':')
        {
            return false;
        }

        var colon = line.IndexOf((byte)':');
        var field = colon < 0 ? line : line[..colon];
        var value = colon < 0 ? [] : line[(colon + 1)..];
        if (!value.IsEmpty && value[0] == (byte)' ')
        {
            value = value[1..];
        }

        if (field.SequenceEqual("data"u8))
        {
            if (_hasData)
            {
                Append(ref _data, ref _dataLength, "\n"u8);
            }

            Append(ref _data, ref _dataLength, value);
            _hasData = true;
        }
        else if (field.SequenceEqual("event"u8))
        {
            _nameLength = 0;
            Append(ref _name, ref _nameLength, value);
        }

        return false;
    }

    private static void Append(ref byte[] buffer, ref int length, ReadOnlySpan<byte> bytes)
    {
        if (length + bytes.Length > buffer.Length)
        {
            if (length + bytes.Length > MaxEventBytes)
            {
                throw new InvalidDataException($"An SSE event is larger than {MaxEventBytes / (1024 * 1024)} MiB.");
            }

            var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(Math.Max(buffer.Length * 2, length + bytes.Length), 256));
            buffer.AsSpan(0, length).CopyTo(bigger);
            if (buffer.Length > 0)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }

            buffer = bigger;
        }

        bytes.CopyTo(buffer.AsSpan(length));
        length += bytes.Length;
    }

    public void Dispose()
    {
        foreach (var buffer in (byte[][])[_line, _data, _name])
        {
            if (buffer.Length > 0)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }

        _line = _data = _name = [];
        _lineLength = _dataLength = _nameLength = 0;
    }
}
