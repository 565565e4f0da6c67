using Relay.Endpoints.Admin;
using Relay.Errors;

namespace Relay.WebConsole;

/// <summary>
/// The web console under <c>{basePath}/console</c>: the app shell for every page path (the script shows the page the
/// URL names, so deep links and reload work), its embedded assets, and under <c>/console/api</c> the session routes
/// the key holder's own key (<c>/me</c>), and the admin resource handlers behind <see cref="ConsoleGate"/> instead of
/// the admin key.
/// </summary>
internal static class WebConsoleEndpoints
{
    public const string Prefix = "/console";

    public static IServiceCollection AddWebConsole(this IServiceCollection services)
    {
        services.AddSingleton<ConsoleSessions>();
        services.AddSingleton<ConsoleGate>();
        services.AddSingleton<ConsoleSessionEndpoints>();
        services.AddSingleton<ConsoleMeEndpoint>();
        services.AddSingleton<ConsoleAssets>();
        return services;
    }

    public static void MapWebConsole(this IEndpointRouteBuilder api)
    {
        var console = api.MapGroup(Prefix);
        console.MapGet("/", WithHeaders(ServePageAsync));
        console.MapGet("/{**path}", WithHeaders(ServePageAsync));

        var consoleApi = console.MapGroup("/api");
        consoleApi.MapPost("/session", c => c.RequestServices.GetRequiredService<ConsoleSessionEndpoints>().SignInAsync(c));
        consoleApi.MapGet("/session", c => c.RequestServices.GetRequiredService<ConsoleSessionEndpoints>().GetAsync(c));
        consoleApi.MapDelete("/session", c => c.RequestServices.GetRequiredService<ConsoleSessionEndpoints>().SignOutAsync(c));
        consoleApi.MapGet("/me", c => c.RequestServices.GetRequiredService<ConsoleMeEndpoint>().GetAsync(c));
        // Every console API answer, the session routes' and the resource handlers' alike, carries the console's headers.
        ((IEndpointConventionBuilder)consoleApi).Add(builder =>
        {
            var inner = builder.RequestDelegate!;
            builder.RequestDelegate = WithHeaders(c => inner(c));
        });
        AdminApi.MapResources<ConsoleGate>(consoleApi);
    }

    private static RequestDelegate WithHeaders(RequestDelegate next) => context =>
    {
        ConsoleHeaders.Apply(context.Response);
        return next(context);
    };

    /// <summary>An asset by its path, the shell for any page path; an unknown asset or API path is a 404.</summary>
    private static async Task ServePageAsync(HttpContext context)
    {
        var path = (string?)context.Request.RouteValues["path"] ?? "";
        var assets = context.RequestServices.GetRequiredService<ConsoleAssets>();
        var asset = path.StartsWith("assets/", StringComparison.Ordinal) ? assets.Find(path)
            : path == "api" || path.StartsWith("api/", StringComparison.Ordinal) ? null
            : assets.Shell;
        if (asset is null)
        {
            await ErrorResponses.WriteAsync(context, RelayError.NotFound("Not found in the console."));
            return;
        }

        context.Response.ContentType = asset.ContentType;
        context.Response.Headers.ETag = asset.ETag;
        if (context.Request.Headers.IfNoneMatch == asset.ETag)
        {
            context.Response.StatusCode = 304;
            return;
        }

        await context.Response.Body.WriteAsync(asset.Bytes, context.RequestAborted);
    }
}
