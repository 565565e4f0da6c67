using Microsoft.Extensions.DependencyInjection.Extensions;
using Relay.Errors;
using Relay.Storage;
using Relay.Storage.Accounts;

namespace Relay.Endpoints.Admin;

/// <summary>
/// The admin HTTP API under <c>{basePath}/admin/api/</c>: users, keys, prices and the usage log, described by
/// <c>openapi.json</c>. Every endpoint is behind <see cref="AdminGate"/>, checked here once so none can forget it.
/// </summary>
internal static class AdminApi
{
    public const string Prefix = "/admin/api";

    public static IServiceCollection AddAdminApi(this IServiceCollection services)
    {
        services.TryAddSingleton<IUserStore>(provider => provider.GetRequiredService<IRelayStore>());
        services.TryAddSingleton<IUsageStore>(provider => provider.GetRequiredService<IRelayStore>());
        services.AddSingleton<AdminGate>();
        services.AddSingleton<AdminUsersEndpoints>();
        services.AddSingleton<AdminKeysEndpoints>();
        services.AddSingleton<AdminPricesEndpoints>();
        services.AddSingleton<AdminUsageEndpoints>();
        services.AddSingleton<AdminOpenApi>();
        services.AddSingleton<KeyStatusHandler>();
        return services;
    }

    public static void MapAdminApi(this IEndpointRouteBuilder api)
    {
        var admin = api.MapGroup(Prefix);
        MapResources<AdminGate>(admin);
        admin.MapGet("/openapi.json", Gated<AdminGate, AdminOpenApi>((e, c) => e.ServeAsync(c)));
    }

    /// <summary>Maps the users, keys, prices and usage routes onto <paramref name="group"/>, each behind
    /// <typeparamref name="TGate"/>: the admin key here, the console's session in the web console.</summary>
    public static void MapResources<TGate>(RouteGroupBuilder group)
        where TGate : IRequestGate
    {
        group.MapGet("/users", Gated<TGate, AdminUsersEndpoints>((e, c) => e.ListAsync(c)));
        group.MapPost("/users", Gated<TGate, AdminUsersEndpoints>((e, c) => e.CreateAsync(c)));
        group.MapGet("/users/{name}", Gated<TGate, AdminUsersEndpoints>((e, c) => e.GetAsync(c)));
        group.MapPost("/users/{name}/topup", Gated<TGate, AdminUsersEndpoints>((e, c) => e.TopUpAsync(c)));

        group.MapGet("/keys", Gated<TGate, AdminKeysEndpoints>((e, c) => e.ListAsync(c)));
        group.MapPost("/keys", Gated<TGate, AdminKeysEndpoints>((e, c) => e.CreateAsync(c)));
        group.MapGet("/keys/{name}", Gated<TGate, AdminKeysEndpoints>((e, c) => e.GetAsync(c)));
        group.MapPatch("/keys/{name}", Gated<TGate, AdminKeysEndpoints>((e, c) => e.UpdateAsync(c)));
        group.MapDelete("/keys/{name}", Gated<TGate, AdminKeysEndpoints>((e, c) => e.RevokeAsync(c)));
        group.MapPost("/keys/{name}/disable", Gated<TGate, AdminKeysEndpoints>((e, c) => e.DisableAsync(c)));
        group.MapPost("/keys/{name}/enable", Gated<TGate, AdminKeysEndpoints>((e, c) => e.EnableAsync(c)));

        // A price's model may be provider/upstream-model: the catch-all takes the slash.
        group.MapGet("/prices", Gated<TGate, AdminPricesEndpoints>((e, c) => e.ListAsync(c)));
        group.MapPut("/prices/{**model}", Gated<TGate, AdminPricesEndpoints>((e, c) => e.PutAsync(c)));
        group.MapDelete("/prices/{**model}", Gated<TGate, AdminPricesEndpoints>((e, c) => e.DeleteAsync(c)));

        group.MapGet("/usage", Gated<TGate, AdminUsageEndpoints>((e, c) => e.PageAsync(c)));
        group.MapGet("/usage/totals", Gated<TGate, AdminUsageEndpoints>((e, c) => e.TotalsAsync(c)));
        group.MapGet("/usage.csv", Gated<TGate, AdminUsageEndpoints>((e, c) => e.CsvAsync(c)));
    }

    /// <summary>The endpoint's handler behind the gate's check.</summary>
    private static RequestDelegate Gated<TGate, T>(Func<T, HttpContext, Task> handle)
        where TGate : IRequestGate
        where T : notnull => async context =>
    {
        if (context.RequestServices.GetRequiredService<TGate>().Authorize(context) is { } error)
        {
            await ErrorResponses.WriteAsync(context, error);
            return;
        }

        await handle(context.RequestServices.GetRequiredService<T>(), context);
    };
}
