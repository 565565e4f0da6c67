using System.Text.Json.Nodes;
using Relay.Configuration;
using Relay.Tests.Infrastructure;

namespace Relay.Tests;

/// <summary>
/// The real Claude Code CLI through an OpenAI-compatible provider whose model no preset knows and whose output limit
/// is 8192: Claude Code asks for far more, so the first request only succeeds if Relay learns the limit from the
/// provider's refusal.
/// </summary>
public sealed class ClaudeCodeThroughOpenAITests : IAsyncLifetime
{
    private const string Limit = """{"error":{"message":"Invalid max_tokens value, the valid range of max_tokens is [1, 8192]","type":"invalid_request_error","param":null,"code":"invalid_request_error"}}""";

    private FakeUpstream _upstream = null!;
    private RelayTestServer _relay = null!;
    private TempDirectory _home = null!;
    private TempDirectory _work = null!;

    public async ValueTask InitializeAsync()
    {
        _upstream = await FakeUpstream.StartAsync();
        var config = new RelayConfig { Listen = ["http://127.0.0.1:0"] };
        config.Providers["station"] = new ProviderConfig { Type = "openai", BaseUrl = _upstream.BaseUrl + "/v1", ApiKey = "sk-station-0123456789" };
        config.Models["claude-*"] = new ModelConfig { Routes = ["station/house-coder-32b"] };
        _relay = await RelayTestServer.StartAsync(config);
        _home = new TempDirectory();
        _work = new TempDirectory();
        await ClaudeCode.SetUpHomeAsync(_relay, _home.Path, _work.Path);
    }

    public async ValueTask DisposeAsync()
    {
        await _relay.DisposeAsync();
        await _upstream.DisposeAsync();
        _home.Dispose();
        _work.Dispose();
    }

    [Fact]
    public async Task ToolLoop_Succeeds_AfterRelayLearnsTheProvidersOutputLimit()
    {
        var marker = "relay-openai-" + Guid.NewGuid().ToString("N")[..12];
        _upstream.Handler = (ctx, captured) =>
        {
            var body = JsonNode.Parse(captured.Body)!;
            if ((int)(body["max_tokens"] ?? body["max_completion_tokens"] ?? 0) > 8192)
            {
                return Responses.Json(ctx, 400, Limit);
            }

            var toolMessage = body["messages"]!.AsArray().LastOrDefault(m => (string?)m!["role"] == "tool");
            if (toolMessage is not null)
            {
                var printed = ToolOutput(toolMessage).Trim().Split('\n')[0].Trim();
                return OpenAIUpstreamTests.OpenAIStream(ctx, [OpenAIUpstreamTests.TextChunk("The tool printed: "), OpenAIUpstreamTests.TextChunk(printed, "stop"), Usage(90, 8)]);
            }

            var arguments = new JsonObject { ["command"] = $"echo {marker}", ["description"] = "Print a marker" }.ToJsonString();
            return OpenAIUpstreamTests.OpenAIStream(ctx,
            [
                ToolCallChunk(new JsonObject { ["index"] = 0, ["id"] = "call_0_bash", ["type"] = "function", ["function"] = new JsonObject { ["name"] = "Bash", ["arguments"] = "" } }),
                ToolCallChunk(new JsonObject { ["index"] = 0, ["function"] = new JsonObject { ["arguments"] = arguments[..10] } }),
                ToolCallChunk(new JsonObject { ["index"] = 0, ["function"] = new JsonObject { ["arguments"] = arguments[10..] } }),
                FinishChunk("tool_calls"),
                Usage(80, 20),
            ]);
        };

        var run = await ClaudeCode.RunAsync(_home.Path, _work.Path, "run the marker command", ["--output-format", "json", "--allowedTools", "Bash"]);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal($"The tool printed: {marker}", (string?)ClaudeCode.ParseResult(run)["result"]);

        // The first request was refused once and corrected; every later one went out corrected.
        var sent = _upstream.Requests.Select(r => JsonNode.Parse(r.Body)!).ToArray();
        var limits = sent.Select(b => (int)b["max_tokens"]!).ToArray();
        Assert.True(limits[0] > 8192, $"Claude Code asked for {limits[0]}");
        Assert.All(limits.Skip(1), l => Assert.True(l <= 8192));
        Assert.Equal(1, limits.Count(l => l > 8192));
        Assert.Contains(sent, b => b["messages"]!.AsArray().Any(m => (string?)m!["role"] == "tool" && ToolOutput(m).Contains(marker, StringComparison.Ordinal)));

        var records = await _relay.WaitForUsageAsync(2);
        Assert.All(records, r => Assert.Equal(200, r.Status));
        Assert.Contains(records, r => r.Attempts == 2);
    }

    private static string ToolOutput(JsonNode toolMessage) => toolMessage["content"] switch
    {
        JsonValue text => (string)text!,
        JsonArray parts => string.Concat(parts.Select(p => (string?)p!["text"])),
        _ => "",
    };

    private static string ToolCallChunk(JsonObject toolCall) => new JsonObject
    {
        ["id"] = "chatcmpl-cc",
        ["object"] = "chat.completion.chunk",
        ["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["delta"] = new JsonObject { ["tool_calls"] = new JsonArray(toolCall) }, ["finish_reason"] = null }),
    }.ToJsonString();

    private static string FinishChunk(string reason) => new JsonObject
    {
        ["id"] = "chatcmpl-cc",
        ["object"] = "chat.completion.chunk",
        ["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["delta"] = new JsonObject(), ["finish_reason"] = reason }),
    }.ToJsonString();

    private static string Usage(int prompt, int completion) =>
        $$$"""{"id":"chatcmpl-cc","choices":[],"usage":{"prompt_tokens":{{{prompt}}},"completion_tokens":{{{completion}}},"total_tokens":{{{prompt + completion}}}}}""";
}
