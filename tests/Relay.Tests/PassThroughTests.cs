using System.Net;
using System.Text;
using Relay.Tests.Infrastructure;

namespace Relay.Tests;

/// <summary>Anthropic-native providers get the client's request faithfully; the client gets the upstream's bytes.</summary>
public sealed class PassThroughTests : RelayWithUpstream
{
    [Fact]
    public async Task NonStreaming_ResponseBytesReachClientUnchanged()
    {
        // Odd spacing and key order that a re-serialiser would normalise away.
        var upstreamBody = "{ \"type\":\"message\",  \"id\":\"msg_x\", \"content\":[{\"type\":\"text\",\"text\":\"caf\\u00e9 ☕\"}],\n\"usage\":{\"output_tokens\":3,\"input_tokens\":7}, \"role\":\"assistant\",\"model\":\"m\",\"stop_reason\":\"end_turn\",\"stop_sequence\":null }";
        Upstream.Handler = (ctx, _) => Responses.Json(ctx, 200, upstreamBody);

        using var response = await Server.Client.PostAsync("v1/messages", JsonBody.Of(JsonBody.Message("claude-sonnet-4-6")), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(Encoding.UTF8.GetBytes(upstreamBody), await response.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Streaming_ResponseBytesReachClientUnchanged()
    {
        var events = Responses.StreamEvents(["Hel", "lo ", "wörld"]);
        Upstream.Handler = (ctx, _) => Responses.Stream(ctx, events);

        using var response = await Server.Client.PostAsync("v1/messages", JsonBody.Of(JsonBody.Message("claude-sonnet-4-6", stream: true)), TestContext.Current.CancellationToken);

        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(string.Concat(events), await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Request_ModelRewrittenAndEverythingElseByteIdentical()
    {
        var body = "{\"max_tokens\": 100,\n  \"model\" : \"claude-sonnet-4-6\", \"messages\":[{\"role\":\"user\",\"content\":\"hé \\u2603\"}], \"context_management\":{\"edits\":[]}, \"thinking\":{\"type\":\"adaptive\"}}";
        using var response = await Server.Client.PostAsync("v1/messages", JsonBody.Of(body), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(body.Replace("\"claude-sonnet-4-6\"", "\"upstream-sonnet\"", StringComparison.Ordinal), Upstream.LastRequest.BodyText);
    }

    [Fact]
    public async Task RelaySignedThinking_IsRemovedBeforeAnAnthropicUpstream_RealThinkingIsKept()
    {
        // A conversation that began on a translated (openai) route, now on an anthropic one: Anthropic would answer
        // 400 to Relay's own signatures, but genuine ones must reach it unchanged.
        var body = """{"model":"claude-sonnet-4-6","max_tokens":100,"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":[{"type":"thinking","thinking":"translated","signature":"relay-translated-thinking-v1"},{"type":"text","text":"hello"}]},{"role":"user","content":"again"},{"role":"assistant","content":[{"type":"thinking","thinking":"real","signature":"EqQBCkgIARABGAIiQ"},{"type":"text","text":"ok"}]},{"role":"user","content":"more"}]}""";

        using var response = await Server.Client.PostAsync("v1/messages", JsonBody.Of(body), Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var sent = Upstream.LastRequest.BodyText;
        Assert.DoesNotContain("relay-translated-thinking-v1", sent, StringComparison.Ordinal);
        Assert.Contains("""{"type":"thinking","thinking":"real","signature":"EqQBCkgIARABGAIiQ"}""", sent, StringComparison.Ordinal);
        Assert.Contains("""[{"type":"text","text":"hello"}]""", sent, StringComparison.Ordinal);
        Assert.Contains("\"model\":\"upstream-sonnet\"", sent, StringComparison.Ordinal);
    }
}
