using System.Net;
using Microsoft.AspNetCore.Http;
using Relay.Configuration;
using Relay.Tests.Infrastructure;

namespace Relay.Tests;

/// <summary>A graceful stop lets open streams finish within <c>shutdownDrainSeconds</c>; the ones still open at the
/// deadline get an error event and a proper end, and every request keeps its usage record with what was seen.</summary>
public sealed class ShutdownDrainTests : IAsyncLifetime
{
    private FakeUpstream _upstream = null!;
    private RelayTestServer _relay = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _upstream = await FakeUpstream.StartAsync();
        var config = RelayTestServer.DefaultConfig(_upstream.BaseUrl);
        config.ShutdownDrainSeconds = 2;
        config.Providers["station"] = new ProviderConfig { Type = "openai", BaseUrl = _upstream.BaseUrl + "/v1", ApiKey = "sk-station-0123456789", PingIntervalSeconds = 30 };
        config.Models["translated"] = new ModelConfig { Routes = ["station/chat-model"] };
        _relay = await RelayTestServer.StartAsync(config);
    }

    public async ValueTask DisposeAsync()
    {
        await _relay.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    [Fact]
    public async Task StreamsThatOutlastTheDrain_EndWithAnErrorEvent_ShortOnesFinish_AndAllAreRecorded()
    {
        _upstream.Handler = async (ctx, request) =>
        {
            var quick = request.BodyText.Contains("quick", StringComparison.Ordinal);
            var openAI = request.PathAndQuery.StartsWith("/v1/chat", StringComparison.Ordinal);
            if (openAI)
            {
                ctx.Response.ContentType = "text/event-stream";
                await ctx.Response.WriteAsync($"data: {OpenAIUpstreamTests.TextChunk("begun ")}\n\n", ctx.RequestAborted);
                await ctx.Response.WriteAsync($"data: {"""{"id":"c","choices":[],"usage":{"prompt_tokens":33,"completion_tokens":1}}"""}\n\n", ctx.RequestAborted);
                await ctx.Response.Body.FlushAsync(ctx.RequestAborted);
                await Task.Delay(TimeSpan.FromSeconds(60), ctx.RequestAborted);
                return;
            }

            var events = Responses.StreamEvents(["begun ", "end"]);
            await Responses.Stream(ctx, events.Take(4));
            await Task.Delay(quick ? TimeSpan.FromSeconds(0.5) : TimeSpan.FromSeconds(60), ctx.RequestAborted);
            await ctx.Response.WriteAsync(string.Concat(events.Skip(4)), ctx.RequestAborted);
        };

        var longPassThrough = Enumerable.Range(0, 4).Select(_ => ReadStream("claude-sonnet-4-6", "a long answer")).ToList();
        var longTranslated = Enumerable.Range(0, 2).Select(_ => ReadStream("translated", "a long answer")).ToList();
        var quick = ReadStream("claude-sonnet-4-6", "a quick answer");
        await WaitForAsync(() => _upstream.Requests.Count == 7);
        await Task.Delay(300, Ct); // every stream has its first events

        var stopping = Task.Run(_relay.StopAsync, Ct);

        var quickText = await quick;
        Assert.Contains("event: message_stop", quickText, StringComparison.Ordinal);
        Assert.DoesNotContain("event: error", quickText, StringComparison.Ordinal);
        foreach (var stream in longPassThrough.Concat(longTranslated))
        {
            var transcript = SseTranscript.Parse(await stream);
            Assert.Equal("message_start", transcript[0].Name);
            Assert.Equal("error", transcript[^1].Name);
            Assert.Equal("overloaded_error", (string?)transcript[^1].Data["error"]!["type"]);
            Assert.Contains("shutting down", (string?)transcript[^1].Data["error"]!["message"], StringComparison.Ordinal);
        }

        await stopping;
        var records = await _relay.Store.GetRecentUsageAsync(100, Ct);
        Assert.Equal(7, records.Count);
        var stopped = records.Where(r => r.ErrorType == "relay_stopped").ToList();
        Assert.Equal(6, stopped.Count);
        Assert.All(stopped, r => Assert.Equal((200, 1), (r.Status, r.Attempts)));
        Assert.Equal(4, stopped.Count(r => r.InputTokens == 20 && r.Provider == "up"));   // from message_start
        Assert.Equal(2, stopped.Count(r => r.InputTokens == 33 && r.Provider == "station")); // from the usage chunk
        Assert.Single(records, r => r.ErrorType is null && r.Status == 200);
    }

    [Fact]
    public async Task RequestStillWaitingForTheProviderAtTheDeadline_Gets529AndARecord()
    {
        _upstream.Handler = async (ctx, _) => await Task.Delay(TimeSpan.FromSeconds(60), ctx.RequestAborted);

        var waiting = _relay.Client.PostAsync("v1/messages", JsonBody.Of(JsonBody.Message("claude-sonnet-4-6")), Ct);
        await WaitForAsync(() => _upstream.Requests.Count == 1);
        var stopping = Task.Run(_relay.StopAsync, Ct);

        using var response = await waiting;
        var error = await AnthropicAssert.IsErrorAsync(response, (HttpStatusCode)529, "overloaded_error", retryable: true);
        Assert.Contains("shutting down", error.Message, StringComparison.Ordinal);
        await stopping;
        var record = Assert.Single(await _relay.Store.GetRecentUsageAsync(10, Ct));
        Assert.Equal((529, "relay_stopped", 1), (record.Status, record.ErrorType, record.Attempts));
    }

    private async Task<string> ReadStream(string model, string prompt)
    {
        using var response = await _relay.Client.PostAsync("v1/messages", JsonBody.Of(JsonBody.Message(model, stream: true, text: prompt)), Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsStringAsync(Ct);
    }

    private static async Task WaitForAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!condition() && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20, Ct);
        }

        Assert.True(condition());
    }
}
