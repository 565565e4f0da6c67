using System.Collections.Concurrent;
using System.Net;
using System.Text;
using Relay.Auth;
using Relay.Storage;
using Relay.Storage.Accounts;
using Relay.Storage.Postgres;

namespace Relay.Tests.Infrastructure;

/// <summary>
/// A station as an operator runs one for scale: several real <c>relay serve</c> processes on one PostgreSQL database
/// and one Redis, in front of a <see cref="FakeUpstream"/>, with a store handle of the test's own to set up keys and
/// read what the instances wrote.
/// </summary>
public sealed class SharedStation : IAsyncDisposable
{
    public const string AdminKey = "station-admin-key-0123456789abcdef";
    public const string Model = "claude-sonnet-4-6";

    private readonly TempDirectory _directory = new();
    private readonly List<RelayProcess> _instances = [];
    private readonly List<string> _urls = [];

    private SharedStation(FakeUpstream upstream, string database, string? redis, PostgresRelayStore store)
    {
        Upstream = upstream;
        DatabaseUrl = database;
        RedisUrl = redis;
        Store = store;
    }

    public FakeUpstream Upstream { get; }

    public string DatabaseUrl { get; }

    public string? RedisUrl { get; }

    /// <summary>The test's own view of the database (keys, users, usage records).</summary>
    public PostgresRelayStore Store { get; }

    public IReadOnlyList<string> Urls => [.. _urls];

    public string ConfigPath => _directory.File("relay.json");

    /// <param name="database">A PostgreSQL URL (<see cref="PostgresServer.Url"/>).</param>
    /// <param name="redis">A Redis URL, or null for PostgreSQL alone.</param>
    public static async Task<SharedStation> StartAsync(int instances, string database, string? redis)
    {
        var upstream = await FakeUpstream.StartAsync();
        var store = new PostgresRelayStore(database);
        await store.InitializeAsync(CancellationToken.None);
        var station = new SharedStation(upstream, database, redis, store);
        await File.WriteAllTextAsync(station.ConfigPath, $$"""
            {
              "database": "{{database}}",
              {{(redis is null ? "" : $"\"redis\": \"{redis}\",")}}
              "adminKey": "{{AdminKey}}",
              "providers": { "up": { "type": "anthropic", "baseUrl": "{{upstream.BaseUrl}}", "apiKey": "upstream-key" } },
              "models": { "{{Model}}": { "routes": ["up/{{Model}}"], "family": "sonnet" } }
            }
            """);
        for (var i = 0; i < instances; i++)
        {
            await station.StartInstanceAsync();
        }

        return station;
    }

    public RelayProcess Instance(int index) => _instances[index];

    /// <summary>Starts one more <c>relay serve</c> on the station's config and waits until it listens.</summary>
    public async Task<int> StartInstanceAsync()
    {
        var url = $"http://127.0.0.1:{ServerProcess.FreePort()}";
        var process = RelayProcess.Start(_directory.Path, "serve", "--config", ConfigPath, "--listen", url);
        _instances.Add(process);
        _urls.Add(url);
        await process.WaitForOutputAsync("Press Ctrl+C", TimeSpan.FromSeconds(60));
        return _instances.Count - 1;
    }

    /// <summary>A new key, made straight in the database; the key itself is returned.</summary>
    public async Task<string> CreateKeyAsync(string name, KeyLimits? limits = null, string? user = null)
    {
        var key = ApiKeys.Generate();
        await Store.CreateKeyAsync(new NewApiKey(name, ApiKeys.Hash(key), ApiKeys.DisplayPrefix(key))
        {
            UserName = user,
            Limits = limits ?? new KeyLimits(),
        }, CancellationToken.None);
        return key;
    }

    public HttpClient Client(int instance, string key, TimeSpan? timeout = null)
    {
        var client = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { BaseAddress = new Uri(_urls[instance] + "/"), Timeout = timeout ?? TimeSpan.FromSeconds(60) };
        client.DefaultRequestHeaders.Add("x-api-key", key);
        client.DefaultRequestHeaders.Add("anthropic-version", "2023-06-01");
        return client;
    }

    /// <summary>One small Messages request; what came back, with its request-id.</summary>
    public static async Task<Answer> SendAsync(HttpClient client, int maxTokens = 100, bool stream = false)
    {
        using var content = new StringContent(
            $$"""{"model":"{{Model}}","max_tokens":{{maxTokens}},"stream":{{(stream ? "true" : "false")}},"messages":[{"role":"user","content":"Hello"}]}""",
            Encoding.UTF8, "application/json");
        using var response = await client.PostAsync("v1/messages", content);
        var body = await response.Content.ReadAsStringAsync();
        return new Answer(response.StatusCode, response.Headers.TryGetValues("request-id", out var ids) ? ids.Single() : null, body);
    }

    /// <summary>Stops every instance still running with Ctrl-C, as an operator's restart does, and checks each exits 0.</summary>
    public async Task StopAllAsync()
    {
        foreach (var instance in _instances)
        {
            if (!instance.HasExited)
            {
                instance.Interrupt();
            }
        }

        foreach (var instance in _instances)
        {
            if (!instance.Killed)
            {
                Assert.True(0 == await instance.WaitForExitAsync(TimeSpan.FromSeconds(60)), $"relay exited non-zero:\n{instance.Stderr}");
            }
        }
    }

    /// <summary>Every usage record in the database, by request id.</summary>
    public async Task<Dictionary<string, UsageRecord>> UsageByRequestIdAsync()
    {
        var records = new Dictionary<string, UsageRecord>(StringComparer.Ordinal);
        long? before = null;
        while (true)
        {
            var page = await Store.GetUsagePageAsync(UsageFilter.All, before, 500, CancellationToken.None);
            foreach (var item in page.Items)
            {
                Assert.True(records.TryAdd(item.Record.RequestId, item.Record), $"two usage records for {item.Record.RequestId}");
            }

            if (page.NextBeforeId is not { } next)
            {
                return records;
            }

            before = next;
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var instance in _instances)
        {
            await instance.DisposeAsync();
        }

        await Store.DisposeAsync();
        await Upstream.DisposeAsync();
        _directory.Dispose();
    }

    public readonly record struct Answer(HttpStatusCode Status, string? RequestId, string Body);
}

/// <summary>Answers gathered from many concurrent senders.</summary>
public sealed class Answers
{
    private readonly ConcurrentBag<(int Instance, SharedStation.Answer Answer)> _all = [];

    public void Add(int instance, SharedStation.Answer answer) => _all.Add((instance, answer));

    public IReadOnlyList<(int Instance, SharedStation.Answer Answer)> All => [.. _all];
}
