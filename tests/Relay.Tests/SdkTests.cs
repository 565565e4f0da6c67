using System.Text.Json;
using System.Text.Json.Nodes;
using Anthropic;
using Anthropic.Core;
using Anthropic.Exceptions;
using Anthropic.Models.Messages;
using Anthropic.Models.Models;
using Relay.Configuration;
using Relay.Tests.Infrastructure;

namespace Relay.Tests;

/// <summary>
/// The official Anthropic SDKs, unchanged, pointed at Relay: C# (NuGet <c>Anthropic</c>) in process, TypeScript (npm
/// <c>@anthropic-ai/sdk</c>, pinned in tests/sdk-ts) through node. Messages, streaming, token counting, model-list
/// pagination, and the typed errors SDK users catch.
/// </summary>
public sealed class SdkTests : IAsyncLifetime
{
    private static readonly string[] Listed = ["claude-sonnet-4-6", "claude-opus-4-7", "claude-haiku-4-5", "claude-page-a", "claude-page-b"];

    private FakeUpstream _upstream = null!;
    private RelayTestServer _relay = null!;

    public async ValueTask InitializeAsync()
    {
        _upstream = await FakeUpstream.StartAsync();
        // The model behind "limited-model" is always rate limited, as a busy provider is.
        _upstream.Handler = (ctx, _) => Responses.Json(ctx, 429, Responses.ErrorJson("rate_limit_error", "Number of requests has exceeded your rate limit"),
            new Dictionary<string, string> { ["retry-after"] = "7" });
        var config = new RelayConfig { Listen = ["http://127.0.0.1:0"] };
        config.Providers["demo"] = new ProviderConfig { Type = "mock", ChunkDelayMs = 2 };
        config.Providers["up"] = new ProviderConfig { Type = "anthropic", BaseUrl = _upstream.BaseUrl, ApiKey = "sk-upstream-secret-123456" };
        foreach (var name in Listed)
        {
            config.Models[name] = new ModelConfig { Routes = ["demo/echo"] };
        }

        config.Models["limited-model"] = new ModelConfig { Routes = ["up/upstream-limited"] };
        _relay = await RelayTestServer.StartAsync(config);
    }

    public async ValueTask DisposeAsync()
    {
        await _relay.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    private AnthropicClient Client(string? key = null) =>
        new(new ClientOptions { BaseUrl = _relay.BaseUrl, ApiKey = key ?? _relay.Key, MaxRetries = 0, Timeout = TimeSpan.FromSeconds(20) });

    private static MessageCreateParams Ask(string model = "claude-sonnet-4-6") => new()
    {
        Model = model,
        MaxTokens = 200,
        Messages = [new UserMessageParam("Hello from the C# SDK")],
    };

    [Fact]
    public async Task CSharp_MessagesCreate()
    {
        var message = await Client().Messages.Create(Ask(), TestContext.Current.CancellationToken);

        Assert.True(message.Content[0].TryPickText(out var text));
        Assert.Contains("Hello from the C# SDK", text.Text, StringComparison.Ordinal);
        Assert.Equal("claude-sonnet-4-6", message.Model);
        Assert.True(message.Usage.InputTokens > 0 && message.Usage.OutputTokens > 0);
    }

    [Fact]
    public async Task CSharp_Streaming()
    {
        var types = new List<string>();
        var text = "";
        await foreach (var streamEvent in Client().Messages.CreateStreaming(Ask(), TestContext.Current.CancellationToken))
        {
            if (streamEvent.TryPickStart(out _))
            {
                types.Add("message_start");
            }
            else if (streamEvent.TryPickContentBlockDelta(out var delta))
            {
                types.Add("content_block_delta");
                if (delta.Delta.TryPickText(out var piece))
                {
                    text += piece.Text;
                }
            }
            else if (streamEvent.TryPickStop(out _))
            {
                types.Add("message_stop");
            }
        }

        Assert.Equal("message_start", types[0]);
        Assert.Equal("message_stop", types[^1]);
        Assert.True(types.Count(t => t == "content_block_delta") > 3);
        Assert.Contains("Hello from the C# SDK", text, StringComparison.Ordinal);
        Assert.True((await _relay.WaitForUsageAsync(1)).Single().Streamed);
    }

    [Fact]
    public async Task CSharp_CountTokens()
    {
        var count = await Client().Messages.CountTokens(new MessageCountTokensParams
        {
            Model = "claude-haiku-4-5",
            Messages = [new UserMessageParam("How many tokens is this sentence?")],
        }, TestContext.Current.CancellationToken);

        Assert.True(count.InputTokens > 0);
        Assert.Equal("count_tokens", (await _relay.WaitForUsageAsync(1)).Single().Endpoint);
    }

    [Fact]
    public async Task CSharp_ModelsList_PaginatesThroughEveryModel()
    {
        var client = Client();
        var first = await client.Models.List(new ModelListParams { Limit = 2 }, TestContext.Current.CancellationToken);
        var ids = new List<string>();
        await foreach (var model in first.Paginate(TestContext.Current.CancellationToken))
        {
            ids.Add(model.ID);
        }

        Assert.Equal(2, first.Items.Count);
        Assert.True(first.HasNext());
        Assert.Equal([.. Listed, "limited-model"], ids);
        var one = await client.Models.Retrieve("claude-page-b", new ModelRetrieveParams(), TestContext.Current.CancellationToken);
        Assert.Equal("claude-page-b", one.ID);
    }

    [Fact]
    public async Task CSharp_TypedErrors_401_404_429()
    {
        await Assert.ThrowsAsync<AnthropicUnauthorizedException>(() => Client("sk-relay-not-a-real-key").Messages.Create(Ask(), TestContext.Current.CancellationToken));
        var notFound = await Assert.ThrowsAsync<AnthropicNotFoundException>(() => Client().Messages.Create(Ask("no-such-model"), TestContext.Current.CancellationToken));
        Assert.Contains("no-such-model", notFound.Message, StringComparison.Ordinal);
        var limited = await Assert.ThrowsAsync<AnthropicRateLimitException>(() => Client().Messages.Create(Ask("limited-model"), TestContext.Current.CancellationToken));
        Assert.Contains("rate limit", limited.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TypeScript_Sdk_MessagesStreamingCountTokensModelsAndErrors()
    {
        var folder = await NodeTools.RequireProjectAsync(Path.Combine("tests", "sdk-ts"), Path.Combine("node_modules", "@anthropic-ai", "sdk", "package.json"));
        var options = JsonSerializer.Serialize(new Dictionary<string, string>
        {
            ["baseURL"] = _relay.BaseUrl,
            ["key"] = _relay.Key,
            ["model"] = "claude-sonnet-4-6",
            ["upstreamModel"] = "limited-model",
        });
        var environment = new Dictionary<string, string> { ["PATH"] = Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin", ["HOME"] = folder };

        var run = await NodeTools.RunAsync(NodeTools.FindOnPath("node")!, ["check.mjs", options], folder, environment, TimeSpan.FromMinutes(2));

        Assert.True(run.ExitCode == 0, run.ToString());
        var result = JsonNode.Parse(run.Stdout.Trim().Split('\n')[^1])!;
        Assert.Equal("message", (string?)result["create"]!["type"]);
        Assert.Contains("Hello from the TypeScript SDK", (string?)result["create"]!["text"], StringComparison.Ordinal);
        Assert.True((int)result["create"]!["inputTokens"]! > 0);
        Assert.Equal("message", (string?)result["createWithBearer"]);

        var types = result["streamEvents"]!["types"]!.AsArray().Select(t => (string)t!).ToList();
        Assert.Equal("message_start", types[0]);
        Assert.Equal("message_stop", types[^1]);
        Assert.Contains("Hello from the TypeScript SDK", (string?)result["streamEvents"]!["text"], StringComparison.Ordinal);
        Assert.True((int)result["streamHelper"]!["deltas"]! > 3);
        Assert.Equal("end_turn", (string?)result["streamHelper"]!["stopReason"]);

        Assert.True((int)result["countTokens"]! > 0);
        Assert.Equal([.. Listed, "limited-model"], result["models"]!["ids"]!.AsArray().Select(i => (string)i!));
        Assert.Equal(3, (int)result["models"]!["pages"]!);
        Assert.Equal("claude-sonnet-4-6", (string?)result["models"]!["retrieved"]);

        AssertTypedError(result["error401"]!, 401, "authentication_error", "isAuthenticationError");
        AssertTypedError(result["error404"]!, 404, "not_found_error", "isNotFoundError");
        AssertTypedError(result["error429"]!, 429, "rate_limit_error", "isRateLimitError");
    }

    private static void AssertTypedError(JsonNode error, int status, string type, string typedFlag)
    {
        Assert.True((bool)error["threw"]!, error.ToJsonString());
        Assert.Equal(status, (int)error["status"]!);
        Assert.Equal(type, (string?)error["type"]);
        Assert.True((bool)error[typedFlag]!, error.ToJsonString());
        Assert.StartsWith("req_", (string?)error["requestID"], StringComparison.Ordinal); // Relay's request-id, for support
    }
}
