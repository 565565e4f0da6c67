using System.Net.Http.Headers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Relay.Auth;
using Relay.Configuration;
using Relay.Hosting;
using Relay.Storage;
using Relay.Storage.Sqlite;

namespace Relay.Tests.Infrastructure;

/// <summary>Relay itself, over real Kestrel on a loopback port, with its own SQLite file and one client key.</summary>
public sealed class RelayTestServer : IAsyncDisposable
{
    private readonly string _directory;

    private RelayTestServer(string directory, WebApplication app, IRelayStore store, string key, string baseUrl, RelayConfig config)
    {
        _directory = directory;
        App = app;
        Store = store;
        Key = key;
        BaseUrl = baseUrl;
        Config = config;
        Client = CreateClient(key);
    }

    internal WebApplication App { get; }

    public IRelayStore Store { get; }

    /// <summary>A valid Relay key named "test".</summary>
    public string Key { get; }

    /// <summary>The root URL including basePath, without a trailing slash.</summary>
    public string BaseUrl { get; }

    internal RelayConfig Config { get; }

    /// <summary>The server's own temp folder (its relay.db lives here).</summary>
    public string Directory => _directory;

    /// <summary>Writes the config as the relay.json it came from, so CLI commands (setup, keys) can read it and
    /// share the server's database.</summary>
    public string WriteConfigFile()
    {
        var path = Config.SourcePath!;
        File.WriteAllText(path, System.Text.Json.JsonSerializer.Serialize(Config, ConfigJsonContext.Default.RelayConfig));
        return path;
    }

    /// <summary>A client that sends <see cref="Key"/> as x-api-key.</summary>
    public HttpClient Client { get; }

    /// <summary>A config with a mock provider "demo" (no chunk delay) and, when given, an anthropic provider "up".</summary>
    internal static RelayConfig DefaultConfig(string? upstreamBaseUrl)
    {
        var config = new RelayConfig { Listen = ["http://127.0.0.1:0"] };
        config.Providers["demo"] = new ProviderConfig { Type = "mock", ChunkDelayMs = 0 };
        config.Models["claude-haiku-*"] = new ModelConfig { Routes = ["demo/echo"] };
        if (upstreamBaseUrl is not null)
        {
            config.Providers["up"] = new ProviderConfig { Type = "anthropic", BaseUrl = upstreamBaseUrl, ApiKey = "sk-upstream-secret-123456" };
            config.Models["claude-sonnet-4-6"] = new ModelConfig { Routes = ["up/upstream-sonnet"], Family = "sonnet" };
        }

        return config;
    }

    internal static async Task<RelayTestServer> StartAsync(RelayConfig config, Action<WebApplicationBuilder>? customize = null, string keyName = "test")
    {
        var directory = Path.Combine(Path.GetTempPath(), "relay-tests", Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(directory);
        config.SourcePath ??= Path.Combine(directory, "relay.json");
        ConfigValidator.Validate(config, "test config");

        var store = await StoreFactory.OpenAsync(config, CancellationToken.None);
        var key = ApiKeys.Generate();
        await store.CreateKeyAsync(keyName, ApiKeys.Hash(key), ApiKeys.DisplayPrefix(key), CancellationToken.None);

        var app = RelayApp.Build(config, store, builder =>
        {
            builder.Logging.SetMinimumLevel(LogLevel.Warning);
            customize?.Invoke(builder);
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new RelayTestServer(directory, app, store, key, address.TrimEnd('/') + config.BasePath, config);
    }

    public HttpClient CreateClient(string? key = null, bool bearer = false)
    {
        var client = new HttpClient { BaseAddress = new Uri(BaseUrl + "/"), Timeout = TimeSpan.FromSeconds(30) };
        if (key is not null)
        {
            if (bearer)
            {
                client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
            }
            else
            {
                client.DefaultRequestHeaders.Add("x-api-key", key);
            }
        }

        client.DefaultRequestHeaders.Add("anthropic-version", "2023-06-01");
        return client;
    }

    /// <summary>One route's entry in <c>GET /v1/routes</c>, read with the admin key.</summary>
    public async Task<System.Text.Json.JsonElement> RouteAsync(string adminKey, string route)
    {
        using var admin = CreateClient(adminKey);
        using var json = System.Text.Json.JsonDocument.Parse(await admin.GetStringAsync("v1/routes", TestContext.Current.CancellationToken));
        return json.RootElement.GetProperty("routes").EnumerateArray().Single(r => r.GetProperty("route").GetString() == route).Clone();
    }

    /// <summary>Waits until at least <paramref name="count"/> usage records are stored; newest first.</summary>
    public async Task<IReadOnlyList<UsageRecord>> WaitForUsageAsync(int count, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        while (true)
        {
            var records = await Store.GetRecentUsageAsync(1000, CancellationToken.None);
            if (records.Count >= count || DateTime.UtcNow > deadline)
            {
                return records;
            }

            await Task.Delay(25);
        }
    }

    /// <summary>Stops the host gracefully, as Ctrl-C does.</summary>
    public async Task StopAsync()
    {
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await App.StopAsync(stop.Token);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await StopAsync();
        await App.DisposeAsync();
        await Store.DisposeAsync();
        try
        {
            System.IO.Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // A file still held open on shutdown is only a leftover temp file.
        }
    }
}
