using Relay.Protocol.Anthropic;
using Relay.Routing;

namespace Relay.Accounting;

/// <summary>What one request's usage record costs: its tokens and server-tool calls at the price of the model that
/// served it (the requested one, or a scenario's) and the route that answered (<see cref="IPriceBook"/> says which price
/// wins).</summary>
internal sealed class UsageCost(IPriceBook prices)
{
    /// <summary>Nanodollars; null when no price is known for the model. Token counting is never billed.</summary>
    /// <param name="pricedModel">The configured model that served the request: the client's name, or a scenario's target.</param>
    /// <param name="clientModel">The name the client sent, which a <c>provider/*</c> route passes on upstream.</param>
    public long? Of(MessagesEndpointKind endpoint, string? pricedModel, string? clientModel, RouteTarget? route, in TokenUsage usage)
    {
        if (endpoint == MessagesEndpointKind.CountTokens)
        {
            return 0;
        }

        return PriceOf(prices, pricedModel, route, clientModel)?.CostNanos(usage);
    }

    /// <summary>The price of a request for <paramref name="pricedModel"/> answered by <paramref name="route"/>; a
    /// <c>provider/*</c> route sends the client's name (<paramref name="clientModel"/>, by default the priced one) on as
    /// its upstream model.</summary>
    public static ModelPrice? PriceOf(IPriceBook prices, string? pricedModel, RouteTarget? route, string? clientModel = null)
    {
        var upstreamModel = route is null ? null : route.PassesModelThrough ? clientModel ?? pricedModel : route.UpstreamModel;
        return prices.Find(pricedModel, route?.Provider, upstreamModel);
    }
}
