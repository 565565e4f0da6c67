using Relay.Configuration;
using Relay.Upstreams;

namespace Relay.Routing;

/// <summary>Probes each provider that has a <c>healthCheck</c> on its interval and marks it up or down, so the
/// router skips a dead provider before users' requests hit it.</summary>
internal sealed class HealthCheckService(RelayConfig config, UpstreamRegistry upstreams, RouteHealthRegistry health,
    TimeProvider time, ILogger<HealthCheckService> logger) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(config.Providers
            .Where(p => p.Value.HealthCheck is not null)
            .Select(p => ProbeLoopAsync(p.Key, p.Value.HealthCheck!, stoppingToken)));

    private async Task ProbeLoopAsync(string provider, HealthCheckConfig check, CancellationToken stoppingToken)
    {
        var interval = TimeSpan.FromSeconds(check.IntervalSeconds);
        using var timer = new PeriodicTimer(interval, time);
        do
        {
            string? problem;
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                timeout.CancelAfter(TimeSpan.FromSeconds(Math.Min(10, check.IntervalSeconds)));
                problem = await upstreams[provider].ProbeAsync(check.Path, timeout.Token);
            }
            catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
            {
                problem = "health check timed out";
            }
            catch (OperationCanceledException)
            {
                return;
            }

            var wasUp = health.IsProviderUp(provider);
            health.ReportProviderHealth(provider, problem is null, problem);
            if (wasUp != (problem is null))
            {
                Log.ProviderHealthChanged(logger, provider, problem is null ? "up" : "down", problem ?? "health check passed");
            }
        }
        while (await WaitAsync(timer, stoppingToken));
    }

    private static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken stoppingToken)
    {
        try
        {
            return await timer.WaitForNextTickAsync(stoppingToken);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
