using Relay.Protocol.Anthropic;

namespace Relay.Routing;

/// <summary>One <c>provider/upstream-model</c> route, with the model pre-encoded for splicing into request bodies.</summary>
/// <remarks>The upstream model <c>*</c> (<c>provider/*</c>) means "the model the client asked for": the body is sent
/// without rewriting, byte for byte, which is what a bridge to another gateway needs.</remarks>
internal sealed class RouteTarget
{
    /// <summary>The upstream-model value that sends the client's own model name.</summary>
    public const string ClientModel = "*";

    public RouteTarget(string provider, string upstreamModel)
    {
        Provider = provider;
        UpstreamModel = upstreamModel;
        PassesModelThrough = upstreamModel == ClientModel;
        UpstreamModelToken = PassesModelThrough ? [] : ModelNameRewriter.EncodeToken(upstreamModel);
    }

    /// <summary>True for <c>provider/*</c>: the request keeps the model name the client sent.</summary>
    public bool PassesModelThrough { get; }

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
