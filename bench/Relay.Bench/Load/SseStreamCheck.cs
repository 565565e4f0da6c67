namespace Relay.Bench.Load;

/// <summary>
/// Reads an Anthropic SSE stream as it arrives, chunk by chunk, and checks it is whole: <c>message_start</c> with
/// usage first, the expected number of <c>content_block_delta</c> events, <c>message_delta</c> with usage,
/// <c>message_stop</c> last, no <c>error</c> event and nothing cut off. It notes when the first event arrived and the
/// gaps between deltas (events delivered in the same read get a gap of zero, which exposes batching).
/// </summary>
internal sealed class SseStreamCheck
{
    private byte[] _carry = new byte[1024];
    private int _carryLength;

    private EventKind _pendingKind;
    private bool _pendingNamed;
    private bool _pendingHasData;
    private bool _pendingHasUsage;

    private int _events;
    private int _deltas;
    private long _lastDeltaAt;
    private bool _firstWasStartWithUsage;
    private bool _messageDeltaHadUsage;
    private bool _stopped;
    private int _eventsAfterStop;
    private bool _sawError;

    private enum EventKind
    {
        Other,
        MessageStart,
        ContentBlockDelta,
        MessageDelta,
        MessageStop,
        Error,
    }

    /// <summary>When the first complete event arrived (a <see cref="System.Diagnostics.Stopwatch"/> timestamp), or 0.</summary>
    public long FirstEventAt { get; private set; }

    /// <summary>Stopwatch ticks between consecutive deltas of the current stream.</summary>
    public List<long> DeltaGaps { get; } = new(64);

    public int Deltas => _deltas;

    public bool SawMessageStop => _stopped;

    public bool SawErrorEvent => _sawError;

    /// <summary>The <c>data</c> of the first <c>error</c> event (at most 500 characters), or null.</summary>
    public string? ErrorEventData { get; private set; }

    public void Reset()
    {
        _carryLength = 0;
        ClearPending();
        _events = 0;
        _deltas = 0;
        _lastDeltaAt = 0;
        _firstWasStartWithUsage = false;
        _messageDeltaHadUsage = false;
        _stopped = false;
        _eventsAfterStop = 0;
        _sawError = false;
        FirstEventAt = 0;
        ErrorEventData = null;
        DeltaGaps.Clear();
    }

    /// <param name="chunk">Bytes as read from the response.</param>
    /// <param name="now">When they were read.</param>
    public void Feed(ReadOnlySpan<byte> chunk, long now)
    {
        while (!chunk.IsEmpty)
        {
            var newline = chunk.IndexOf((byte)'\n');
            if (newline < 0)
            {
                AppendCarry(chunk);
                return;
            }

            if (_carryLength > 0)
            {
                AppendCarry(chunk[..newline]);
                var line = _carry.AsSpan(0, _carryLength);
                _carryLength = 0;
                ProcessLine(line, now);
            }
            else
            {
                ProcessLine(chunk[..newline], now);
            }

            chunk = chunk[(newline + 1)..];
        }
    }

    /// <summary>Called at the end of the body; returns what is wrong with the stream, or null when it is whole.</summary>
    public LoadError? Finish(int expectedDeltas)
    {
        if (_carryLength > 0 || _pendingNamed || _pendingHasData)
        {
            return new LoadError("stream cut off mid-event", $"{_events} events, then {_carryLength} bytes of an unfinished line");
        }

        if (_events == 0)
        {
            return new LoadError("stream had no events", "200 with an empty event stream");
        }

        if (!_firstWasStartWithUsage)
        {
            return new LoadError("stream did not open with message_start+usage", $"{_events} events");
        }

        if (_sawError)
        {
            return new LoadError("stream carried an error event", $"after {_deltas} deltas");
        }

        if (!_stopped)
        {
            return new LoadError("stream ended without message_stop", $"{_events} events, {_deltas} deltas");
        }

        if (_eventsAfterStop > 0)
        {
            return new LoadError("stream had events after message_stop", $"{_eventsAfterStop} events after message_stop");
        }

        if (!_messageDeltaHadUsage)
        {
            return new LoadError("stream had no message_delta usage", $"{_events} events");
        }

        if (expectedDeltas >= 0 ? _deltas != expectedDeltas : _deltas == 0)
        {
            return new LoadError("stream had the wrong number of deltas", $"{_deltas} content_block_delta events, expected {(expectedDeltas >= 0 ? expectedDeltas : "some")}");
        }

        return null;
    }

    private void AppendCarry(ReadOnlySpan<byte> bytes)
    {
        if (_carryLength + bytes.Length > _carry.Length)
        {
            Array.Resize(ref _carry, Math.Max(_carry.Length * 2, _carryLength + bytes.Length));
        }

        bytes.CopyTo(_carry.AsSpan(_carryLength));
        _carryLength += bytes.Length;
    }

    private void ProcessLine(ReadOnlySpan<byte> line, long now)
    {
        if (!line.IsEmpty && line[^1] == (byte)'\r')
        {
            line = line[..^1];
        }

        if (line.IsEmpty)
        {
            Dispatch(now);
        }
        else if (line.StartsWith("event:"u8))
        {
            _pendingNamed = true;
            _pendingKind = Classify(line["event:".Length..].Trim((byte)' '));
        }
        else if (line.StartsWith("data:"u8))
        {
            _pendingHasData = true;
            _pendingHasUsage |= line.IndexOf("\"usage\""u8) >= 0;
            if (_pendingKind == EventKind.Error && ErrorEventData is null)
            {
                var data = line["data:".Length..].TrimStart((byte)' ');
                ErrorEventData = System.Text.Encoding.UTF8.GetString(data[..Math.Min(data.Length, 500)]);
            }
        }

        // Comments (":") and other fields (id:, retry:) carry nothing this check needs.
    }

    private void Dispatch(long now)
    {
        if (!_pendingNamed && !_pendingHasData)
        {
            return;
        }

        var kind = _pendingKind;
        if (_events == 0)
        {
            FirstEventAt = now;
            _firstWasStartWithUsage = kind == EventKind.MessageStart && _pendingHasUsage;
        }

        _events++;
        if (_stopped)
        {
            _eventsAfterStop++;
        }

        switch (kind)
        {
            case EventKind.ContentBlockDelta:
                if (_deltas > 0)
                {
                    DeltaGaps.Add(now - _lastDeltaAt);
                }

                _deltas++;
                _lastDeltaAt = now;
                break;
            case EventKind.MessageDelta:
                _messageDeltaHadUsage = _pendingHasUsage;
                break;
            case EventKind.MessageStop:
                _stopped = true;
                break;
            case EventKind.Error:
                _sawError = true;
                break;
            default:
                break;
        }

        ClearPending();
    }

    private void ClearPending()
    {
        _pendingKind = EventKind.Other;
        _pendingNamed = false;
        _pendingHasData = false;
        _pendingHasUsage = false;
    }

    private static EventKind Classify(ReadOnlySpan<byte> name) =>
        name.SequenceEqual("content_block_delta"u8) ? EventKind.ContentBlockDelta
        : name.SequenceEqual("message_start"u8) ? EventKind.MessageStart
        : name.SequenceEqual("message_delta"u8) ? EventKind.MessageDelta
        : name.SequenceEqual("message_stop"u8) ? EventKind.MessageStop
        : name.SequenceEqual("error"u8) ? EventKind.Error
        : EventKind.Other;
}

/// <summary>A failed request: <paramref name="Kind"/> groups like failures, <paramref name="Detail"/> says what happened.</summary>
internal sealed record LoadError(string Kind, string Detail)
{
    /// <summary>No response at all came back (connection refused, reset before the status line...).</summary>
    public bool Unanswered { get; init; }
}
