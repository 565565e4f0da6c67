using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Relay.Tests.Infrastructure;

/// <summary>A request the fake upstream received, captured whole.</summary>
public sealed record CapturedRequest(string Method, string PathAndQuery, IReadOnlyDictionary<string, string> Headers, byte[] Body)
{
    public string BodyText => System.Text.Encoding.UTF8.GetString(Body);

    public string? Header(string name) => Headers.TryGetValue(name.ToLowerInvariant(), out var value) ? value : null;
}

/// <summary>An upstream provider under the test's control: real Kestrel on a loopback port, scripted per test.</summary>
public sealed class FakeUpstream : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<CapturedRequest> _requests = new();

    private FakeUpstream(WebApplication app) => _app = app;

    /// <summary>What the upstream does with each request; replace it per test.</summary>
    public Func<HttpContext, CapturedRequest, Task> Handler { get; set; } = (context, _) => Responses.Json(context, 200, Responses.MessageJson());

    public IReadOnlyCollection<CapturedRequest> Requests => _requests;

    public CapturedRequest LastRequest => _requests.Last();

    public string BaseUrl { get; private set; } = "";

    public static async Task<FakeUpstream> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var upstream = new FakeUpstream(app);
        app.Run(async context =>
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body, context.RequestAborted);
            var headers = context.Request.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value.ToString());
            var captured = new CapturedRequest(context.Request.Method, context.Request.Path + context.Request.QueryString, headers, body.ToArray());
            upstream._requests.Enqueue(captured);
            await upstream.Handler(context, captured);
        });
        await app.StartAsync();
        upstream.BaseUrl = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return upstream;
    }

    public async ValueTask DisposeAsync()
    {
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await _app.StopAsync(stop.Token);
        await _app.DisposeAsync();
    }
}
