using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Relay.Tests.Infrastructure;

namespace Relay.Tests;

/// <summary>Many concurrent requests through a flaky upstream: no hung client, no unhandled exception, exactly one
/// usage record per request with the status the client saw, and memory back near where it started.</summary>
/// <remarks>Bounded to a few hundred requests so the suite stays fast; bench/ has the long version.</remarks>
public sealed class SoakTests : IAsyncLifetime
{
    private const int Requests = 300;
    private const int Concurrency = 30;
    private readonly CountingLoggerProvider _logs = new();
    private FakeUpstream _upstream = null!;
    private RelayTestServer _relay = null!;

    public async ValueTask InitializeAsync()
    {
        _upstream = await FakeUpstream.StartAsync();
        _upstream.Handler = FlakyAsync;
        var config = RelayTestServer.DefaultConfig(null);
        config.Providers["a"] = new() { Type = "anthropic", BaseUrl = _upstream.BaseUrl, ApiKey = "ka", TimeoutSeconds = 1, IdleTimeoutSeconds = 1 };
        config.Providers["b"] = new() { Type = "anthropic", BaseUrl = _upstream.BaseUrl, ApiKey = "kb", TimeoutSeconds = 1, IdleTimeoutSeconds = 1 };
        config.Models["flaky"] = new() { Routes = ["a/one", "b/two"], RetryBudgetSeconds = 5 };
        _relay = await RelayTestServer.StartAsync(config, builder => builder.Logging.AddProvider(_logs));
    }

    public async ValueTask DisposeAsync()
    {
        await _relay.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    [Fact]
    public async Task ConcurrentStreamsThroughAFlakyUpstream_NothingHangsAndEveryRequestHasOneRecord()
    {
        await RunAsync(20, 5); // warm up JIT, pools and the SQLite connection before the baseline
        await _relay.WaitForUsageAsync(20);
        var baseline = ManagedMemory();

        var outcomes = await RunAsync(Requests, Concurrency);

        Assert.Equal(Requests, outcomes.Count);
        Assert.All(outcomes, o => Assert.NotEqual(0, o.Status)); // 0 would mean the client timed out: a hung request
        var records = (await _relay.WaitForUsageAsync(Requests + 20, TimeSpan.FromSeconds(30))).ToDictionary(r => r.RequestId);
        Assert.Equal(Requests + 20, records.Count);
        foreach (var (requestId, status, streamError) in outcomes)
        {
            var record = records[requestId];
            Assert.Equal(status, record.Status);
            if (streamError)
            {
                Assert.NotNull(record.ErrorType);
            }
        }

        Assert.Contains(outcomes, o => o.Status == 200);
        Assert.Contains(records.Values, r => r.Attempts > 1); // the flakiness really was retried
        Assert.Empty(_logs.Errors);
        Assert.True(ManagedMemory() < baseline + (48L << 20), $"managed memory grew from {baseline >> 20} MB to {ManagedMemory() >> 20} MB");
    }

    private async Task<List<(string RequestId, int Status, bool StreamError)>> RunAsync(int count, int concurrency)
    {
        var results = new List<(string, int, bool)>();
        using var gate = new SemaphoreSlim(concurrency);
        var tasks = Enumerable.Range(0, count).Select(async i =>
        {
            await gate.WaitAsync(TestContext.Current.CancellationToken);
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
                timeout.CancelAfter(TimeSpan.FromSeconds(20));
                var stream = i % 2 == 0;
                try
                {
                    using var response = await _relay.Client.PostAsync("v1/messages", JsonBody.Of(JsonBody.Message("flaky", stream)), timeout.Token);
                    var text = await response.Content.ReadAsStringAsync(timeout.Token);
                    var streamError = stream && response.StatusCode == HttpStatusCode.OK && text.Contains("event: error", StringComparison.Ordinal);
                    if (stream && response.StatusCode == HttpStatusCode.OK)
                    {
                        Assert.True(streamError || text.EndsWith("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n", StringComparison.Ordinal), text);
                    }

                    lock (results)
                    {
                        results.Add((response.Headers.GetValues("request-id").Single(), (int)response.StatusCode, streamError));
                    }
                }
                catch (OperationCanceledException)
                {
                    lock (results)
                    {
                        results.Add(("hung", 0, false));
                    }
                }
            }
            finally
            {
                gate.Release();
            }
        });
        await Task.WhenAll(tasks);
        return results;
    }

    /// <summary>Fails a third of the time, in every way real providers do.</summary>
    private static async Task FlakyAsync(HttpContext context, CapturedRequest request)
    {
        var roll = Random.Shared.Next(100);
        var stream = request.BodyText.Contains("\"stream\":true", StringComparison.Ordinal);
        await Task.Delay(Random.Shared.Next(0, 20), context.RequestAborted);
        switch (roll)
        {
            case < 10:
                await Responses.Json(context, 529, Responses.ErrorJson("overloaded_error", "Overloaded"));
                return;
            case < 15:
                context.Response.StatusCode = 500;
                await context.Response.WriteAsync("<html>oops</html>", context.RequestAborted);
                return;
            case < 20:
                await Task.Delay(TimeSpan.FromSeconds(3), context.RequestAborted); // past the 1 s first-byte timeout
                return;
            case < 25:
                context.Abort(); // connection dropped before any answer
                return;
            case < 30 when stream:
                await Responses.Stream(context, Responses.StreamEvents(["a", "b", "c"]).Take(3));
                await Task.Delay(20, context.RequestAborted);
                context.Abort(); // dropped mid-stream
                return;
            default:
                if (stream)
                {
                    await Responses.Stream(context, Responses.StreamEvents(["a", "b", "c"]), TimeSpan.FromMilliseconds(2));
                }
                else
                {
                    await Responses.Json(context, 200, Responses.MessageJson());
                }

                return;
        }
    }

    private static long ManagedMemory()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        return GC.GetTotalMemory(forceFullCollection: true);
    }
}
