using Microsoft.AspNetCore.Builder;
using Relay.Configuration;

namespace Relay.Tests.Infrastructure;

/// <summary>A test class's pair of real servers: a scripted fake upstream, and Relay in front of it with the default
/// test config (provider "up" → model claude-sonnet-4-6; mock "demo" → claude-haiku-*).</summary>
public abstract class RelayWithUpstream : IAsyncLifetime
{
    protected FakeUpstream Upstream { get; private set; } = null!;

    protected RelayTestServer Server { get; private set; } = null!;

    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        Upstream = await FakeUpstream.StartAsync();
        var config = RelayTestServer.DefaultConfig(Upstream.BaseUrl);
        Configure(config);
        Server = await RelayTestServer.StartAsync(config, Customize);
    }

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        await Upstream.DisposeAsync();
        GC.SuppressFinalize(this);
    }

    /// <summary>Adjusts the config before Relay starts.</summary>
    private protected virtual void Configure(RelayConfig config)
    {
    }

    /// <summary>Adjusts Relay's host (services, logging) before it starts.</summary>
    private protected virtual void Customize(WebApplicationBuilder builder)
    {
    }
}
