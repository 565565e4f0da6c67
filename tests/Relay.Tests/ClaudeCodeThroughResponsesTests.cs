using System.Text.Json.Nodes;
using Relay.Configuration;
using Relay.Tests.Infrastructure;
using static Relay.Tests.ResponsesUpstreamTests;

namespace Relay.Tests;

/// <summary>
/// The real Claude Code CLI through a provider that only speaks OpenAI's Responses API (<c>openai-responses</c>, a
/// gpt-5.x-codex model): a tool loop whose call and result cross the protocol both ways.
/// </summary>
public sealed class ClaudeCodeThroughResponsesTests : IAsyncLifetime
{
    private FakeUpstream _upstream = null!;
    private RelayTestServer _relay = null!;
    private TempDirectory _home = null!;
    private TempDirectory _work = null!;

    public async ValueTask InitializeAsync()
    {
        _upstream = await FakeUpstream.StartAsync();
        var config = new RelayConfig { Listen = ["http://127.0.0.1:0"] };
        config.Providers["resp"] = new ProviderConfig { Type = "openai-responses", BaseUrl = _upstream.BaseUrl + "/v1", ApiKey = "sk-proj-codex-0123456789" };
        config.Models["claude-*"] = new ModelConfig { Routes = ["resp/gpt-5.3-codex"] };
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
    public async Task ToolLoop_BashCallAndItsOutput_CrossTheResponsesApi()
    {
        var marker = "relay-responses-" + Guid.NewGuid().ToString("N")[..12];
        _upstream.Handler = (ctx, captured) =>
        {
            var body = JsonNode.Parse(captured.Body)!;
            var input = body["input"]!.AsArray();
            var output = input.LastOrDefault(i => (string?)i!["type"] == "function_call_output");
            if (output is not null)
            {
                var printed = OutputText(output["output"]).Trim().Split('\n')[0].Trim();
                return Stream(ctx, [Created(), .. Text("msg_2", "The tool printed: ", printed), Completed(input: 900, cached: 512, output: 8)]);
            }

            if (body["tools"] is not JsonArray tools || !tools.Any(t => (string?)t!["name"] == "Bash"))
            {
                // Claude Code's side requests (a title, a topic check) get a plain answer.
                return Stream(ctx, [Created(), .. Text("msg_0", "ok"), Completed(input: 50, cached: 0, output: 1)]);
            }

            var arguments = new JsonObject { ["command"] = $"echo {marker}", ["description"] = "Print a marker" }.ToJsonString();
            return Stream(ctx,
            [
                Created(),
                .. Reasoning("rs_1", "gAAAAB-codex", "**Running** the marker command."),
                .. FunctionCall("fc_1", "call_bash_1", "Bash", arguments[..10], arguments[10..]),
                Completed(input: 800, cached: 0, output: 20),
            ]);
        };

        var run = await ClaudeCode.RunAsync(_home.Path, _work.Path, "run the marker command", ["--output-format", "json", "--allowedTools", "Bash"]);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal($"The tool printed: {marker}", (string?)ClaudeCode.ParseResult(run)["result"]);

        // Every request was a Responses request; the second turn carried the call, its output and the reasoning item.
        var sent = _upstream.Requests.Select(r => (r.PathAndQuery, Body: JsonNode.Parse(r.Body)!)).ToArray();
        Assert.All(sent, r => Assert.Equal("/v1/responses", r.PathAndQuery));
        Assert.All(sent, r => Assert.Equal("gpt-5.3-codex", (string?)r.Body["model"]));
        Assert.All(sent, r => Assert.False((bool)r.Body["store"]!));
        var followUp = sent.Single(r => r.Body["input"]!.AsArray().Any(i => (string?)i!["type"] == "function_call_output")).Body["input"]!.AsArray();
        Assert.Contains(followUp, i => (string?)i!["type"] == "function_call" && (string?)i["call_id"] == "call_bash_1" && (string?)i["name"] == "Bash");
        Assert.Contains(followUp, i => (string?)i!["type"] == "function_call_output" && (string?)i["call_id"] == "call_bash_1"
            && OutputText(i["output"]).Contains(marker, StringComparison.Ordinal));
        Assert.Contains(followUp, i => (string?)i!["type"] == "reasoning" && (string?)i["encrypted_content"] == "gAAAAB-codex");

        var records = await _relay.WaitForUsageAsync(2);
        Assert.All(records, r => Assert.Equal((200, "resp", "gpt-5.3-codex"), (r.Status, r.Provider, r.UpstreamModel)));
        Assert.Contains(records, r => (r.InputTokens, r.OutputTokens, r.CacheReadInputTokens) == (800, 20, 0));
        Assert.Contains(records, r => (r.InputTokens, r.OutputTokens, r.CacheReadInputTokens) == (388, 8, 512));
    }

    private static string OutputText(JsonNode? output) => output switch
    {
        JsonValue text => (string)text!,
        JsonArray parts => string.Concat(parts.Select(p => (string?)p!["text"])),
        _ => "",
    };
}
