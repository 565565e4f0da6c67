using Relay.Configuration;
using Relay.Protocol.Anthropic;

namespace Relay.Routing;

/// <summary>One <c>provider/upstream-model</c> route, with the model pre-encoded for splicing into request bodies.</summary>
/// <remarks>The upstream model <c>*</c> (<c>provider/*</c>) means "the model the client asked for": the body is sent
/// without rewriting, byte for byte, which is what a bridge to another gateway needs.</remarks>
internal sealed class RouteTarget
{
    /// <summary>The upstream-model value that sends the client's own model name.</summary>
    public const string ClientModel = "*";

    public RouteTarget(string provider, string upstreamModel, int? weight = null, int? maxTokens = null, int? timeoutSeconds = null)
    {
        Provider = provider;
        UpstreamModel = upstreamModel;
        PassesModelThrough = upstreamModel == ClientModel;
        UpstreamModelToken = PassesModelThrough ? [] : ModelNameRewriter.EncodeToken(upstreamModel);
        Weight = weight;
        MaxTokens = maxTokens;
        TimeoutSeconds = timeoutSeconds;
        Key = $"{provider}/{upstreamModel}";
    }

    /// <summary>True for <c>provider/*</c>: the request keeps the model name the client sent.</summary>
    public bool PassesModelThrough { get; }

    /// <summary>"provider/model": identifies the route's health across every model name that uses it.</summary>
    public string Key { get; }

    /// <summary>Set when the route shares load with adjacent weighted routes.</summary>
    public int? Weight { get; }

    /// <summary>The cap on <c>max_tokens</c> for this route, if any.</summary>
    public int? MaxTokens { get; }

    public int? TimeoutSeconds { get; }

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

    public static RouteTarget FromConfig(RouteConfig config)
    {
        var slash = config.Route.IndexOf('/', StringComparison.Ordinal);
        return new RouteTarget(config.Route[..slash], config.Route[(slash + 1)..], config.Weight, config.MaxTokens, config.TimeoutSeconds);
    }

    public override string ToString() => Key;
}
