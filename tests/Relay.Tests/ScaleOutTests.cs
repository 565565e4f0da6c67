using System.Diagnostics;
using System.Net;
using Relay.Storage;
using Relay.Storage.Accounts;
using Relay.Tests.Infrastructure;

namespace Relay.Tests;

/// <summary>
/// Two real <c>relay serve</c> processes on one real PostgreSQL database and one real Redis, as a station behind a
/// load balancer runs them: a budget is never spent twice, every request has exactly one usage record, a revocation
/// through one instance reaches the other within a second, and an instance killed mid-load costs the other nothing.
/// </summary>
public sealed class ScaleOutTests(SharedPostgres postgres)
{
    /// <summary>What one request costs here: 10 input tokens at $3/M and 1,000 output tokens at $15/M (the shipped
    /// claude-sonnet-4-6 price), as the fake upstream reports them.</summary>
    private const long CostNanos = (10 * 3_000) + (1_000 * 15_000);

    /// <summary>More than one request's reservation can be: its 1,000 output tokens, and its few input tokens
    /// estimated at the dearest input rate ($6/M, one-hour cache writes) with a generous margin.</summary>
    private const long ReservationBoundNanos = (1_000 * 15_000) + (200 * 6_000);

    [Fact]
    public async Task Budget_SharedByTwoInstances_IsNeverSpentTwice_AndEveryRequestHasOneRecord()
    {
        const int covered = 5;
        await using var redis = await RedisServer.StartNewAsync();
        await using var station = await StartAsync(redis);
        // Slow enough that the requests overlap: every admission sees the others' reservations, not their costs.
        station.Upstream.Handler = async (context, _) =>
        {
            await Task.Delay(300, context.RequestAborted);
            await Responses.Json(context, 200, Responses.MessageJson(input: 10, output: 1_000));
        };
        var key = await station.CreateKeyAsync("shared-budget", new KeyLimits { BudgetNanos = covered * CostNanos });
        using var first = station.Client(0, key);
        using var second = station.Client(1, key);

        var answers = await Task.WhenAll(Enumerable.Range(0, 4 * covered)
            .Select(i => SharedStation.SendAsync(i % 2 == 0 ? first : second, maxTokens: 1_000)));
        await station.StopAllAsync();

        var served = answers.Count(a => a.Status == HttpStatusCode.OK);
        Assert.All(answers, a => Assert.True(a.Status is HttpStatusCode.OK or HttpStatusCode.PaymentRequired, $"{a.Status}: {a.Body}"));
        Assert.All(answers.Where(a => a.Status != HttpStatusCode.OK), a => Assert.Contains("budget", a.Body, StringComparison.OrdinalIgnoreCase));
        // Admitted while anything is left after what the others hold: at most one request's reservation past the budget.
        Assert.InRange(served, 1, covered + 1);
        var records = await station.UsageByRequestIdAsync();
        Assert.Equal(answers.Select(a => a.RequestId!).Order(), records.Keys.Order());
        var spent = (await station.Store.FindKeyAsync("shared-budget", CancellationToken.None))!.SpentNanos;
        Assert.Equal(records.Values.Sum(r => r.CostNanos ?? 0), spent);
        Assert.Equal(served * CostNanos, spent);
        Assert.True(spent < (covered * CostNanos) + ReservationBoundNanos, $"spent {spent} nanodollars of a {covered * CostNanos} budget");
    }

    [Fact]
    public async Task KeyRevokedThroughOneInstance_IsRefusedByTheOther_WithinOneSecond()
    {
        await using var redis = await RedisServer.StartNewAsync();
        await using var station = await StartAsync(redis);
        var key = await station.CreateKeyAsync("leaving");
        Assert.Contains($"redis:    redis 127.0.0.1:{redis.Port}", station.Instance(1).Stdout, StringComparison.Ordinal);
        using var other = station.Client(1, key);
        // The other instance has the key in its cache now, where it would stay for seconds without the change feed.
        Assert.Equal(HttpStatusCode.OK, (await SharedStation.SendAsync(other)).Status);

        using var admin = new HttpClient { BaseAddress = new Uri(station.Urls[0] + "/") };
        admin.DefaultRequestHeaders.Add("x-api-key", SharedStation.AdminKey);
        var clock = Stopwatch.StartNew();
        using (var revoked = await admin.DeleteAsync("admin/api/keys/leaving", TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.NoContent, revoked.StatusCode);
        }

        SharedStation.Answer answer;
        do
        {
            answer = await SharedStation.SendAsync(other);
        }
        while (answer.Status == HttpStatusCode.OK && clock.Elapsed < TimeSpan.FromSeconds(5));

        Assert.Equal(HttpStatusCode.Unauthorized, answer.Status);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"the other instance still served the revoked key after {clock.Elapsed.TotalMilliseconds:F0} ms");
        await station.StopAllAsync();
    }

    [Fact]
    public async Task InstanceKilledMidLoad_LosesNothingTheOtherAccepted()
    {
        await using var redis = await RedisServer.StartNewAsync();
        await using var station = await StartAsync(redis);
        station.Upstream.Handler = async (context, _) =>
        {
            await Task.Delay(20, context.RequestAborted);
            await Responses.Json(context, 200, Responses.MessageJson());
        };
        var key = await station.CreateKeyAsync("busy", new KeyLimits { RequestsPerMinute = 100_000, Concurrency = 100 });
        using var doomed = station.Client(0, key, TimeSpan.FromSeconds(30));
        using var survivor = station.Client(1, key, TimeSpan.FromSeconds(30));
        var answers = new Answers();
        using var stop = new CancellationTokenSource();

        async Task SendUntilStoppedAsync(int instance, HttpClient client)
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    answers.Add(instance, await SharedStation.SendAsync(client));
                }
                catch (HttpRequestException)
                {
                    // The killed instance: connection refused or reset.
                    await Task.Delay(20);
                }
            }
        }

        var senders = Enumerable.Range(0, 8).Select(i => SendUntilStoppedAsync(i % 2, i % 2 == 0 ? doomed : survivor)).ToList();
        await WaitUntilAsync(() => answers.All.Count(a => a.Instance == 1) >= 40);
        station.Instance(0).Kill();
        var atKill = answers.All.Count(a => a.Instance == 1);
        await WaitUntilAsync(() => answers.All.Count(a => a.Instance == 1) >= atKill + 40);
        await stop.CancelAsync();
        await Task.WhenAll(senders);
        await station.StopAllAsync();

        var survived = answers.All.Where(a => a.Instance == 1).Select(a => a.Answer).ToList();
        Assert.All(survived, a => Assert.Equal(HttpStatusCode.OK, a.Status));
        var records = await station.UsageByRequestIdAsync();
        var missing = survived.Select(a => a.RequestId!).Where(id => !records.ContainsKey(id)).ToList();
        Assert.True(missing.Count == 0, $"{missing.Count} of {survived.Count} requests the surviving instance answered have no usage record");
    }

    [Fact]
    public async Task DatabaseDownForTenSecondsUnderLoad_EveryRequestIsServedOrRefusedCleanly_AndEveryRecordArrives()
    {
        // A server of this test's own: it is stopped and started again.
        await using var server = await PostgresServer.StartNewAsync();
        await using var redis = await RedisServer.StartNewAsync();
        await using var station = await SharedStation.StartAsync(2, server.Url(await server.CreateDatabaseAsync()), redis.Url);
        station.Upstream.Handler = async (context, _) =>
        {
            await Task.Delay(20, context.RequestAborted);
            await Responses.Json(context, 200, Responses.MessageJson());
        };
        var plain = await station.CreateKeyAsync("plain");
        var metered = await station.CreateKeyAsync("metered", new KeyLimits { BudgetNanos = Usd.ToNanos(1_000) });
        var clients = new[] { station.Client(0, plain), station.Client(1, plain), station.Client(0, metered), station.Client(1, metered) };
        var answers = new Answers();
        using var stop = new CancellationTokenSource();

        async Task SendUntilStoppedAsync(int index)
        {
            while (!stop.IsCancellationRequested)
            {
                answers.Add(index, await SharedStation.SendAsync(clients[index]));
                await Task.Delay(10);
            }
        }

        var senders = Enumerable.Range(0, 8).Select(i => SendUntilStoppedAsync(i % clients.Length)).ToList();
        await WaitUntilAsync(() => answers.All.Count >= 40);
        await server.StopAsync();
        var down = Stopwatch.StartNew();
        var beforeOutage = answers.All.Count;
        await Task.Delay(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        var duringOutage = answers.All.Count - beforeOutage;
        await server.StartAsync();
        var back = answers.All.Count;
        await WaitUntilAsync(() => answers.All.Skip(back).Count(a => a.Answer.Status == HttpStatusCode.OK && a.Instance >= 2) >= 20);
        await stop.CancelAsync();
        await Task.WhenAll(senders);

        var all = answers.All.Select(a => a.Answer).ToList();
        // Served, or refused the way a client can act on: a 503 in Anthropic's shape, with a request-id. Never a 500.
        Assert.All(all, a =>
        {
            Assert.True(a.Status is HttpStatusCode.OK or HttpStatusCode.ServiceUnavailable, $"{a.Status}: {a.Body}");
            Assert.NotNull(a.RequestId);
            if (a.Status != HttpStatusCode.OK)
            {
                Assert.Contains("\"type\":\"error\"", a.Body, StringComparison.Ordinal);
            }
        });
        Assert.True(duringOutage > 0, "no request was answered while the database was down: requests hung");
        // Keys without money limits need only the key (known already) and Redis: they are served through the outage.
        Assert.Contains(answers.All, a => a.Instance < 2 && a.Answer.Status == HttpStatusCode.OK);
        var served = all.Where(a => a.Status == HttpStatusCode.OK).Select(a => a.RequestId!).ToHashSet();
        Dictionary<string, UsageRecord> records = [];
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline && !served.IsSubsetOf((records = await station.UsageByRequestIdAsync()).Keys))
        {
            await Task.Delay(200, TestContext.Current.CancellationToken);
        }

        var missing = served.Where(id => !records.ContainsKey(id)).ToList();
        Assert.True(missing.Count == 0, $"{missing.Count} of {served.Count} served requests have no usage record {down.Elapsed.TotalSeconds:F0} s after the outage began");
        await station.StopAllAsync();
        Assert.Equal(all.Select(a => a.RequestId!).Order(), (await station.UsageByRequestIdAsync()).Keys.Order());
        foreach (var client in clients)
        {
            client.Dispose();
        }
    }

    private async Task<SharedStation> StartAsync(RedisServer redis)
    {
        var server = await postgres.ServerAsync();
        return await SharedStation.StartAsync(2, server.Url(await server.CreateDatabaseAsync()), redis.Url);
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the load did not get going within 60 s");
            await Task.Delay(20);
        }
    }
}
