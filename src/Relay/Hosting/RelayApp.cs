using Microsoft.AspNetCore.Diagnostics;
using Relay.Accounting;
using Relay.Auth;
using Relay.Configuration;
using Relay.Endpoints;
using Relay.Endpoints.Admin;
using Relay.Errors;
using Relay.Protocol.Anthropic;
using Relay.Protocol.Text;
using Relay.Routing;
using Relay.Storage;
using Relay.Storage.Accounts;
using Relay.Telemetry;
using Relay.Tls;
using Relay.Upstreams;
using Relay.Usage;
using Relay.WebConsole;

namespace Relay.Hosting;

/// <summary>Builds the Relay web application from a validated config and a store; used by <c>relay serve</c> and tests.</summary>
internal static class RelayApp
{
    public static WebApplication Build(RelayConfig config, IRelayStore store, Action<WebApplicationBuilder>? customize = null)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ContentRootPath = AppContext.BaseDirectory,
            EnvironmentName = Environments.Production,
        });

        builder.WebHost.UseUrls([.. config.Listen]);
        // Loaded once here; the validator has already checked that it loads.
        var certificate = config.Tls is null ? null : TlsCertificateLoader.Load(config, config.SourcePath ?? "relay.json");
        if (certificate is not null)
        {
            // The slim builder leaves HTTPS out unless asked for, which keeps plain-HTTP start-up lean.
            builder.WebHost.UseKestrelHttpsConfiguration();
        }

        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = config.MaxRequestBodyMB * 1024L * 1024L;
            if (certificate is not null)
            {
                kestrel.ConfigureHttpsDefaults(https => https.ServerCertificate = certificate);
            }
        });

        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(console =>
        {
            console.SingleLine = true;
            console.TimestampFormat = "HH:mm:ss ";
        });
        builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
        builder.Logging.AddFilter("System.Net.Http", LogLevel.Warning);

        var services = builder.Services;
        services.AddSingleton(config);
        services.AddSingleton(store);
        services.AddSingleton<IApiKeyStore>(store);
        services.AddSingleton<IUsageStore>(store);
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(StoreChangesOf(store));
        services.AddSingleton<ShutdownDrain>();
        services.Configure<HostOptions>(options => options.ShutdownTimeout = ShutdownDrain.HostShutdownTimeout(config));
        services.AddSingleton(new ModelCatalog(config.Models));
        services.AddSingleton<UpstreamRegistry>();
        services.AddSingleton<ScenarioRouter>();
        services.AddSingleton<RouteHealthRegistry>();
        services.AddSingleton<RoutePlanner>();
        services.AddSingleton<IProviderCorrectionStore>(store);
        services.AddSingleton<LearnedCorrections>();
        services.AddHostedService(provider => provider.GetRequiredService<LearnedCorrections>());
        services.AddSingleton<IPriceStore>(store);
        services.AddSingleton<PriceBook>();
        services.AddSingleton<IPriceBook>(provider => provider.GetRequiredService<PriceBook>());
        services.AddHostedService(provider => provider.GetRequiredService<PriceBook>());
        services.AddSingleton<UsageCost>();
        services.AddSingleton<UpstreamDispatcher>();
        services.AddHostedService<HealthCheckService>();
        services.AddSingleton<AdminHandler>();
        services.AddAdminApi();
        services.AddWebConsole();
        services.AddSingleton<AdminCredential>();
        services.AddSingleton<ClientAuthenticator>();
        services.AddSingleton<KeyAccess>();
        services.AddSingleton<IAdmissionStore>(store);
        services.AddRedis(config, store);
        services.AddSingleton<KeyAdmission>();
        services.AddSingleton<UnauthenticatedRequests>();
        services.AddSingleton<UsageSpool>();
        services.AddSingleton<UsageDelivery>();
        services.AddSingleton<UsageQueue>();
        // Hosted services stop in reverse order: the writer delivers its last records before the replay stops.
        services.AddHostedService<UsageReplay>();
        services.AddHostedService<UsageWriter>();
        services.AddSingleton<MessagesHandler>();
        services.AddSingleton<ModelsHandler>();
        services.AddRelayMetrics(config);

        customize?.Invoke(builder);

        var app = builder.Build();
        TrustedProxies.Use(app, config);
        app.UseMiddleware<RequestIdMiddleware>();
        app.UseStatusCodePages(AnswerBareStatusAsync);
        app.UseRelayMetrics(config.BasePath);
        app.MapRelayApi(config.BasePath);
        return app;
    }

    /// <summary>The change hub, hearing this instance's own key and user changes from its store.</summary>
    private static StoreChanges StoreChangesOf(IRelayStore store)
    {
        var changes = new StoreChanges();
        store.KeysChanged += () => changes.MadeHere(StoreChange.Keys);
        return changes;
    }

    /// <summary>Gives routing's bodiless 404 and 405 answers an Anthropic error body.</summary>
    private static Task AnswerBareStatusAsync(StatusCodeContext statusContext)
    {
        var context = statusContext.HttpContext;
        var status = context.Response.StatusCode;
        var error = status switch
        {
            404 => new RelayError(404, ErrorTypes.NotFound, $"Not found: {context.Request.Method} {ClientText.Shorten(context.Request.Path.ToString())}. Relay serves /v1/messages, /v1/messages/count_tokens and /v1/models.", false),
            405 => new RelayError(405, ErrorTypes.InvalidRequest, $"Method {context.Request.Method} is not allowed on {ClientText.Shorten(context.Request.Path.ToString())}.", false),
            _ => new RelayError(status, ErrorTypes.ForStatus(status), $"HTTP {status}.", status >= 500),
        };
        return ErrorResponses.WriteAsync(context, error);
    }
}
