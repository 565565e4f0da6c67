using System.Net.ServerSentEvents;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Relay.Tests.Infrastructure;

namespace Relay.Tests;

/// <summary>What a client sees of a translated stream while it is still running: tool inputs as they are written,
/// and usage from the first event.</summary>
public sealed class TranslatedStreamTests : IAsyncLifetime
{
    private FakeUpstream _upstream = null!;
    private RelayTestServer _relay = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _upstream = await FakeUpstream.StartAsync();
        _relay = await RelayTestServer.StartAsync(OpenAIUpstreamTests.Config(_upstream.BaseUrl));
    }

    public async ValueTask DisposeAsync()
    {
        await _relay.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    [Fact]
    public async Task ToolInput_ReachesTheClientInPieces_WhileTheProviderIsStillWritingIt()
    {
        var content = string.Concat(Enumerable.Range(1, 40).Select(i => $"line {i}: the quick brown fox ☕\n"));
        var arguments = JsonSerializer.Serialize(new Dictionary<string, string> { ["file_path"] = "/tmp/notes.md", ["content"] = content });
        var fragments = arguments.Chunk(40).Select(c => new string(c)).ToList();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var sentAfterRelease = 0;
        _upstream.Handler = async (ctx, _) =>
        {
            var start = """{"id":"c","choices":[{"index":0,"delta":{"role":"assistant","tool_calls":[{"index":0,"id":"call_w","type":"function","function":{"name":"Write","arguments":""}}]},"finish_reason":null}]}""";
            var firstHalf = fragments.Take(fragments.Count / 2).Select(Fragment).Prepend(start);
            await OpenAIUpstreamTests.OpenAIStream(ctx, firstHalf, TimeSpan.FromMilliseconds(15), done: false);
            // The rest is written only once the client has shown it received tool input already.
            await release.Task.WaitAsync(TimeSpan.FromSeconds(10), ctx.RequestAborted);
            foreach (var fragment in fragments.Skip(fragments.Count / 2))
            {
                sentAfterRelease++;
                await Write(ctx, Fragment(fragment));
            }

            await Write(ctx, """{"id":"c","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}""");
            await Write(ctx, OpenAIUpstreamTests.UsageChunk);
            await Write(ctx, "[DONE]");
        };

        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/messages") { Content = JsonBody.Of(WriteRequest) };
        using var response = await _relay.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, Ct);
        await using var body = await response.Content.ReadAsStreamAsync(Ct);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(20));
        var events = new List<(string Name, JsonObject Data)>();
        var deltasBeforeRelease = 0;
        await foreach (var item in SseParser.Create(body).EnumerateAsync(timeout.Token))
        {
            var data = JsonNode.Parse(item.Data)!.AsObject();
            events.Add((item.EventType, data));
            if ((string?)data["delta"]?["type"] == "input_json_delta" && !release.Task.IsCompleted && ++deltasBeforeRelease == 3)
            {
                Assert.Equal(0, sentAfterRelease);
                release.SetResult();
            }
        }

        Assert.Equal(3, deltasBeforeRelease);
        Assert.Equal("message_stop", events[^1].Name);
        var partials = events.Where(e => (string?)e.Data["delta"]?["type"] == "input_json_delta").Select(e => (string)e.Data["delta"]!["partial_json"]!).ToList();
        Assert.True(partials.Count >= fragments.Count - 1, $"{partials.Count} deltas for {fragments.Count} fragments");
        var input = JsonNode.Parse(string.Concat(partials))!;
        Assert.Equal("/tmp/notes.md", (string?)input["file_path"]);
        Assert.Equal(content, (string?)input["content"]);
        Assert.Equal("tool_use", (string?)events.Single(e => e.Name == "message_delta").Data["delta"]!["stop_reason"]);

        static string Fragment(string arguments) =>
            new JsonObject { ["id"] = "c", ["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["delta"] = new JsonObject { ["tool_calls"] = new JsonArray(new JsonObject { ["index"] = 0, ["function"] = new JsonObject { ["arguments"] = arguments } }) } }) }.ToJsonString();

        static async Task Write(Microsoft.AspNetCore.Http.HttpContext ctx, string data)
        {
            await ctx.Response.Body.WriteAsync(Encoding.UTF8.GetBytes($"data: {data}\n\n"), ctx.RequestAborted);
            await ctx.Response.Body.FlushAsync(ctx.RequestAborted);
        }
    }

    [Fact]
    public async Task MessageStart_CarriesTheCountTokensEstimate_MessageDeltaAndTheUsageRecordTheProvidersNumbers()
    {
        _upstream.Handler = async (ctx, _) =>
        {
            await Task.Delay(300, ctx.RequestAborted); // a provider's time to its first byte, in which Relay counts
            await OpenAIUpstreamTests.OpenAIStream(ctx, [OpenAIUpstreamTests.TextChunk("Done.", "stop"), OpenAIUpstreamTests.UsageChunk]);
        };
        var messages = LargeConversation();

        using var count = await _relay.Client.PostAsync("v1/messages/count_tokens", JsonBody.Of($$"""{"model":"claude-sonnet-4-6",{{messages}}}"""), Ct);
        var estimate = (long)JsonNode.Parse(await count.Content.ReadAsStringAsync(Ct))!["input_tokens"]!;
        using var response = await _relay.Client.PostAsync("v1/messages", JsonBody.Of($$"""{"model":"claude-sonnet-4-6","max_tokens":1000,"stream":true,{{messages}}}"""), Ct);
        var events = SseTranscript.Parse(await response.Content.ReadAsStringAsync(Ct));

        Assert.True(estimate > 2000, $"estimate {estimate}");
        var start = (long)events[0].Data["message"]!["usage"]!["input_tokens"]!;
        Assert.InRange(start, estimate * 95 / 100, estimate * 105 / 100);
        var final = events.Single(e => e.Name == "message_delta").Data["usage"]!;
        Assert.Equal((200L, 1000L, 7L), ((long)final["input_tokens"]!, (long)final["cache_read_input_tokens"]!, (long)final["output_tokens"]!));
        var record = (await _relay.WaitForUsageAsync(2)).Single(r => r.Endpoint != "count_tokens");
        Assert.Equal((200L, 1000L, 7L), (record.InputTokens, record.CacheReadInputTokens, record.OutputTokens));
    }

    private const string WriteRequest = """
        {"model":"claude-sonnet-4-6","max_tokens":4000,"stream":true,"messages":[{"role":"user","content":"Write the notes."}],
         "tools":[{"name":"Write","input_schema":{"type":"object","properties":{"file_path":{"type":"string"},"content":{"type":"string"}},"required":["file_path","content"]}}]}
        """;

    /// <summary>About 15 KB of system prompt, conversation and tools, like a Claude Code turn.</summary>
    private static string LargeConversation()
    {
        var turns = new JsonArray();
        for (var i = 0; turns.ToJsonString().Length < 13_000; i++)
        {
            turns.Add(new JsonObject { ["role"] = "user", ["content"] = $"Step {i}: refactor ParseConfig in src/config{i}.cs so it returns errors instead of throwing, and keep the public API stable." });
            turns.Add(new JsonObject { ["role"] = "assistant", ["content"] = $"Done with step {i}; the tests in ConfigTests{i} pass and nothing else changed." });
        }

        turns.Add(new JsonObject { ["role"] = "user", ["content"] = "Summarise." });
        const string Tools = """
            "tools":[{"name":"Read","description":"Reads a file.","input_schema":{"type":"object","properties":{"file_path":{"type":"string"}}}}]
            """;
        return $"\"system\":\"You are a careful coding assistant.\",\"messages\":{turns.ToJsonString()},{Tools}";
    }
}
