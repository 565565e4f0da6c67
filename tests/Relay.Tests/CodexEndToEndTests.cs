using System.Text.Json.Nodes;
using Relay.Configuration;
using Relay.Tests.Infrastructure;

namespace Relay.Tests;

/// <summary>
/// The real Codex CLI, configured with Relay as its Responses API provider (<c>wire_api = "responses"</c>), talking to
/// Relay on loopback; behind Relay an <c>anthropic</c> provider answers as Claude does. Codex's request goes through
/// the Responses door, is translated to a Messages request, and the Claude stream comes back as Responses events.
/// </summary>
public sealed class CodexEndToEndTests : IAsyncLifetime
{
    private const string Model = "claude-sonnet-4-6";

    private FakeUpstream _upstream = null!;
    private RelayTestServer _relay = null!;
    private TempDirectory _home = null!;
    private TempDirectory _work = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _upstream = await FakeUpstream.StartAsync();
        var config = new RelayConfig { Listen = ["http://127.0.0.1:0"] };
        config.Providers["up"] = new ProviderConfig { Type = "anthropic", BaseUrl = _upstream.BaseUrl, ApiKey = "sk-upstream-secret-123456" };
        config.Models[Model] = new ModelConfig { Routes = ["up/upstream-sonnet"], Family = "sonnet" };
        _relay = await RelayTestServer.StartAsync(config, keyName: "codex");
        _home = new TempDirectory();
        _work = new TempDirectory();
        Codex.WriteConfig(Path.Combine(_home.Path, ".codex"), _relay.BaseUrl, Model);
    }

    public async ValueTask DisposeAsync()
    {
        await _relay.DisposeAsync();
        await _upstream.DisposeAsync();
        _home.Dispose();
        _work.Dispose();
    }

    [Fact]
    public async Task PlainPrompt_AnswerComesBackThroughRelay_AndIsRecorded()
    {
        _upstream.Handler = (ctx, _) => Responses.Stream(ctx, Responses.StreamEvents(["Relay ", "answers ", "Codex"], input: 321, output: 7));

        var run = await Codex.ExecAsync(_home.Path, _work.Path, _relay.Key, "say hello", _work.File("last-message.txt"));

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("Relay answers Codex", run.Stdout, StringComparison.Ordinal);
        Assert.Equal("Relay answers Codex", (await File.ReadAllTextAsync(_work.File("last-message.txt"), Ct)).Trim());

        var request = Assert.Single(_upstream.Requests);
        var body = JsonNode.Parse(request.Body)!;
        Assert.Equal("upstream-sonnet", (string?)body["model"]);
        Assert.True((bool?)body["stream"]);
        Assert.Contains("say hello", request.BodyText, StringComparison.Ordinal);
        Assert.NotEmpty(body["tools"]!.AsArray()); // Codex's own tools, translated

        var record = Assert.Single(await _relay.WaitForUsageAsync(1));
        Assert.Equal(("responses", "codex", Model, "up", "upstream-sonnet"), (record.Endpoint, record.KeyName, record.RequestedModel, record.Provider, record.UpstreamModel));
        Assert.Equal((200, 321L, 7L), (record.Status, record.InputTokens, record.OutputTokens));
        Assert.True(record.Streamed);
    }

    [Fact]
    public async Task ToolLoop_CodexRunsTheShellCallAndTheOutputComesBackThroughRelay()
    {
        var marker = "relay-codex-" + Guid.NewGuid().ToString("N")[..12];
        const string toolUseId = "toolu_01codexshell";
        _upstream.Handler = (ctx, captured) =>
        {
            var body = JsonNode.Parse(captured.Body)!;
            if (ClaudeCode.ToolResult(body) is { } toolResult)
            {
                // The second turn: answer with what the command printed, so the final answer proves the round trip.
                var printed = ClaudeCode.ToolResultText(toolResult);
                var line = printed.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.StartsWith(marker, StringComparison.Ordinal)) ?? "(no marker)";
                return Responses.Stream(ctx, Responses.StreamEvents(["The command printed: ", line], input: 60, output: 9));
            }

            var (tool, input) = ShellCall(body, $"echo {marker}");
            return Responses.Stream(ctx, ClaudeCode.ToolUseStream(toolUseId, tool, input, inputTokens: 50, outputTokens: 12));
        };

        var run = await Codex.ExecAsync(_home.Path, _work.Path, _relay.Key, "run the marker command", _work.File("last-message.txt"));

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal($"The command printed: {marker}", (await File.ReadAllTextAsync(_work.File("last-message.txt"), Ct)).Trim());

        var requests = _upstream.Requests.ToArray();
        Assert.True(requests.Length == 2, $"{requests.Length} upstream requests\n{run}");
        var followUp = JsonNode.Parse(requests[1].Body)!;
        var result = ClaudeCode.ToolResult(followUp);
        Assert.NotNull(result);
        Assert.Equal(toolUseId, (string?)result["tool_use_id"]);
        Assert.Contains(marker, ClaudeCode.ToolResultText(result), StringComparison.Ordinal);
        Assert.Contains(followUp["messages"]!.AsArray(), m => (string?)m!["role"] == "assistant"
            && m["content"]!.AsArray().Any(b => (string?)b!["type"] == "tool_use" && (string?)b["id"] == toolUseId));

        var records = await _relay.WaitForUsageAsync(2);
        Assert.All(records, r => Assert.Equal(("responses", 200), (r.Endpoint, r.Status)));
        Assert.Equal([50L, 60L], records.Select(r => r.InputTokens).Order());
    }

    /// <summary>A call of whichever shell tool this Codex version declared, running <paramref name="command"/>.</summary>
    private static (string Tool, JsonObject Input) ShellCall(JsonNode request, string command)
    {
        var tools = request["tools"]!.AsArray().Select(t => (string?)t!["name"]).ToList();
        if (tools.Contains("exec_command"))
        {
            return ("exec_command", new JsonObject { ["cmd"] = command });
        }

        if (tools.Contains("shell_command"))
        {
            return ("shell_command", new JsonObject { ["command"] = command });
        }

        Assert.True(tools.Contains("shell"), $"Codex declared no shell tool: {string.Join(", ", tools)}");
        return ("shell", new JsonObject { ["command"] = new JsonArray("bash", "-lc", command) });
    }
}
