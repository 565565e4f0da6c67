using System.Buffers;
using System.Text;
using System.Text.Json;

namespace Relay.Protocol.Translation;

/// <summary>
/// The arguments of one tool call as they arrive in fragments: an incremental JSON prefix validator that forwards
/// as much as can still become a valid object, holds back what could not, and completes the object at the end.
/// </summary>
/// <remarks>
/// <para>Every forwarded prefix is one that closing its open string and containers turns into a valid object, so the
/// client can show a long input (a file being written) as it is produced and still never receives invalid JSON.
/// Held back until what follows settles them: a <c>,</c> and the key after it up to the first character of its value
/// (a key cut off there is dropped, as <see cref="ToolArguments"/> drops it), an unfinished escape or surrogate pair,
/// a number that cannot end yet (<c>-</c>, <c>1.</c>, <c>1e</c>) and an unfinished <c>true</c>/<c>false</c>/<c>null</c>.</para>
/// <para>One pass over the characters, each seen once: the state is the container stack, the lexical mode and the
/// few characters held back.</para>
/// <para>Text that does not start with <c>{</c> (a fence, prose, a doubly encoded string) is all held and given to
/// <see cref="ToolArguments.Normalize"/> at the end, which has the whole text to repair. Anything after the object is
/// complete (a provider repeating it) is dropped. A raw control character inside a string, which models write for
/// newlines, is forwarded escaped. Garbage after something was forwarded cannot be taken back: the object is closed
/// and the rest reported under <see cref="ToolArguments.InvalidKey"/>, so the client's schema check tells the model,
/// as it does for arguments that could not be repaired at all.</para>
/// </remarks>
public sealed class ToolArgumentsStream
{
    private static readonly SearchValues<char> StringSpecials = SearchValues.Create(
        "\"\\\u0000\u0001\u0002\u0003\u0004\u0005\u0006\u0007\u0008\u0009\u000A\u000B\u000C\u000D\u000E\u000F" +
        "\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019\u001A\u001B\u001C\u001D\u001E\u001F");

    private readonly StringBuilder _held = new();
    private readonly List<bool> _containers = [];   // true: object, false: array
    private Mode _mode = Mode.Start;
    private bool _inKey;
    private int _escape;             // 0: none; 1: after '\'; 2..5: after '\u' and (n - 2) hex digits
    private int _codeUnit;
    private bool _highSurrogate;     // a high surrogate (raw or escaped) waits for its pair
    private NumberPart _number;
    private string? _literal;
    private int _literalPosition;
    private bool _forwardedAny;
    private bool _committedInString;
    private bool _committedEmptyObject;
    private bool _trailing;
    private bool _repaired;

    private enum Mode : byte
    {
        Start,
        ObjectStart,     // after '{': a key or '}'
        MemberKey,       // after ',' in an object: a key
        String,
        AfterKey,        // a ':'
        ValueStart,      // after ':' or ',' in an array
        ArrayStart,      // after '[': a value or ']'
        Number,
        Literal,
        AfterValue,
        Done,
        Broken,
    }

    private enum NumberPart : byte
    {
        Minus,
        Zero,
        Integer,
        Dot,
        Fraction,
        Exponent,
        ExponentSign,
        ExponentDigits,
    }

    /// <summary>True once the object closed: nothing that arrives later can change it.</summary>
    public bool IsComplete => _mode == Mode.Done;

    /// <summary>Takes one fragment and writes to <paramref name="forward"/> what can now go to the client.</summary>
    public void Append(ReadOnlySpan<char> fragment, IBufferWriter<char> forward)
    {
        if (_mode == Mode.Done)
        {
            _trailing |= !fragment.IsWhiteSpace();
            return;
        }

        if (_mode == Mode.Broken)
        {
            _held.Append(fragment);
            return;
        }

        var start = 0;        // fragment[start..] is neither forwarded nor held yet
        var commitEnd = -1;   // fragment[start..commitEnd] may follow _held to the client
        for (var i = 0; i < fragment.Length; i++)
        {
            var c = fragment[i];
            if (_mode == Mode.String && _escape == 0)
            {
                // Fast path through string content: only quotes, backslashes and control characters matter.
                var run = fragment[i..].IndexOfAny(StringSpecials);
                var end = run < 0 ? fragment.Length : i + run;
                if (end > i)
                {
                    _highSurrogate = char.IsHighSurrogate(fragment[end - 1]);
                    var committed = _highSurrogate ? end - 1 : end;
                    if (!_inKey && committed > i)
                    {
                        commitEnd = committed;
                        _committedInString = true;
                        _committedEmptyObject = false;
                    }

                    i = end - 1;
                    continue;
                }

                if (c < ' ')
                {
                    // A raw control character is invalid inside a JSON string; models mean its escape.
                    if (commitEnd > start)
                    {
                        Forward(forward, fragment[start..commitEnd]);
                        start = commitEnd;
                    }

                    _held.Append(fragment[start..i]).Append(ControlEscape(c));
                    start = i + 1;
                    commitEnd = -1;
                    _highSurrogate = false;
                    _repaired = true;
                    if (!_inKey)
                    {
                        Forward(forward, []);
                        _committedInString = true;
                        _committedEmptyObject = false;
                    }

                    continue;
                }
            }

            if (!Step(c))
            {
                if (commitEnd > start)
                {
                    Forward(forward, fragment[start..commitEnd]);
                    start = commitEnd;
                }

                _mode = Mode.Broken;
                _held.Append(fragment[start..]);
                return;
            }

            if (IsCommitPoint())
            {
                commitEnd = i + 1;
                _committedInString = _mode == Mode.String;
                _committedEmptyObject = _mode == Mode.ObjectStart;
            }

            if (_mode == Mode.Done)
            {
                Forward(forward, fragment[start..commitEnd]);
                _trailing |= !fragment[commitEnd..].IsWhiteSpace();
                return;
            }
        }

        if (commitEnd > start)
        {
            Forward(forward, fragment[start..commitEnd]);
            start = commitEnd;
        }

        _held.Append(fragment[start..]);
    }

    /// <summary>What completes the forwarded text into a valid object (everything, when nothing could be forwarded),
    /// and what happened to the arguments on the way.</summary>
    public string Finish(out ToolArgumentsOutcome outcome)
    {
        if (!_forwardedAny)
        {
            return ToolArguments.Normalize(_held.ToString(), out outcome);
        }

        if (_mode == Mode.Done)
        {
            outcome = _trailing || _repaired ? ToolArgumentsOutcome.Repaired : ToolArgumentsOutcome.Valid;
            return "";
        }

        var completion = new StringBuilder();
        if (_committedInString)
        {
            completion.Append('"');
        }

        if (_mode != Mode.Broken)
        {
            // Cut short: what was held is dropped, as a truncated tail is.
            outcome = ToolArgumentsOutcome.Repaired;
            for (var i = _containers.Count - 1; i >= 0; i--)
            {
                completion.Append(_containers[i] ? '}' : ']');
            }

            return completion.ToString();
        }

        outcome = ToolArgumentsOutcome.Invalid;
        for (var i = _containers.Count - 1; i >= 1; i--)
        {
            completion.Append(_containers[i] ? '}' : ']');
        }

        if (!_committedEmptyObject || _containers.Count > 1)
        {
            completion.Append(',');
        }

        completion.Append('"').Append(ToolArguments.InvalidKey).Append("\":")
            .Append(JsonSerializer.Serialize(_held.ToString(), StringJsonContext.Default.String))
            .Append('}');
        return completion.ToString();
    }

    /// <summary>Sends what was held and <paramref name="tail"/>, which together end at a commit point: everything up
    /// to the latest commit point has been forwarded, and <see cref="_held"/> only ever holds what follows it.</summary>
    private void Forward(IBufferWriter<char> forward, ReadOnlySpan<char> tail)
    {
        foreach (var chunk in _held.GetChunks())
        {
            forward.Write(chunk.Span);
        }

        forward.Write(tail);
        _held.Clear();
        _forwardedAny = true;
    }

    private bool IsCommitPoint() => _mode switch
    {
        Mode.ObjectStart or Mode.ArrayStart or Mode.AfterValue or Mode.Done => true,
        Mode.String => !_inKey && _escape == 0 && !_highSurrogate,
        Mode.Number => _number is NumberPart.Zero or NumberPart.Integer or NumberPart.Fraction or NumberPart.ExponentDigits,
        _ => false,
    };

    /// <summary>Advances the state by one character; false when the character cannot continue valid JSON.</summary>
    private bool Step(char c)
    {
        while (true)
        {
            switch (_mode)
            {
                case Mode.Start:
                    if (IsWhiteSpace(c))
                    {
                        return true;
                    }

                    if (c != '{')
                    {
                        return false;
                    }

                    _containers.Add(true);
                    _mode = Mode.ObjectStart;
                    return true;

                case Mode.ObjectStart or Mode.MemberKey:
                    if (IsWhiteSpace(c))
                    {
                        return true;
                    }

                    if (c == '"')
                    {
                        _mode = Mode.String;
                        _inKey = true;
                        return true;
                    }

                    if (c == '}' && _mode == Mode.ObjectStart)
                    {
                        return CloseContainer(true);
                    }

                    return false;

                case Mode.String:
                    return StepString(c);

                case Mode.AfterKey:
                    if (IsWhiteSpace(c))
                    {
                        return true;
                    }

                    if (c != ':')
                    {
                        return false;
                    }

                    _mode = Mode.ValueStart;
                    return true;

                case Mode.ValueStart or Mode.ArrayStart:
                    if (IsWhiteSpace(c))
                    {
                        return true;
                    }

                    if (c == ']' && _mode == Mode.ArrayStart)
                    {
                        return CloseContainer(false);
                    }

                    return StartValue(c);

                case Mode.Number:
                    if (StepNumber(c))
                    {
                        return true;
                    }

                    if (_number is not (NumberPart.Zero or NumberPart.Integer or NumberPart.Fraction or NumberPart.ExponentDigits))
                    {
                        return false;
                    }

                    _mode = Mode.AfterValue;
                    continue; // the character that ended the number is read after it

                case Mode.Literal:
                    if (c != _literal![_literalPosition])
                    {
                        return false;
                    }

                    if (++_literalPosition == _literal.Length)
                    {
                        _mode = Mode.AfterValue;
                    }

                    return true;

                case Mode.AfterValue:
                    if (IsWhiteSpace(c))
                    {
                        return true;
                    }

                    var inObject = _containers[^1];
                    if (c == ',')
                    {
                        _mode = inObject ? Mode.MemberKey : Mode.ValueStart;
                        return true;
                    }

                    return c == (inObject ? '}' : ']') && CloseContainer(inObject);

                default:
                    return false;
            }
        }
    }

    private bool StartValue(char c)
    {
        switch (c)
        {
            case '{':
                _containers.Add(true);
                _mode = Mode.ObjectStart;
                return true;
            case '[':
                _containers.Add(false);
                _mode = Mode.ArrayStart;
                return true;
            case '"':
                _mode = Mode.String;
                _inKey = false;
                return true;
            case '-':
                _mode = Mode.Number;
                _number = NumberPart.Minus;
                return true;
            case >= '0' and <= '9':
                _mode = Mode.Number;
                _number = c == '0' ? NumberPart.Zero : NumberPart.Integer;
                return true;
            case 't':
                return StartLiteral("true");
            case 'f':
                return StartLiteral("false");
            case 'n':
                return StartLiteral("null");
            default:
                return false;
        }
    }

    private bool StartLiteral(string literal)
    {
        _mode = Mode.Literal;
        _literal = literal;
        _literalPosition = 1;
        return true;
    }

    private bool CloseContainer(bool isObject)
    {
        if (_containers.Count == 0 || _containers[^1] != isObject)
        {
            return false;
        }

        _containers.RemoveAt(_containers.Count - 1);
        _mode = _containers.Count == 0 ? Mode.Done : Mode.AfterValue;
        return true;
    }

    private bool StepString(char c)
    {
        if (_escape == 1)
        {
            if (c == 'u')
            {
                _escape = 2;
                _codeUnit = 0;
                return true;
            }

            _escape = 0;
            _highSurrogate = false;
            return c is '"' or '\\' or '/' or 'b' or 'f' or 'n' or 'r' or 't';
        }

        if (_escape >= 2)
        {
            var digit = HexValue(c);
            if (digit < 0)
            {
                return false;
            }

            _codeUnit = (_codeUnit << 4) | digit;
            if (++_escape < 6)
            {
                return true;
            }

            _escape = 0;
            // Hold a high surrogate until the next character, so a pair split across fragments goes out whole.
            _highSurrogate = char.IsHighSurrogate((char)_codeUnit);
            return true;
        }

        if (c == '\\')
        {
            _escape = 1;
            return true;
        }

        _highSurrogate = char.IsHighSurrogate(c);
        if (c == '"')
        {
            _mode = _inKey ? Mode.AfterKey : Mode.AfterValue;
        }

        return true;
    }

    private bool StepNumber(char c)
    {
        var next = (_number, c) switch
        {
            (NumberPart.Minus, '0') => NumberPart.Zero,
            (NumberPart.Minus, >= '1' and <= '9') => NumberPart.Integer,
            (NumberPart.Integer, >= '0' and <= '9') => NumberPart.Integer,
            (NumberPart.Zero or NumberPart.Integer, '.') => NumberPart.Dot,
            (NumberPart.Dot or NumberPart.Fraction, >= '0' and <= '9') => NumberPart.Fraction,
            (NumberPart.Zero or NumberPart.Integer or NumberPart.Fraction, 'e' or 'E') => NumberPart.Exponent,
            (NumberPart.Exponent, '+' or '-') => NumberPart.ExponentSign,
            (NumberPart.Exponent or NumberPart.ExponentSign or NumberPart.ExponentDigits, >= '0' and <= '9') => NumberPart.ExponentDigits,
            _ => (NumberPart?)null,
        };
        if (next is null)
        {
            return false;
        }

        _number = next.Value;
        return true;
    }

    private static bool IsWhiteSpace(char c) => c is ' ' or '\t' or '\n' or '\r';

    private static int HexValue(char c) => c switch
    {
        >= '0' and <= '9' => c - '0',
        >= 'a' and <= 'f' => c - 'a' + 10,
        >= 'A' and <= 'F' => c - 'A' + 10,
        _ => -1,
    };

    private static string ControlEscape(char c) => c switch
    {
        '\n' => "\\n",
        '\r' => "\\r",
        '\t' => "\\t",
        '\b' => "\\b",
        '\f' => "\\f",
        _ => $"\\u{(int)c:x4}",
    };
}
