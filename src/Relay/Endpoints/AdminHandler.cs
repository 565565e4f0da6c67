using System.Text.Json;
using Relay.Auth;
using Relay.Endpoints.Admin;
using Relay.Errors;
using Relay.Hosting;
using Relay.Routing;

namespace Relay.Endpoints;

/// <summary>Admin endpoints, behind the admin key (config <c>adminKey</c> or <c>RELAY_ADMIN_KEY</c>); client keys
/// never open them. <c>GET /v1/routes</c> reports every route's health.</summary>
internal sealed class AdminHandler(AdminGate gate, ModelCatalog catalog, RouteHealthRegistry health, LearnedCorrections corrections,
    UnauthenticatedRequests strangers)
{
    public async Task RoutesAsync(HttpContext context)
    {
        if (gate.Authorize(context) is { } error)
        {
            await ErrorResponses.WriteAsync(context, error);
            return;
        }

        var models = catalog.AllEntries
            .SelectMany(entry => entry.Routes.Select(route => (route.Key, entry.Name)))
            .GroupBy(x => x.Key)
            .ToDictionary(g => g.Key, g => g.Select(x => x.Name).Distinct().ToArray());
        var routes = catalog.AllRoutes.DistinctBy(r => r.Key).Select(route =>
        {
            var snapshot = health.For(route).Snapshot();
            var provider = health.ProviderStatus(route.Provider);
            var state = provider is { Up: false } ? "provider_down" : snapshot.State switch
            {
                CircuitState.Open => "open",
                CircuitState.HalfOpen => "half_open",
                _ => "healthy",
            };
            return new RouteStatus
            {
                Route = route.Key,
                Models = models[route.Key],
                State = state,
                ConsecutiveFailures = snapshot.ConsecutiveFailures,
                Requests = snapshot.Requests,
                RecentErrorRate = Math.Round(snapshot.RecentErrorRate, 4),
                P50Ms = snapshot.P50Ms is { } p50 ? Math.Round(p50, 1) : null,
                InFlight = snapshot.InFlight,
                OpenUntil = snapshot.OpenUntil,
                LastError = snapshot.LastError ?? provider?.Reason,
                Corrections = corrections.For(route).Items.Select(c => c.ToString()).ToArray(),
            };
        }).ToArray();

        context.Response.ContentType = "application/json";
        await JsonSerializer.SerializeAsync(context.Response.Body, new RouteStatusList { Routes = routes, Unauthenticated = strangers.Status }, RelayJsonContext.Default.RouteStatusList, context.RequestAborted);
    }
}
