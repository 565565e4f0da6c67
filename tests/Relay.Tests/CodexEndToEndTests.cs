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
}
