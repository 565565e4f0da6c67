using System.Diagnostics.CodeAnalysis;
using System.Net;

namespace Relay.Clients;

/// <summary>
/// A gateway base URL as Claude Code and Claude Desktop use it: the root they append <c>/v1/messages</c> to.
/// </summary>
/// <remarks>
/// Both clients concatenate, so a base URL ending in <c>/v1</c> becomes <c>/v1/v1/messages</c> and one ending in
/// <c>/</c> becomes <c>//v1/messages</c> (a common mistake when setting a client up by hand). Setup commands write the
/// normalised form; <c>relay doctor</c> tests the form the user gave, because that is what the client would send.
/// </remarks>
internal sealed class GatewayUrl
{
    private GatewayUrl(string value, Uri uri, IReadOnlyList<string> corrections)
    {
        Value = value;
        Uri = uri;
        Corrections = corrections;
    }

    /// <summary>The normalised base URL: no trailing <c>/</c>, no trailing <c>/v1</c>.</summary>
    public string Value { get; }

    public Uri Uri { get; }

    /// <summary>What normalisation removed, in words, for the user to see.</summary>
    public IReadOnlyList<string> Corrections { get; }

    public bool IsHttps => Uri.Scheme == Uri.UriSchemeHttps;

    public bool IsLoopback => IsLoopbackHost(Uri.Host);

    /// <summary>Claude Desktop takes plain HTTP only on loopback (any other http:// URL is retried as https://).</summary>
    public bool DesktopAccepts => IsHttps || IsLoopback;

    public static bool TryParse(string text, [NotNullWhen(true)] out GatewayUrl? url, [NotNullWhen(false)] out string? error)
    {
        url = null;
        error = null;
        var trimmed = text.Trim();
        if (!Uri.TryCreate(trimmed, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || uri.Host.Length == 0)
        {
            error = $"'{text}' is not an http:// or https:// URL such as http://127.0.0.1:8787.";
            return false;
        }

        if (uri.Query.Length > 0 || uri.Fragment.Length > 0)
        {
            error = $"'{text}' has a query or fragment; a gateway base URL is a root such as https://host or https://host/prefix.";
            return false;
        }

        var corrections = new List<string>();
        var value = trimmed;
        if (value.EndsWith('/'))
        {
            value = value.TrimEnd('/');
            corrections.Add("removed the trailing '/' (clients append /v1/messages themselves and would request //v1/messages)");
        }

        if (value.EndsWith("/v1", StringComparison.OrdinalIgnoreCase))
        {
            value = value[..^3];
            corrections.Add("removed the trailing '/v1' (clients append /v1/messages themselves and would request /v1/v1/messages)");
        }

        url = new GatewayUrl(value, new Uri(value), corrections);
        return true;
    }

    public static bool IsLoopbackHost(string host) =>
        host is "localhost" or "127.0.0.1" or "[::1]" or "::1"
        || (IPAddress.TryParse(host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip));

    public override string ToString() => Value;
}
