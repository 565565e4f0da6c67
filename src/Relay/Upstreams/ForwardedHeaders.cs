namespace Relay.Upstreams;

/// <summary>Which headers cross Relay in each direction on a pass-through call.</summary>
internal static class ForwardedHeaders
{
    /// <summary>Client headers worth sending upstream besides the <c>anthropic-*</c> family.</summary>
    private static readonly HashSet<string> RequestAllowList = new(StringComparer.OrdinalIgnoreCase)
    {
        "user-agent", "accept", "x-app",
    };

    /// <summary>Hop-by-hop and framing headers that describe one connection, not the message.</summary>
    private static readonly HashSet<string> ResponseDenyList = new(StringComparer.OrdinalIgnoreCase)
    {
        "connection", "keep-alive", "transfer-encoding", "upgrade", "proxy-connection", "trailer", "te",
        "request-id", "server", "date", "alt-svc", "strict-transport-security",
    };

    public static bool ShouldForwardRequestHeader(string name) =>
        name.StartsWith("anthropic-", StringComparison.OrdinalIgnoreCase)
        || name.StartsWith("x-claude-code-", StringComparison.OrdinalIgnoreCase)
        || name.StartsWith("x-stainless-", StringComparison.OrdinalIgnoreCase)
        || RequestAllowList.Contains(name);

    /// <param name="from">The client's headers.</param>
    /// <param name="to">The request to the provider.</param>
    /// <param name="dropRelayKeys">Leave out any header carrying a key of this Relay, whatever its name: a client
    /// may put one anywhere, and Relay's keys never leave it. A bridge issues no keys, so it keeps them.</param>
    public static void CopyRequestHeaders(IHeaderDictionary from, HttpRequestMessage to, bool dropRelayKeys)
    {
        foreach (var (name, values) in from)
        {
            if (ShouldForwardRequestHeader(name) && !(dropRelayKeys && CarriesRelayKey(values)))
            {
                to.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values);
            }
        }
    }

    private static bool CarriesRelayKey(Microsoft.Extensions.Primitives.StringValues values)
    {
        foreach (var value in values)
        {
            if (value is not null && value.Contains(Auth.ApiKeys.Prefix, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Copies the upstream's response headers; its <c>request-id</c> travels as <c>upstream-request-id</c>
    /// because <c>request-id</c> is Relay's own, the one its log and usage records know.</summary>
    public static void CopyResponseHeaders(HttpResponseMessage from, HttpResponse to)
    {
        foreach (var (name, values) in ResponseHeaders(from))
        {
            to.Headers[name] = values;
        }
    }

    /// <summary>The upstream headers that go to the client, <c>request-id</c> renamed.</summary>
    public static IEnumerable<KeyValuePair<string, string[]>> ResponseHeaders(HttpResponseMessage from)
    {
        foreach (var (name, values) in from.Headers.Concat(from.Content.Headers))
        {
            if (!ResponseDenyList.Contains(name))
            {
                yield return new(name, values.ToArray());
            }
            else if (name.Equals("request-id", StringComparison.OrdinalIgnoreCase))
            {
                yield return new("upstream-request-id", values.ToArray());
            }
        }
    }
}
