using System.Buffers;
using System.Globalization;
using System.Text.Json;
using System.Text.Unicode;

namespace Relay.Protocol.Json;

/// <summary>Whether a JSON string token holds text: valid UTF-8 and, once unescaped, no lone UTF-16 surrogate.</summary>
/// <remarks>
/// <see cref="Utf8JsonReader"/> checks JSON structure and the syntax of escapes, but neither the UTF-8 inside strings nor
/// whether <c>\uD800</c>-style escapes pair up. Such a body reads as valid JSON, then <c>GetString</c> throws
/// <see cref="InvalidOperationException"/> deep in a translator, or a provider receives bytes it cannot read.
/// </remarks>
public static class JsonStrings
{
    /// <summary>True when the string or property name the reader is on is text (the reader reads one span).</summary>
    public static bool IsText(ref readonly Utf8JsonReader reader)
    {
        var raw = reader.ValueSpan;
        return Utf8.IsValid(raw) && (!reader.ValueIsEscaped || SurrogateEscapesPair(raw));
    }

    /// <summary>The UTF-8 length of the string the reader is on, once unescaped; copies only an escaped string, into a
    /// pooled buffer, so nothing is allocated.</summary>
    public static int UnescapedLength(ref readonly Utf8JsonReader reader)
    {
        if (!reader.ValueIsEscaped)
        {
            return reader.ValueSpan.Length;
        }

        // Unescaped text is never longer than its escaped form.
        var scratch = ArrayPool<byte>.Shared.Rent(reader.ValueSpan.Length);
        try
        {
            return reader.CopyString(scratch);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(scratch);
        }
    }

    /// <summary>Each <c>\uD800</c>–<c>\uDBFF</c> escape is followed at once by a <c>\uDC00</c>–<c>\uDFFF</c> one, and no
    /// low surrogate comes alone. The reader has already checked that every escape is well formed.</summary>
    private static bool SurrogateEscapesPair(ReadOnlySpan<byte> raw)
    {
        var expectLow = false;
        var i = 0;
        while (i < raw.Length)
        {
            var next = raw[i..].IndexOf((byte)'\\');
            if (next < 0)
            {
                return !expectLow;
            }

            if (next > 0 && expectLow)
            {
                return false;
            }

            i += next;
            if (raw[i + 1] != (byte)'u')
            {
                if (expectLow)
                {
                    return false;
                }

                i += 2;
                continue;
            }

            if (!ushort.TryParse(raw.Slice(i + 2, 4), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var unit))
            {
                return false;
            }

            var isLow = unit is >= 0xDC00 and <= 0xDFFF;
            if (isLow != expectLow)
            {
                return false;
            }

            expectLow = unit is >= 0xD800 and <= 0xDBFF;
            i += 6;
        }

        return !expectLow;
    }
}
