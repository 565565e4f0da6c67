using System.Security.Cryptography;
using System.Text;

namespace Relay.Protocol.Translation;

/// <summary>Makes tool names acceptable to OpenAI-style servers (<c>^[a-zA-Z0-9_-]{1,64}$</c>) and restores them.</summary>
/// <remarks>
/// MCP tool names easily pass 64 characters. An unacceptable name becomes its first 55 safe characters, <c>_</c>, and
/// 8 hex digits of its SHA-256: deterministic, so the same name maps the same way in every turn and the provider's
/// prefix cache still hits. The reverse map is built from the request's own tool list, which every turn repeats.
/// </remarks>
public static class ToolNames
{
    public const int MaxLength = 64;
    private const int PrefixLength = 55;

    /// <summary>The name to send upstream.</summary>
    public static string ToUpstream(string name)
    {
        if (IsAcceptable(name))
        {
            return name;
        }

        var prefix = new StringBuilder(PrefixLength);
        foreach (var c in name)
        {
            if (prefix.Length == PrefixLength)
            {
                break;
            }

            prefix.Append(char.IsAsciiLetterOrDigit(c) || c is '_' or '-' ? c : '_');
        }

        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(name));
        return prefix.Append('_').Append(Convert.ToHexStringLower(hash, 0, 4)).ToString();
    }

    public static bool IsAcceptable(string name)
    {
        if (name.Length is 0 or > MaxLength)
        {
            return false;
        }

        foreach (var c in name)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '_' or '-'))
            {
                return false;
            }
        }

        return true;
    }
}
