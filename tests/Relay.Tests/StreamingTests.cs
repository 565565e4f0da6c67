using System.Diagnostics;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Http;
using Relay.Tests.Infrastructure;

namespace Relay.Tests;

/// <summary>Streams pass through as they happen: unbuffered, cancelled with the client, and always properly ended.</summary>
public sealed class StreamingTests : IAsyncLifetime
{
    private FakeUpstream _upstream = null!;
    private RelayTestServer _relay = null!;

    public async ValueTask InitializeAsync()
    {
        _upstream = await FakeUpstream.StartAsync();
        var config = RelayTestServer.DefaultConfig(_upstream.BaseUrl);
        config.Providers["slow"] = new() { Type = "anthropic", BaseUrl = _upstream.BaseUrl, ApiKey = "k", TimeoutSeconds = 1, IdleTimeoutSeconds = 1 };
        config.Models["slow-model"] = new() { Routes = ["slow/upstream-slow"] };
        config.Providers["pinging"] = new() { Type = "anthropic", BaseUrl = _upstream.BaseUrl, ApiKey = "k", PingIntervalSeconds = 1, IdleTimeoutSeconds = 5 };
        config.Models["pinged"] = new() { Routes = ["pinging/upstream-pinged"] };
        _relay = await RelayTestServer.StartAsync(config);
    }

    public async ValueTask DisposeAsync()
    {
        await _relay.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    [Fact]
    public async Task Stream_IsNotBuffered_FirstEventArrivesLongBeforeTheLastIsSent()
    {
        await UnbufferedStreamCheck.RunAsync(_upstream, _relay.Client, "claude-sonnet-4-6");
    }

    [Fact]
    public async Task ClientDisconnect_CancelsTheUpstreamRequestPromptly()
    {
        var upstreamAborted = new TaskCompletionSource();
        _upstream.Handler = async (ctx, _) =>
        {
            ctx.RequestAborted.Register(() => upstreamAborted.TrySetResult());
            try
            {
                await Responses.Stream(ctx, Responses.StreamEvents(Enumerable.Repeat("x", 200).ToArray()), TimeSpan.FromMilliseconds(100));
            }
            catch (OperationCanceledException)
            {
            }
        };

        using (var request = new HttpRequestMessage(HttpMethod.Post, "v1/messages") { Content = JsonBody.Of(JsonBody.Message("claude-sonnet-4-6", stream: true)) })
        using (var response = await _relay.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, TestContext.Current.CancellationToken))
        {
            await using var body = await response.Content.ReadAsStreamAsync(TestContext.Current.CancellationToken);
            Assert.True(await body.ReadAsync(new byte[1024], TestContext.Current.CancellationToken) > 0);
        } // disposing the response closes the client's connection mid-stream

        var finished = await Task.WhenAny(upstreamAborted.Task, Task.Delay(TimeSpan.FromSeconds(3), TestContext.Current.CancellationToken));
        Assert.Same(upstreamAborted.Task, finished);

        var record = (await _relay.WaitForUsageAsync(1)).Single();
        Assert.Equal(499, record.Status);
        Assert.True(record.Streamed);
        // What was known when the client left is kept: the attempt, and the tokens message_start reported.
        Assert.Equal(1, record.Attempts);
        Assert.StartsWith("up/upstream-sonnet cancelled", record.AttemptLog, StringComparison.Ordinal);
        Assert.Equal(20, record.InputTokens);
        Assert.Equal(("up", "upstream-sonnet"), (record.Provider, record.UpstreamModel));
    }

    [Fact]
    public async Task UpstreamDropsMidStream_ClientGetsAnErrorEventAndAProperlyEndedStream()
    {
        var events = Responses.StreamEvents(["a", "b", "c"]);
        _upstream.Handler = async (ctx, _) =>
        {
            await Responses.Stream(ctx, events.Take(4));
            await Task.Delay(50);
            ctx.Abort();
        };

        using var response = await _relay.Client.PostAsync("v1/messages", JsonBody.Of(JsonBody.Message("claude-sonnet-4-6", stream: true)), TestContext.Current.CancellationToken);
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith(string.Concat(events.Take(4)), text, StringComparison.Ordinal);
        var tail = text[string.Concat(events.Take(4)).Length..];
        Assert.StartsWith("event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"api_error\"", tail, StringComparison.Ordinal);
        Assert.Contains("'up'", tail, StringComparison.Ordinal);
        Assert.EndsWith("\n\n", tail, StringComparison.Ordinal);

        var record = (await _relay.WaitForUsageAsync(1)).Single();
        Assert.Equal("api_error", record.ErrorType);
        Assert.Equal(20, record.InputTokens); // from message_start, which did arrive
    }

    [Fact]
    public async Task UpstreamGoesSilentMidStream_IdleTimeoutEndsTheStreamWithAnError()
    {
        var events = Responses.StreamEvents(["a"]);
        _upstream.Handler = async (ctx, _) =>
        {
            await Responses.Stream(ctx, events.Take(2));
            await Task.Delay(TimeSpan.FromSeconds(10), ctx.RequestAborted);
        };

        var started = Stopwatch.GetTimestamp();
        using var response = await _relay.Client.PostAsync("v1/messages", JsonBody.Of(JsonBody.Message("slow-model", stream: true)), TestContext.Current.CancellationToken);
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);

        Assert.True(Stopwatch.GetElapsedTime(started) < TimeSpan.FromSeconds(5));
        Assert.Contains("event: error", text, StringComparison.Ordinal);
        Assert.Contains("no data for 1 s", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SilentUpstream_ClientGetsPingsBetweenEventsAndTheStreamStaysIntact()
    {
        var events = Responses.StreamEvents(["a", "b"]);
        _upstream.Handler = async (ctx, _) =>
        {
            await Responses.Stream(ctx, events.Take(2));
            await Task.Delay(TimeSpan.FromSeconds(2.6), ctx.RequestAborted);
            await ctx.Response.Body.WriteAsync(Encoding.UTF8.GetBytes(string.Concat(events.Skip(2))), ctx.RequestAborted);
        };

        using var response = await _relay.Client.PostAsync("v1/messages", JsonBody.Of(JsonBody.Message("pinged", stream: true)), TestContext.Current.CancellationToken);
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);

        const string ping = "event: ping\ndata: {\"type\": \"ping\"}\n\n";
        var head = string.Concat(events.Take(2));
        var rest = string.Concat(events.Skip(2));
        Assert.StartsWith(head, text, StringComparison.Ordinal);
        Assert.EndsWith(rest, text, StringComparison.Ordinal);
        var inserted = text[head.Length..^rest.Length];
        // About two pings in 2.6 s of silence at a 1 s interval (a ping counts as output, so they do not bunch up),
        // each a whole event between the upstream's events.
        Assert.Equal("", inserted.Replace(ping, "", StringComparison.Ordinal));
        Assert.InRange(inserted.Length / ping.Length, 1, 3);
    }

    [Fact]
    public async Task Stream_UsageRecordCarriesTheStreamedNumbers()
    {
        _upstream.Handler = (ctx, _) => Responses.Stream(ctx, Responses.StreamEvents(["x", "y"], input: 21, output: 13, cacheWrite: 5, cacheRead: 100));

        using var response = await _relay.Client.PostAsync("v1/messages", JsonBody.Of(JsonBody.Message("claude-sonnet-4-6", stream: true)), TestContext.Current.CancellationToken);
        await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);

        var record = (await _relay.WaitForUsageAsync(1)).Single();
        Assert.Equal((21L, 13L, 5L, 100L), (record.InputTokens, record.OutputTokens, record.CacheCreationInputTokens, record.CacheReadInputTokens));
        Assert.True(record.Streamed);
        Assert.Equal(200, record.Status);
        Assert.Null(record.ErrorType);
        Assert.NotNull(record.FirstByteMs);
        Assert.True(record.DurationMs >= record.FirstByteMs);
    }
}
