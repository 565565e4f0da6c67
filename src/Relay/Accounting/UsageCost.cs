using Relay.Protocol.Anthropic;
using Relay.Routing;

namespace Relay.Accounting;

/// <summary>What one request's usage record costs: its tokens and server-tool calls at the price of the requested model
/// and the route that answered (<see cref="IPriceBook"/> says which price wins).</summary>
internal sealed class UsageCost(IPriceBook prices)
{
    /// <summary>Nanodollars; null when no price is known for the model. Token counting is never billed.</summary>
    public long? Of(MessagesEndpointKind endpoint, string? requestedModel, RouteTarget? route, in TokenUsage usage)
    {
        if (endpoint == MessagesEndpointKind.CountTokens)
        {
            return 0;
        }

        return PriceOf(prices, requestedModel, route)?.CostNanos(usage);
    }

    /// <summary>The price of a request for <paramref name="requestedModel"/> answered by <paramref name="route"/>; a
    /// <c>provider/*</c> route sends the requested name on as its upstream model.</summary>
    public static ModelPrice? PriceOf(IPriceBook prices, string? requestedModel, RouteTarget? route)
    {
        var upstreamModel = route is null ? null : route.PassesModelThrough ? requestedModel : route.UpstreamModel;
        return prices.Find(requestedModel, route?.Provider, upstreamModel);
    }
}
