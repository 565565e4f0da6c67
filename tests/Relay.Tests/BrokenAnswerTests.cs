using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Relay.Configuration;
using Relay.Tests.Infrastructure;

namespace Relay.Tests;

/// <summary>An <c>anthropic</c> provider whose answer is not what it claims (a stream without its end, a page or a
/// stray body behind a 200, a connection cut inside an event) is failing: the client is told, the record says so, and
/// while nothing has reached the client another route may still answer.</summary>
public sealed class BrokenAnswerTests : IAsyncLifetime
{
    private FakeUpstream _backup = null!;

    private FakeUpstream Upstream { get; set; } = null!;

    private RelayTestServer Server { get; set; } = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        Upstream = await FakeUpstream.StartAsync();
        _backup = await FakeUpstream.StartAsync();
        var config = RelayTestServer.DefaultConfig(Upstream.BaseUrl);
        config.Providers["backup"] = new() { Type = "anthropic", BaseUrl = _backup.BaseUrl, ApiKey = "k2" };
        config.Models["with-backup"] = new() { Routes = ["up/first", "backup/second"] };
        config.Models["claude-sonnet-4-6"] = new() { Routes = ["up/upstream-sonnet"], MaxAttempts = 1 };
        Server = await RelayTestServer.StartAsync(config);
    }

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        await Upstream.DisposeAsync();
        await _backup.DisposeAsync();
    }

    [Fact]
    public async Task StreamThatEndsWithoutMessageStop_EndsWithAnErrorEvent_AndIsRecordedAsFailed()
    {
        var events = Responses.StreamEvents(["half ", "an answer"]);
        Upstream.Handler = (ctx, _) => Responses.Stream(ctx, events.Take(events.Count - 2)); // no message_delta, no message_stop

        using var response = await Server.Client.PostAsync("v1/messages", JsonBody.Of(JsonBody.Message("claude-sonnet-4-6", stream: true)), Ct);
        var transcript = SseTranscript.Parse(await response.Content.ReadAsStringAsync(Ct));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("error", transcript[^1].Name);
        Assert.Contains("ended before the answer was finished", (string?)transcript[^1].Data["error"]!["message"], StringComparison.Ordinal);
        var record = Assert.Single(await Server.WaitForUsageAsync(1));
        Assert.Equal("api_error", record.ErrorType);
    }

    [Fact]
    public async Task HtmlPageBehindA200_IsTheProvidersFailure_AndTheNextRouteAnswers()
    {
        Upstream.Handler = (ctx, _) => Page(ctx, 200, "<html><body>Welcome to nginx!</body></html>");
        _backup.Handler = (ctx, _) => Responses.Json(ctx, 200, Responses.MessageJson("from the backup"));

        using var response = await Server.Client.PostAsync("v1/messages", JsonBody.Of(JsonBody.Message("with-backup")), Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("from the backup", await response.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        var record = Assert.Single(await Server.WaitForUsageAsync(1));
        Assert.Equal(2, record.Attempts);
        Assert.Contains("up/first 502", record.AttemptLog, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GarbageStreamBehindA200_WithNoOtherRoute_IsAClearError()
    {
        Upstream.Handler = async (ctx, _) =>
        {
            ctx.Response.ContentType = "text/event-stream";
            await ctx.Response.WriteAsync("upstream connect error or disconnect/reset before headers", ctx.RequestAborted);
        };

        using var response = await Server.Client.PostAsync("v1/messages", JsonBody.Of(JsonBody.Message("claude-sonnet-4-6", stream: true)), Ct);

        var error = await AnthropicAssert.IsErrorAsync(response, HttpStatusCode.BadGateway, "api_error", retryable: true);
        Assert.Contains("'up'", error.Message, StringComparison.Ordinal);
        Assert.Contains("upstream connect error", error.Message, StringComparison.Ordinal);
        Assert.Equal(502, Assert.Single(await Server.WaitForUsageAsync(1)).Status);
    }

    [Fact]
    public async Task JsonOfAnotherShapeBehindA200_IsRecordedAsTheProvidersFailure()
    {
        Upstream.Handler = (ctx, _) => Responses.Json(ctx, 200, """{"code":0,"msg":"success","data":null}""");

        using var response = await Server.Client.PostAsync("v1/messages", JsonBody.Of(JsonBody.Message("claude-sonnet-4-6")), Ct);
        await response.Content.ReadAsStringAsync(Ct);

        var record = Assert.Single(await Server.WaitForUsageAsync(1));
        Assert.Equal("api_error", record.ErrorType);
    }

    [Fact]
    public async Task ConnectionCutInsideAnEvent_ThePartialEventNeverReachesTheClient()
    {
        var events = Responses.StreamEvents(["whole ", "cut"]);
        const string partial = "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"tru";
        Upstream.Handler = async (ctx, _) =>
        {
            ctx.Response.ContentType = "text/event-stream";
            await ctx.Response.WriteAsync(string.Concat(events.Take(3)) + partial, ctx.RequestAborted);
            await ctx.Response.Body.FlushAsync(ctx.RequestAborted);
            await Task.Delay(100, ctx.RequestAborted);
            ctx.Abort();
        };

        using var response = await Server.Client.PostAsync("v1/messages", JsonBody.Of(JsonBody.Message("claude-sonnet-4-6", stream: true)), Ct);
        var text = await response.Content.ReadAsStringAsync(Ct);

        Assert.StartsWith(string.Concat(events.Take(3)), text, StringComparison.Ordinal);
        Assert.DoesNotContain("\"tru", text, StringComparison.Ordinal);
        var transcript = SseTranscript.Parse(text); // a strict parser: every data line is whole JSON
        Assert.Equal(4, transcript.Count);
        Assert.Equal("error", transcript[^1].Name);
    }

    [Fact]
    public async Task EventsSplitAcrossManyWrites_ArriveWhole_AndTheStreamIsByteExact()
    {
        var expected = string.Concat(Responses.StreamEvents(["one ", "two ", "three"]));
        var bytes = Encoding.UTF8.GetBytes(expected);
        Upstream.Handler = async (ctx, _) =>
        {
            ctx.Response.ContentType = "text/event-stream";
            for (var i = 0; i < bytes.Length; i += 7)
            {
                await ctx.Response.Body.WriteAsync(bytes.AsMemory(i, Math.Min(7, bytes.Length - i)), ctx.RequestAborted);
                await ctx.Response.Body.FlushAsync(ctx.RequestAborted);
            }
        };

        using var response = await Server.Client.PostAsync("v1/messages", JsonBody.Of(JsonBody.Message("claude-sonnet-4-6", stream: true)), Ct);

        Assert.Equal(expected, await response.Content.ReadAsStringAsync(Ct));
        Assert.Null(Assert.Single(await Server.WaitForUsageAsync(1)).ErrorType);
    }

    private static async Task Page(HttpContext context, int status, string html)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/html";
        await context.Response.WriteAsync(html, context.RequestAborted);
    }
}
