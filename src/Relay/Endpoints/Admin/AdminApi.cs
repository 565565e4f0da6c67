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

        admin.MapGet("/users", Admin<AdminUsersEndpoints>((e, c) => e.ListAsync(c)));
        admin.MapPost("/users", Admin<AdminUsersEndpoints>((e, c) => e.CreateAsync(c)));
        admin.MapGet("/users/{name}", Admin<AdminUsersEndpoints>((e, c) => e.GetAsync(c)));
        admin.MapPost("/users/{name}/topup", Admin<AdminUsersEndpoints>((e, c) => e.TopUpAsync(c)));

        admin.MapGet("/keys", Admin<AdminKeysEndpoints>((e, c) => e.ListAsync(c)));
        admin.MapPost("/keys", Admin<AdminKeysEndpoints>((e, c) => e.CreateAsync(c)));
        admin.MapGet("/keys/{name}", Admin<AdminKeysEndpoints>((e, c) => e.GetAsync(c)));
        admin.MapPatch("/keys/{name}", Admin<AdminKeysEndpoints>((e, c) => e.UpdateAsync(c)));
        admin.MapDelete("/keys/{name}", Admin<AdminKeysEndpoints>((e, c) => e.RevokeAsync(c)));
        admin.MapPost("/keys/{name}/disable", Admin<AdminKeysEndpoints>((e, c) => e.DisableAsync(c)));
        admin.MapPost("/keys/{name}/enable", Admin<AdminKeysEndpoints>((e, c) => e.EnableAsync(c)));

        // A price's model may be provider/upstream-model: the catch-all takes the slash.
        admin.MapGet("/prices", Admin<AdminPricesEndpoints>((e, c) => e.ListAsync(c)));
        admin.MapPut("/prices/{**model}", Admin<AdminPricesEndpoints>((e, c) => e.PutAsync(c)));
        admin.MapDelete("/prices/{**model}", Admin<AdminPricesEndpoints>((e, c) => e.DeleteAsync(c)));

        admin.MapGet("/usage", Admin<AdminUsageEndpoints>((e, c) => e.PageAsync(c)));
        admin.MapGet("/usage/totals", Admin<AdminUsageEndpoints>((e, c) => e.TotalsAsync(c)));
        admin.MapGet("/usage.csv", Admin<AdminUsageEndpoints>((e, c) => e.CsvAsync(c)));

        admin.MapGet("/openapi.json", Admin<AdminOpenApi>((e, c) => e.ServeAsync(c)));
    }

    /// <summary>The endpoint's handler behind the admin key check.</summary>
    private static RequestDelegate Admin<T>(Func<T, HttpContext, Task> handle)
        where T : notnull => async context =>
    {
        if (context.RequestServices.GetRequiredService<AdminGate>().Authorize(context) is { } error)
        {
            await ErrorResponses.WriteAsync(context, error);
            return;
        }

        await handle(context.RequestServices.GetRequiredService<T>(), context);
    };
}
