using System.Buffers;
using System.Text;
using System.Text.Json;
using Relay.Protocol.Json;

namespace Relay.Protocol.Translation;

/// <summary>What happened to a tool call's arguments on their way to the client.</summary>
public enum ToolArgumentsOutcome
{
    Valid,
    Repaired,
    Invalid,
}

/// <summary>Turns the arguments text a model produced into a JSON object, repairing the usual damage.</summary>
/// <remarks>
/// Clients parse <c>tool_use.input</c> and fail the whole turn on invalid JSON ("Invalid tool parameters",
/// fuergaosi233/claude-code-proxy#81), so Relay never forwards it. Repairs: empty → <c>{}</c>, markdown fences,
/// text around the object, a doubly encoded string, a second copy appended, a truncated tail (open strings, arrays
/// and objects closed, a dangling comma or colon dropped). What cannot be repaired is reported to the model as
/// <c>{"_relay_invalid_arguments": "&lt;raw text&gt;"}</c>: the client's schema check then tells the model what it got
/// wrong, so it can retry, instead of a tool running on made-up input.
/// </remarks>
public static class ToolArguments
{
    public const string InvalidKey = "_relay_invalid_arguments";

    public static string Normalize(string? raw, out ToolArgumentsOutcome outcome)
    {
        outcome = ToolArgumentsOutcome.Valid;
        if (string.IsNullOrWhiteSpace(raw))
        {
            return "{}";
        }

        switch (Classify(raw))
        {
            case JsonValueKind.Object:
                return raw;
            case JsonValueKind.String:
                // A JSON object sent as a JSON string: unwrap it once.
                var inner = JsonSerializer.Deserialize(raw, StringJsonContext.Default.String);
                if (inner is not null && Classify(inner) == JsonValueKind.Object)
                {
                    outcome = ToolArgumentsOutcome.Repaired;
                    return inner;
                }

                break;
            default:
                break;
        }

        var repaired = TryRepair(raw);
        if (repaired is not null)
        {
            outcome = ToolArgumentsOutcome.Repaired;
            return repaired;
        }

        outcome = ToolArgumentsOutcome.Invalid;
        var buffer = new ArrayBufferWriter<byte>(raw.Length + 32);
        using (var writer = new Utf8JsonWriter(buffer, ProtocolJson.WriterOptions))
        {
            writer.WriteStartObject();
            writer.WriteString(InvalidKey, raw);
            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>The kind of the single JSON value in <paramref name="text"/>, or Undefined when it is not valid JSON.</summary>
    private static JsonValueKind Classify(string text)
    {
        try
        {
            using var document = JsonDocument.Parse(text);
            return document.RootElement.ValueKind;
        }
        catch (JsonException)
        {
            return JsonValueKind.Undefined;
        }
    }

    private static string? TryRepair(string raw)
    {
        var text = raw.Trim();
        if (text.StartsWith("```", StringComparison.Ordinal))
        {
            var firstLine = text.IndexOf('\n', StringComparison.Ordinal);
            text = firstLine < 0 ? "" : text[(firstLine + 1)..];
            var fence = text.LastIndexOf("```", StringComparison.Ordinal);
            if (fence >= 0)
            {
                text = text[..fence];
            }

            text = text.Trim();
        }

        var start = text.IndexOf('{', StringComparison.Ordinal);
        if (start < 0)
        {
            return null;
        }

        var closed = CloseFirstObject(text.AsSpan(start));
        return closed is not null && Classify(closed) == JsonValueKind.Object ? closed : null;
    }

    /// <summary>Scans one object from the start of <paramref name="text"/>: stops at its end (dropping anything after),
    /// or closes whatever is still open when the text runs out.</summary>
    private static string? CloseFirstObject(ReadOnlySpan<char> text)
    {
        var output = new StringBuilder(text.Length + 8);
        var stack = new Stack<char>();
        var inString = false;
        var escaped = false;
        var expectKey = false;       // inside an object, after '{' or ','
        var stringIsKey = false;
        var stringStart = -1;
        var danglingKeyStart = -1;   // a key whose ':' has not come yet
        foreach (var c in text)
        {
            output.Append(c);
            if (inString)
            {
                if (escaped)
                {
                    escaped = false;
                }
                else if (c == '\\')
                {
                    escaped = true;
                }
                else if (c == '"')
                {
                    inString = false;
                    if (stringIsKey)
                    {
                        danglingKeyStart = stringStart;
                    }
                }

                continue;
            }

            switch (c)
            {
                case '"':
                    inString = true;
                    stringIsKey = expectKey;
                    stringStart = output.Length - 1;
                    expectKey = false;
                    break;
                case ':':
                    danglingKeyStart = -1;
                    break;
                case ',':
                    expectKey = stack.Count > 0 && stack.Peek() == '}';
                    break;
                case '{':
                    stack.Push('}');
                    expectKey = true;
                    break;
                case '[':
                    stack.Push(']');
                    expectKey = false;
                    break;
                case '}' or ']':
                    if (stack.Count == 0 || stack.Pop() != c)
                    {
                        return null;
                    }

                    if (stack.Count == 0)
                    {
                        return output.ToString();
                    }

                    expectKey = false;
                    break;
                default:
                    break;
            }
        }

        if (inString && stringIsKey)
        {
            danglingKeyStart = stringStart;
            inString = false;
            escaped = false;
        }

        if (danglingKeyStart >= 0)
        {
            output.Length = danglingKeyStart;
        }
        else
        {
            if (escaped)
            {
                output.Length--;
            }

            if (inString)
            {
                output.Append('"');
            }
        }

        // A value cut off after its key or after a comma cannot be completed; drop the dangling part.
        TrimDangling(output);
        while (stack.Count > 0)
        {
            output.Append(stack.Pop());
        }

        return output.ToString();
    }

    private static void TrimDangling(StringBuilder output)
    {
        while (true)
        {
            var end = output.Length;
            while (end > 0 && char.IsWhiteSpace(output[end - 1]))
            {
                end--;
            }

            output.Length = end;
            if (end == 0)
            {
                return;
            }

            var last = output[end - 1];
            if (last == ',')
            {
                output.Length--;
                continue;
            }

            if (last == ':')
            {
                // Drop `"key":` as well.
                output.Length--;
                var quoteEnd = LastIndexOf(output, '"');
                var quoteStart = quoteEnd > 0 ? LastIndexOf(output, '"', quoteEnd - 1) : -1;
                if (quoteStart >= 0)
                {
                    output.Length = quoteStart;
                    continue;
                }
            }

            return;
        }
    }

    private static int LastIndexOf(StringBuilder builder, char c, int from = -1)
    {
        for (var i = from < 0 ? builder.Length - 1 : from; i >= 0; i--)
        {
            if (builder[i] == c)
            {
                return i;
            }
        }

        return -1;
    }
}
