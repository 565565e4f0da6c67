namespace Relay.Protocol.Translation;

/// <summary>Separates a leading <c>&lt;think&gt;…&lt;/think&gt;</c> section of streamed content from the answer.</summary>
/// <remarks>
/// DeepSeek-R1 style models served by vLLM, Ollama, Together or GLM-4.7 put their reasoning in the content between
/// think tags. Only a section at the very start of the content is treated as thinking, so an answer that merely
/// mentions the tag stays text. Tags may be split across chunks at any character; the possible start of a tag is
/// held back until the next piece decides it.
/// </remarks>
public sealed class ThinkTagSplitter
{
    private const string Open = "<think>";
    private const string Close = "</think>";

    private State _state = State.Start;
    private string _carry = "";
    private bool _trimLeading;

    private enum State
    {
        Start,
        InThink,
        Text,
    }

    /// <summary>Feeds the next piece of content; <paramref name="emit"/> receives (isThinking, text) pieces in order.</summary>
    public void Feed(string piece, Action<bool, string> emit)
    {
        switch (_state)
        {
            case State.Text:
                EmitText(piece, emit);
                return;
            case State.Start:
                var pending = _carry + piece;
                var trimmed = pending.AsSpan().TrimStart();
                if (trimmed.IsEmpty || (trimmed.Length < Open.Length && Open.AsSpan().StartsWith(trimmed, StringComparison.Ordinal)))
                {
                    _carry = pending;
                    return;
                }

                _carry = "";
                if (trimmed.StartsWith(Open, StringComparison.Ordinal))
                {
                    _state = State.InThink;
                    FeedThink(trimmed[Open.Length..].ToString(), emit);
                }
                else
                {
                    _state = State.Text;
                    EmitText(pending, emit);
                }

                return;
            default:
                FeedThink(_carry + piece, emit);
                return;
        }
    }

    /// <summary>Emits whatever is held back, at the end of the content.</summary>
    public void Flush(Action<bool, string> emit)
    {
        var carry = _carry;
        _carry = "";
        if (carry.Length == 0)
        {
            return;
        }

        if (_state == State.InThink)
        {
            emit(true, carry);
        }
        else if (!string.IsNullOrWhiteSpace(carry))
        {
            emit(false, carry);
        }
    }

    private void FeedThink(string text, Action<bool, string> emit)
    {
        var close = text.IndexOf(Close, StringComparison.Ordinal);
        if (close >= 0)
        {
            if (close > 0)
            {
                emit(true, text[..close]);
            }

            _carry = "";
            _state = State.Text;
            _trimLeading = true;
            EmitText(text[(close + Close.Length)..], emit);
            return;
        }

        // Hold back a tail that could be the start of "</think>".
        var keep = 0;
        for (var length = Math.Min(Close.Length - 1, text.Length); length > 0; length--)
        {
            if (text.AsSpan(text.Length - length).SequenceEqual(Close.AsSpan(0, length)))
            {
                keep = length;
                break;
            }
        }

        _carry = text[(text.Length - keep)..];
        if (text.Length - keep > 0)
        {
            emit(true, text[..(text.Length - keep)]);
        }
    }

    private void EmitText(string text, Action<bool, string> emit)
    {
        if (_trimLeading)
        {
            text = text.TrimStart();
            if (text.Length == 0)
            {
                return;
            }

            _trimLeading = false;
        }

        if (text.Length > 0)
        {
            emit(false, text);
        }
    }
}
