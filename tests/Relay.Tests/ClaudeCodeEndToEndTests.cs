using System.Diagnostics;
using System.Text.Json.Nodes;
using Relay.Configuration;
using Relay.Tests.Infrastructure;

namespace Relay.Tests;

/// <summary>
/// The real Claude Code CLI, configured only by <c>relay setup claude-code</c>, talking to Relay on loopback, with a
/// scripted upstream behind Relay. What the fake upstream checks comes from the capture of what Claude Code 2.1.330
/// sends (research/claude-code-capture): <c>POST /v1/messages?beta=true</c>, the <c>claude-code-20250219</c> beta, a
/// streamed body with its tools, and (here) Relay's provider key instead of the client's.
/// </summary>
public sealed class ClaudeCodeEndToEndTests : IAsyncLifetime
{
    private const string UpstreamKey = "sk-upstream-secret-123456";

    private FakeUpstream _upstream = null!;
    private RelayTestServer _relay = null!;
    private TempDirectory _home = null!;
    private TempDirectory _work = null!;

    public async ValueTask InitializeAsync()
    {
        _upstream = await FakeUpstream.StartAsync();
        var config = new RelayConfig { Listen = ["http://127.0.0.1:0"] };
        config.Providers["up"] = new ProviderConfig { Type = "anthropic", BaseUrl = _upstream.BaseUrl, ApiKey = UpstreamKey };
        config.Models["claude-opus-4-7"] = new ModelConfig { Routes = ["up/upstream-opus"], Family = "opus" };
        config.Models["claude-sonnet-4-6"] = new ModelConfig { Routes = ["up/upstream-sonnet"], Family = "sonnet" };
        // Not a Claude name: only Relay's mapping can give it meaning.
        config.Models["team-haiku"] = new ModelConfig { Routes = ["up/upstream-haiku"], Family = "haiku" };
        config.Models["claude-*"] = new ModelConfig { Routes = ["up/upstream-other"] };
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
    public async Task PlainPrompt_AnswerComesBackThroughRelay_AndIsRecorded()
    {
        _upstream.Handler = (ctx, _) => Responses.Stream(ctx, Responses.StreamEvents(["Relay ", "end-to-end ", "OK"], input: 321, output: 7));

        var run = await ClaudeCode.RunAsync(_home.Path, _work.Path, "say hello", ["--output-format", "json"]);

        Assert.True(run.ExitCode == 0, run.ToString());
        var result = ClaudeCode.ParseResult(run);
        Assert.Equal("success", (string?)result["subtype"]);
        Assert.Equal("Relay end-to-end OK", (string?)result["result"]);

        var request = Assert.Single(_upstream.Requests);
        AssertLooksLikeClaudeCode(request);
        var body = JsonNode.Parse(request.Body)!;
        Assert.Equal("upstream-opus", (string?)body["model"]); // Claude Code's default tier is Opus: ANTHROPIC_DEFAULT_OPUS_MODEL, mapped
        Assert.True((bool?)body["stream"]);
        Assert.Contains("say hello", request.BodyText, StringComparison.Ordinal);

        var record = Assert.Single(await _relay.WaitForUsageAsync(1));
        Assert.Equal(("claude-code", "claude-opus-4-7", "up", "upstream-opus"), (record.KeyName, record.RequestedModel, record.Provider, record.UpstreamModel));
        Assert.Equal((200, 321L, 7L), (record.Status, record.InputTokens, record.OutputTokens));
        Assert.True(record.Streamed);
    }

    [Fact]
    public async Task ToolLoop_ClaudeCodeRunsTheToolAndTheResultComesBackThroughRelay()
    {
        var marker = "relay-tool-" + Guid.NewGuid().ToString("N")[..12];
        var toolUseId = "toolu_relay_" + Guid.NewGuid().ToString("N")[..16];
        _upstream.Handler = (ctx, captured) =>
        {
            var body = JsonNode.Parse(captured.Body)!;
            if (ClaudeCode.ToolResult(body) is { } toolResult)
            {
                // The second turn: answer with what the tool printed, so the final answer proves the round trip.
                var text = ClaudeCode.ToolResultText(toolResult).Trim().Split('\n')[0].Trim();
                return Responses.Stream(ctx, Responses.StreamEvents(["The tool printed: ", text], input: 60, output: 9));
            }

            return Responses.Stream(ctx, ClaudeCode.ToolUseStream(toolUseId, "Bash",
                new JsonObject { ["command"] = $"echo {marker}", ["description"] = "Print a marker" }, inputTokens: 50, outputTokens: 12));
        };

        var run = await ClaudeCode.RunAsync(_home.Path, _work.Path, "run the marker command", ["--output-format", "json", "--allowedTools", "Bash"]);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal($"The tool printed: {marker}", (string?)ClaudeCode.ParseResult(run)["result"]);

        var requests = _upstream.Requests.ToArray();
        Assert.Equal(2, requests.Length);
        var followUp = JsonNode.Parse(requests[1].Body)!;
        var toolResult = ClaudeCode.ToolResult(followUp);
        Assert.NotNull(toolResult);
        Assert.Equal(toolUseId, (string?)toolResult["tool_use_id"]);
        Assert.StartsWith(marker, ClaudeCode.ToolResultText(toolResult).Trim(), StringComparison.Ordinal);
        Assert.NotEqual(true, (bool?)toolResult["is_error"]);
        // The assistant's tool call is echoed back in the history, as the capture shows.
        Assert.Contains(followUp["messages"]!.AsArray(), m => (string?)m!["role"] == "assistant"
            && m["content"]!.AsArray().Any(b => (string?)b!["type"] == "tool_use" && (string?)b["id"] == toolUseId));
        AssertLooksLikeClaudeCode(requests[1]);

        var records = await _relay.WaitForUsageAsync(2);
        Assert.Equal(2, records.Count);
        Assert.All(records, r => Assert.Equal((200, "claude-code"), (r.Status, r.KeyName)));
        Assert.Equal([50L, 60L], records.Select(r => r.InputTokens).Order());
        Assert.Equal([9L, 12L], records.Select(r => r.OutputTokens).Order());
    }

    [Fact]
    public async Task Streaming_ClaudeCodeSeesTheFirstDeltaWhileTheUpstreamIsStillSending()
    {
        var pieces = Enumerable.Range(1, 10).Select(i => $"part{i} ").ToArray();
        var lastSent = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        _upstream.Handler = async (ctx, _) =>
        {
            await Responses.Stream(ctx, Responses.StreamEvents(pieces), TimeSpan.FromMilliseconds(200));
            lastSent.TrySetResult(Stopwatch.GetTimestamp());
        };

        long firstDeltaSeen = 0;
        var run = await ClaudeCode.RunAsync(_home.Path, _work.Path, "stream something",
            ["--output-format", "stream-json", "--verbose", "--include-partial-messages"],
            line =>
            {
                if (firstDeltaSeen == 0 && line.Contains("\"text_delta\"", StringComparison.Ordinal))
                {
                    Interlocked.CompareExchange(ref firstDeltaSeen, Stopwatch.GetTimestamp(), 0);
                }
            });

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.NotEqual(0, firstDeltaSeen);
        Assert.Contains(string.Concat(pieces).TrimEnd(), run.Stdout, StringComparison.Ordinal);
        // The upstream spends 15 × 200 ms sending; Claude Code printed the first delta long before the last was sent.
        var lead = Stopwatch.GetElapsedTime(firstDeltaSeen, await lastSent.Task);
        Assert.True(lead > TimeSpan.FromSeconds(1.2), $"the first delta reached Claude Code only {lead.TotalMilliseconds:F0} ms before the upstream finished");
        Assert.True((await _relay.WaitForUsageAsync(1)).Single().Streamed);
    }

    [Fact]
    public async Task HaikuTier_NameFromSettingsIsRoutedByRelaysMapping()
    {
        _upstream.Handler = (ctx, _) => Responses.Stream(ctx, Responses.StreamEvents(["haiku ", "ok"]));

        var run = await ClaudeCode.RunAsync(_home.Path, _work.Path, "quick one", ["--output-format", "json", "--model", "haiku"]);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal("haiku ok", (string?)ClaudeCode.ParseResult(run)["result"]);
        // setup wrote ANTHROPIC_DEFAULT_HAIKU_MODEL=team-haiku (relay.json's "haiku" family); Relay mapped it.
        var settings = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(_home.Path, ".claude", "settings.json"), TestContext.Current.CancellationToken))!;
        Assert.Equal("team-haiku", (string?)settings["env"]!["ANTHROPIC_DEFAULT_HAIKU_MODEL"]);
        Assert.Equal("upstream-haiku", (string?)JsonNode.Parse(_upstream.LastRequest.Body)!["model"]);
        var record = Assert.Single(await _relay.WaitForUsageAsync(1));
        Assert.Equal(("team-haiku", "upstream-haiku"), (record.RequestedModel, record.UpstreamModel));
    }

    [Fact]
    public async Task OverHttps_WithACertFromRelayCert_WorksOnceTrusted_AndIsRefusedBefore()
    {
        using var dir = new TempDirectory();
        Assert.Equal(0, (await RelayProcess.RunAsync(dir.Path, "cert", "--host", "127.0.0.1")).ExitCode);
        var config = new RelayConfig { Listen = ["https://127.0.0.1:0"], SourcePath = dir.File("relay.json") };
        config.Tls = new TlsConfig { Certificate = "relay.crt", Key = "relay.key" };
        config.Providers["up"] = new ProviderConfig { Type = "anthropic", BaseUrl = _upstream.BaseUrl, ApiKey = UpstreamKey };
        config.Models["claude-*"] = new ModelConfig { Routes = ["up/upstream-any"] };
        await using var https = await RelayTestServer.StartAsync(config);
        using var home = new TempDirectory();
        var setup = await RelayProcess.RunAsync(_work.Path, "setup", "claude-code", "--home", home.Path, "--url", https.BaseUrl, "--key", https.Key);
        Assert.True(setup.ExitCode == 0, setup.Stderr);
        _upstream.Handler = (ctx, _) => Responses.Stream(ctx, Responses.StreamEvents(["over ", "TLS"]));

        var untrusted = await ClaudeCode.RunAsync(home.Path, _work.Path, "hello", ["--output-format", "json"]);
        var trusted = await ClaudeCode.RunAsync(home.Path, _work.Path, "hello", ["--output-format", "json"],
            extraEnvironment: new Dictionary<string, string> { ["NODE_EXTRA_CA_CERTS"] = dir.File("relay.crt") });

        var refused = ClaudeCode.ParseResult(untrusted);
        Assert.True((bool?)refused["is_error"], untrusted.ToString());
        Assert.Contains("certificate", (string?)refused["result"], StringComparison.OrdinalIgnoreCase);
        Assert.True(trusted.ExitCode == 0, trusted.ToString());
        Assert.Equal("over TLS", (string?)ClaudeCode.ParseResult(trusted)["result"]);
        Assert.Single(_upstream.Requests); // the refused attempt never got past the TLS handshake
    }

    /// <summary>What the capture says Claude Code sends, and what Relay must have changed on the way.</summary>
    private static void AssertLooksLikeClaudeCode(CapturedRequest request)
    {
        Assert.Equal("POST", request.Method);
        Assert.Equal("/v1/messages?beta=true", request.PathAndQuery);
        Assert.StartsWith($"claude-cli/{ClaudeCode.Version}", request.Header("user-agent"), StringComparison.Ordinal);
        Assert.Contains("claude-code-20250219", request.Header("anthropic-beta"), StringComparison.Ordinal);
        Assert.Equal("2023-06-01", request.Header("anthropic-version"));
        Assert.NotNull(request.Header("x-claude-code-session-id"));
        // Relay swapped the client's Relay key for the provider's.
        Assert.Equal(UpstreamKey, request.Header("x-api-key"));
        Assert.Null(request.Header("authorization"));
        var body = JsonNode.Parse(request.Body)!;
        Assert.Contains(body["tools"]!.AsArray(), t => (string?)t!["name"] == "Bash");
    }
}
