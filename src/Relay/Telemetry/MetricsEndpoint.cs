using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using Relay.Configuration;
using Relay.Endpoints.Admin;
using Relay.Errors;

namespace Relay.Telemetry;

/// <summary>Wires <c>GET /metrics</c> (Prometheus text, OpenTelemetry's exporter): on the main listener behind the admin
/// key, and, when <c>metricsListen</c> is set, without a key on that address alone.</summary>
internal static class MetricsEndpoint
{
    public const string Path = "/metrics";

    public static void AddRelayMetrics(this IServiceCollection services, RelayConfig config)
    {
        var own = new OwnMeter();
        services.AddSingleton(own);
        services.AddSingleton<RelayMetrics>();
        services.AddOpenTelemetry().ConfigureResource(resource => resource.AddService("relay")).WithMetrics(metrics => metrics
            .AddMeter(RelayMetrics.MeterName)
            // ASP.NET Core's own meter: http.server.request.duration and http.server.active_requests, by route.
            .AddMeter("Microsoft.AspNetCore.Hosting")
            .AddView(instrument => own.IsForeign(instrument.Meter) ? MetricStreamConfiguration.Drop : null)
            // Each scrape sees the numbers as they are now: a scraper asks seldom, and tests compare before and after.
            .AddPrometheusExporter(options => options.ScrapeResponseCacheDurationMilliseconds = 0));
        if (config.MetricsListen is not null)
        {
            services.AddHostedService<MetricsListener>();
        }
    }

    /// <summary>Serves <c>{basePath}/metrics</c> to the admin key only; everyone else gets the admin endpoints' 401/403.</summary>
    public static void UseRelayMetrics(this IApplicationBuilder app, string basePath)
    {
        // Made now rather than at the first request, so a scrape before any traffic already shows the routes' circuits.
        app.ApplicationServices.GetRequiredService<RelayMetrics>();
        var path = basePath + Path;
        app.UseOpenTelemetryPrometheusScrapingEndpoint(
            meterProvider: null,
            predicate: context => HttpMethods.IsGet(context.Request.Method) && context.Request.Path.Equals(path, StringComparison.Ordinal),
            path: null,
            configureBranchedPipeline: branch => branch.Use(async (context, next) =>
            {
                if (context.RequestServices.GetRequiredService<AdminGate>().Authorize(context) is { } error)
                {
                    await ErrorResponses.WriteAsync(context, error);
                    return;
                }

                await next(context);
            }),
            optionsName: null);
    }

    /// <summary>The unauthenticated metrics listener's whole pipeline: <c>GET /metrics</c>, and 404 for anything else.</summary>
    public static void UseMetricsOnly(this IApplicationBuilder app, MeterProvider provider)
    {
        app.UseOpenTelemetryPrometheusScrapingEndpoint(
            meterProvider: provider,
            predicate: context => HttpMethods.IsGet(context.Request.Method) && context.Request.Path.Equals(Path, StringComparison.Ordinal),
            path: null,
            configureBranchedPipeline: null,
            optionsName: null);
        app.Run(context =>
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return Task.CompletedTask;
        });
    }
}
