using System.Globalization;
using System.Text;

namespace Relay.Protocol.Text;

/// <summary>
/// Makes a string a client sent safe to repeat in Relay's error messages, logs and usage records: at most
/// <see cref="MaxLength"/> characters with an ellipsis, control characters and other invisible or reordering characters
/// (ANSI escape sequences, bidi overrides) shown as <c>\u001b</c>-style escapes, and invalid UTF-16 replaced.
/// </summary>
/// <remarks>A 10 MB model name would otherwise be written whole into the 404, the log and every usage row, and an
/// ANSI escape in it would reach an operator's terminal raw.</remarks>
public static class ClientText
{
    public const int MaxLength = 200;

    /// <summary>The string itself when it is already safe (no allocation), else the shortened, escaped form.</summary>
    public static string Shorten(string text, int maxLength = MaxLength)
    {
        if (text.Length <= maxLength && !NeedsEscape(text))
        {
            return text;
        }

        var builder = new StringBuilder(Math.Min(text.Length, maxLength) + 16);
        var shown = 0;
        for (var i = 0; i < text.Length; i++)
        {
            if (shown >= maxLength)
            {
                builder.Append('…');
                break;
            }

            var c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                builder.Append(c).Append(text[++i]);
            }
            else if (IsUnsafe(c))
            {
                builder.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
            }
            else
            {
                builder.Append(c);
            }

            shown++;
        }

        return builder.ToString();
    }

    /// <summary><see cref="Shorten"/> for a value that may be null.</summary>
    public static string? ShortenOrNull(string? text) => text is null ? null : Shorten(text);

    private static bool NeedsEscape(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
            }
            else if (IsUnsafe(c))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Controls (C0, DEL, C1), format characters (bidi overrides, zero-width), line and paragraph separators, and
    /// lone surrogates.</summary>
    private static bool IsUnsafe(char c) =>
        c < 0x20 || (c >= 0x7f && c <= 0x9f) || char.IsSurrogate(c)
        || (c > 0x9f && CharUnicodeInfo.GetUnicodeCategory(c) is UnicodeCategory.Format or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator);
}
