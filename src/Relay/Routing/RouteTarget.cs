using Relay.Protocol.Anthropic;

namespace Relay.Routing;

/// <summary>One <c>provider/upstream-model</c> route, with the model pre-encoded for splicing into request bodies.</summary>
internal sealed class RouteTarget
{
    public RouteTarget(string provider, string upstreamModel)
    {
        Provider = provider;
        UpstreamModel = upstreamModel;
        UpstreamModelToken = ModelNameRewriter.EncodeToken(upstreamModel);
    }

    public string Provider { get; }

    public string UpstreamModel { get; }

    /// <summary>The upstream model as a JSON string token, quotes included.</summary>
    public byte[] UpstreamModelToken { get; }

    /// <summary>Splits at the first '/': the model part may itself contain '/' and ':'.</summary>
    public static RouteTarget Parse(string route)
    {
        var slash = route.IndexOf('/', StringComparison.Ordinal);
        return new RouteTarget(route[..slash], route[(slash + 1)..]);
    }

    public override string ToString() => $"{Provider}/{UpstreamModel}";
}
