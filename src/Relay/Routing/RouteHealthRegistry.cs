using System.Collections.Concurrent;
using Relay.Configuration;

namespace Relay.Routing;

/// <summary>Health of every route and provider this instance routes to.</summary>
internal sealed class RouteHealthRegistry
{
    private readonly ConcurrentDictionary<string, RouteHealth> _routes = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ProviderHealth> _providers = new(StringComparer.Ordinal);
    private readonly RelayConfig _config;
    private readonly TimeProvider _time;

    public RouteHealthRegistry(RelayConfig config, ModelCatalog catalog, TimeProvider time)
    {
        _config = config;
        _time = time;
        foreach (var route in catalog.AllRoutes)
        {
            For(route);
        }
    }

    public RouteHealth For(RouteTarget route) => _routes.GetOrAdd(route.Key, key =>
        new RouteHealth(key, _config.CircuitBreaker.Failures, TimeSpan.FromSeconds(_config.CircuitBreaker.CooldownSeconds), _time));

    /// <summary>Whether the active health check last found the provider up (true when it has no check).</summary>
    public bool IsProviderUp(string provider) => !_providers.TryGetValue(provider, out var health) || health.Up;

    public void ReportProviderHealth(string provider, bool up, string? reason) =>
        _providers[provider] = new ProviderHealth(up, reason, _time.GetUtcNow());

    public ProviderHealth? ProviderStatus(string provider) => _providers.TryGetValue(provider, out var health) ? health : null;

    public IEnumerable<RouteHealth> Routes => _routes.Values;
}

/// <summary>The last active health check of a provider.</summary>
internal sealed record ProviderHealth(bool Up, string? Reason, DateTimeOffset CheckedAt);
