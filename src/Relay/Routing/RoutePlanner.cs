namespace Relay.Routing;

/// <summary>
/// Orders a model's routes for one request: the fallback chain as configured, except that adjacent routes with a
/// <c>weight</c> form a tier whose members are ordered least-loaded first (in-flight requests per unit of weight),
/// ties broken at random in proportion to weight.
/// </summary>
internal sealed class RoutePlanner(RouteHealthRegistry health)
{
    public List<RouteTarget> Order(ModelEntry entry)
    {
        var routes = entry.Routes;
        var ordered = new List<RouteTarget>(routes.Count);
        var i = 0;
        while (i < routes.Count)
        {
            if (routes[i].Weight is null)
            {
                ordered.Add(routes[i]);
                i++;
                continue;
            }

            var tierStart = i;
            while (i < routes.Count && routes[i].Weight is not null)
            {
                i++;
            }

            ordered.AddRange(OrderTier(routes.Skip(tierStart).Take(i - tierStart)));
        }

        return ordered;
    }

    private IEnumerable<RouteTarget> OrderTier(IEnumerable<RouteTarget> tier) =>
        tier.Select(route => (Route: route, Load: (health.For(route).InFlight + 1.0) / route.Weight!.Value,
                Draw: Random.Shared.NextDouble() * route.Weight!.Value))
            .OrderBy(x => x.Load)
            .ThenByDescending(x => x.Draw)
            .Select(x => x.Route);
}
