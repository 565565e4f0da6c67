using System.Globalization;

namespace Relay.Routing;

/// <summary>
/// Current Claude model ids, kept in this one place. A pattern such as <c>claude-*</c> cannot be listed, and Claude
/// Code's and Claude Desktop's model discovery keep only Claude ids, so <c>GET /v1/models</c> lists these ids for
/// the patterns that route them. Update the list when Anthropic releases models.
/// </summary>
internal static class KnownClaudeModels
{
    /// <summary>Newest first: what Claude Code 2.1.330 asks for by default (Opus, Sonnet, Haiku 5.5), then the
    /// models Claude Code's documentation names.</summary>
    public static readonly IReadOnlyList<string> Ids =
    [
        "claude-opus-5-5",
        "claude-sonnet-5-5",
        "claude-haiku-5-5",
        "claude-fable-5",
        "claude-opus-4-8",
        "claude-sonnet-5",
        "claude-opus-4-7",
        "claude-sonnet-4-6",
        "claude-haiku-4-5",
    ];

    /// <summary>A readable name: <c>claude-opus-4-8</c> is "Claude Opus 4.8".</summary>
    public static string DisplayName(string id)
    {
        var parts = id.Split('-');
        var words = parts.TakeWhile(p => !char.IsAsciiDigit(p[0])).Select(p => char.ToUpper(p[0], CultureInfo.InvariantCulture) + p[1..]);
        var version = string.Join('.', parts.SkipWhile(p => !char.IsAsciiDigit(p[0])));
        return version.Length == 0 ? string.Join(' ', words) : string.Join(' ', words) + " " + version;
    }
}
