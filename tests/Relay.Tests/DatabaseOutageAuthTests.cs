using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Relay.Auth;
using Relay.Storage;
using Relay.Tests.Infrastructure;

namespace Relay.Tests;

/// <summary>
/// Relay over real Kestrel on a real PostgreSQL server that is stopped: keys this instance confirmed lately keep
/// working (nothing can be revoked in a database that is down), any other key gets a retryable 503 in the client's
/// protocol with a request-id, never a 500, and everything is back to normal once the database answers.
/// </summary>
public sealed class DatabaseOutageAuthTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task DatabaseDown_RecentlySeenKeysAreServed_OthersGetA503InTheirProtocol()
    {
        await using var postgres = await PostgresServer.StartNewAsync();
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var config = RelayTestServer.DefaultConfig(null);
        config.Database = postgres.Url(await postgres.CreateDatabaseAsync());
        await using var relay = await RelayTestServer.StartAsync(config, builder => builder.Services.AddSingleton<TimeProvider>(clock));
        var unseen = ApiKeys.Generate();
        await relay.Store.CreateKeyAsync(new NewApiKey("unseen", ApiKeys.Hash(unseen), ApiKeys.DisplayPrefix(unseen)), Ct);
        using var unseenClient = relay.CreateClient(unseen);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(relay.Client)).StatusCode);

        await postgres.StopAsync();
        // Long past the key cache's 5 s: the store is asked, and does not answer.
        clock.Advance(ClientAuthenticator.CacheTime + TimeSpan.FromSeconds(1));

        using (var known = await SendAsync(relay.Client))
        {
            Assert.Equal(HttpStatusCode.OK, known.StatusCode);
        }

        using (var refused = await SendAsync(unseenClient))
        {
            await AssertUnavailableAsync(refused, anthropic: true);
        }

        using (var chat = await unseenClient.PostAsync("v1/chat/completions",
            JsonBody.Of("""{"model":"claude-haiku-4-5","messages":[{"role":"user","content":"Hi"}]}"""), Ct))
        {
            await AssertUnavailableAsync(chat, anthropic: false);
        }

        using (var status = await unseenClient.GetAsync("v1/key", Ct))
        {
            await AssertUnavailableAsync(status, anthropic: true);
        }

        // A key not confirmed for longer than the grace is not taken on trust any more.
        clock.Advance(ClientAuthenticator.OutageGrace);
        using (var stale = await SendAsync(relay.Client))
        {
            await AssertUnavailableAsync(stale, anthropic: true);
        }

        await postgres.StartAsync();
        using var back = await SendAsync(unseenClient);
        Assert.Equal(HttpStatusCode.OK, back.StatusCode);
    }

    private static Task<HttpResponseMessage> SendAsync(HttpClient client) =>
        client.PostAsync("v1/messages", JsonBody.Of(JsonBody.Message("claude-haiku-4-5", text: "ping")), Ct);

    private static async Task AssertUnavailableAsync(HttpResponseMessage response, bool anthropic)
    {
        var body = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.StatusCode == HttpStatusCode.ServiceUnavailable, $"{response.StatusCode}: {body}");
        Assert.True(response.Headers.Contains("request-id"));
        using var json = JsonDocument.Parse(body);
        var error = json.RootElement.GetProperty("error");
        Assert.Contains("could not check this API key", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        if (anthropic)
        {
            Assert.Equal("error", json.RootElement.GetProperty("type").GetString());
            Assert.Equal("api_error", error.GetProperty("type").GetString());
        }
        else
        {
            Assert.False(json.RootElement.TryGetProperty("type", out _));
        }
    }
}
