using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Relay.Auth;
using Relay.Configuration;
using Relay.Errors;
using Relay.Protocol.Anthropic;
using Relay.Hosting;
using Relay.Routing;

namespace Relay.Endpoints;

/// <summary>Admin endpoints, behind the admin key (config <c>adminKey</c> or <c>RELAY_ADMIN_KEY</c>); client keys
/// never open them. <c>GET /v1/routes</c> reports every route's health.</summary>
internal sealed class AdminHandler(RelayConfig config, ModelCatalog catalog, RouteHealthRegistry health, LearnedCorrections corrections,
    UnauthenticatedRequests strangers)
{
    private readonly byte[]? _adminKeyHash = AdminKey.Resolve(config) is { } key
        ? SHA256.HashData(Encoding.UTF8.GetBytes(key))
        : null;

    public async Task RoutesAsync(HttpContext context)
    {
        if (Authorize(context) is { } error)
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

    private RelayError? Authorize(HttpContext context)
    {
        if (_adminKeyHash is null)
        {
            return new RelayError(403, ErrorTypes.Permission, "Admin endpoints are off: set adminKey in relay.json or RELAY_ADMIN_KEY.", false);
        }

        var presented = ClientCredentials.Read(context.Request.Headers);
        if (presented is null)
        {
            return strangers.Refuse(context, new RelayError(401, ErrorTypes.Authentication, "This admin endpoint needs the admin key (x-api-key or Authorization: Bearer).", false));
        }

        return CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(presented)), _adminKeyHash)
            ? null
            : strangers.Refuse(context, new RelayError(403, ErrorTypes.Permission, "This endpoint needs the admin key; client keys cannot use it.", false));
    }
}
