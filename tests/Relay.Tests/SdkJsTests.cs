using System.Diagnostics;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Relay.Configuration;
using Relay.Tests.Infrastructure;

namespace Relay.Tests;

/// <summary>The official TypeScript SDKs, unchanged: Anthropic's consumes Relay's translated streams (text, tools,
/// thinking) with its stream helpers; OpenAI's uses the Chat Completions door (models, completions, streams, streamed
/// parallel tool calls).</summary>
public sealed class SdkJsTests : IAsyncLifetime
{
    private FakeUpstream _upstream = null!;
    private RelayTestServer _relay = null!;

    public async ValueTask InitializeAsync()
    {
        _upstream = await FakeUpstream.StartAsync();
        _upstream.Handler = Answer;
        var config = RelayTestServer.DefaultConfig(null);
        config.Providers["compat"] = new ProviderConfig { Type = "openai", BaseUrl = _upstream.BaseUrl.TrimEnd('/') + "/v1", ApiKey = "k", Preset = "deepseek" };
        config.Models["sdk-*"] = new ModelConfig { Routes = ["compat/fake-model"] };
        _relay = await RelayTestServer.StartAsync(config);
    }

    public async ValueTask DisposeAsync()
    {
        await _relay.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    [Fact]
    public async Task AnthropicTypeScriptSdk_StreamHelpersConsumeTranslatedStreams()
    {
        var directory = FindSdkDirectory();
        if (!Directory.Exists(Path.Combine(directory, "node_modules")))
        {
            var (code, output) = await RunAsync(directory, "npm", ["ci", "--no-audit", "--no-fund"], TimeSpan.FromMinutes(5));
            Assert.True(code == 0, $"npm ci failed:\n{output}");
        }

        var (exit, text) = await RunAsync(directory, "node", ["stream-helpers.mjs"], TimeSpan.FromMinutes(2));

        Assert.True(exit == 0, text);
        foreach (var scenario in new[] { "text", "tools", "thinking", "nonStreaming" })
        {
            Assert.Contains($"ok {scenario}", text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task OpenAITypeScriptSdk_UsesTheChatCompletionsDoor()
    {
        var directory = FindSdkDirectory();
        if (!File.Exists(Path.Combine(directory, "node_modules", "openai", "package.json")))
        {
            var (code, output) = await RunAsync(directory, "npm", ["ci", "--no-audit", "--no-fund"], TimeSpan.FromMinutes(5));
            Assert.True(code == 0, $"npm ci failed:\n{output}");
        }

        var (exit, text) = await RunAsync(directory, "node", ["openai-chat.mjs"], TimeSpan.FromMinutes(2));

        Assert.True(exit == 0, text);
        foreach (var scenario in new[] { "models", "completion", "streamed", "tools" })
        {
            Assert.Contains($"ok {scenario}", text, StringComparison.Ordinal);
        }

        var records = await _relay.WaitForUsageAsync(3); // the three completions; listing models is not a usage record
        Assert.Equal(3, records.Count(r => r.Endpoint == "chat.completions" && r.Status == 200));
    }

    /// <summary>The fake provider: the scenario is the last user text's first word, answered in DeepSeek's shapes.</summary>
    private static async Task Answer(HttpContext context, CapturedRequest request)
    {
        var body = JsonNode.Parse(request.Body)!;
        var stream = (bool?)body["stream"] == true;
        var tools = body["tools"] is not null;
        var thinking = body["thinking"] is not null;
        if (!stream)
        {
            await Responses.Json(context, 200, """{"id":"x","choices":[{"index":0,"message":{"role":"assistant","content":"Hello from Relay ☕ 你好"},"finish_reason":"stop"}],"usage":{"prompt_tokens":100,"completion_tokens":6,"prompt_tokens_details":{"cached_tokens":10}}}""");
            return;
        }

        string[] chunks = tools
            ? [
                """{"choices":[{"index":0,"delta":{"role":"assistant","content":"Checking."}}]}""",
                """{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_00_a","type":"function","function":{"name":"get_weather","arguments":""}}]}}]}""",
                """{"choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"functions.get_time:1","type":"function","function":{"name":"get_time","arguments":"{\"tz\":"}}]}}]}""",
                """{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"city\":\"Paris\"}"}}]}}]}""",
                """{"choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"function":{"arguments":"\"UTC\"}"}}]}}]}""",
                """{"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":100,"completion_tokens":20}}""",
            ]
            : thinking
                ? [
                    """{"choices":[{"index":0,"delta":{"role":"assistant","content":null,"reasoning_content":""}}]}""",
                    """{"choices":[{"index":0,"delta":{"reasoning_content":"Two plus two"}}]}""",
                    """{"choices":[{"index":0,"delta":{"reasoning_content":" is four."}}]}""",
                    """{"choices":[{"index":0,"delta":{"content":"4"}}]}""",
                    """{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":30,"completion_tokens":9}}""",
                ]
                : [
                    """{"choices":[{"index":0,"delta":{"role":"assistant","content":"Hello "}}]}""",
                    """{"choices":[{"index":0,"delta":{"content":"from Relay ☕ "}}]}""",
                    """{"choices":[{"index":0,"delta":{"content":"你好"}}]}""",
                    """{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}""",
                    """{"choices":[],"usage":{"prompt_tokens":100,"completion_tokens":6,"prompt_tokens_details":{"cached_tokens":10}}}""",
                ];
        await OpenAIUpstreamTests.OpenAIStream(context, chunks, TimeSpan.FromMilliseconds(5));
    }

    private async Task<(int ExitCode, string Output)> RunAsync(string directory, string file, string[] args, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(file)
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["RELAY_BASE_URL"] = _relay.BaseUrl;
        start.Environment["RELAY_KEY"] = _relay.Key;
        start.Environment["NO_COLOR"] = "1";
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish within {timeout}.");
        }

        return (process.ExitCode, await stdout + await stderr);
    }

    private static string FindSdkDirectory()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "tests", "sdk-js");
            if (File.Exists(Path.Combine(candidate, "package.json")))
            {
                return candidate;
            }
        }

        throw new DirectoryNotFoundException("tests/sdk-js was not found above " + AppContext.BaseDirectory);
    }
}
