using System.Text.Json;
using System.Text.Json.Nodes;

namespace Relay.Tests.Infrastructure;

/// <summary>
/// The real Claude Code CLI (npm <c>@anthropic-ai/claude-code</c>, pinned in tests/claude-code/package.json), run
/// headless with a clean environment: only PATH and HOME, so nothing from the developer's own setup leaks in and the
/// settings written by <c>relay setup claude-code</c> are the only configuration it sees.
/// </summary>
public static class ClaudeCode
{
    public const string Version = "2.1.330";

    public static async Task<string> RequireAsync() =>
        Path.Combine(await NodeTools.RequireProjectAsync(Path.Combine("tests", "claude-code"), Path.Combine("node_modules", ".bin", "claude")),
            "node_modules", ".bin", "claude");

    /// <summary>Prepares <paramref name="home"/> exactly as a user would: the relay executable's <c>relay setup
    /// claude-code</c>, from the server's own relay.json.</summary>
    public static async Task SetUpHomeAsync(RelayTestServer relay, string home, string workingDirectory)
    {
        var setup = await RelayProcess.RunAsync(workingDirectory, new Dictionary<string, string?> { ["HOME"] = home, ["CLAUDE_CONFIG_DIR"] = null },
            "setup", "claude-code", "--config", relay.WriteConfigFile(), "--url", relay.BaseUrl);
        Xunit.Assert.True(setup.ExitCode == 0, $"relay setup failed: {setup.Stderr}\n{setup.Stdout}");
    }

    /// <summary>Runs <c>claude -p PROMPT</c> plus <paramref name="arguments"/> in <paramref name="workingDirectory"/>.</summary>
    public static async Task<ProcessResult> RunAsync(string home, string workingDirectory, string prompt, IEnumerable<string> arguments,
        Action<string>? onStdoutLine = null, IReadOnlyDictionary<string, string>? extraEnvironment = null)
    {
        var claude = await RequireAsync();
        var environment = new Dictionary<string, string>
        {
            ["HOME"] = home,
            ["PATH"] = Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin",
            ["LANG"] = "C.UTF-8",
        };
        foreach (var (name, value) in extraEnvironment ?? new Dictionary<string, string>())
        {
            environment[name] = value;
        }

        return await NodeTools.RunAsync(claude, ["-p", prompt, .. arguments], workingDirectory, environment, TimeSpan.FromMinutes(3), onStdoutLine);
    }

    /// <summary>The final <c>result</c> object of <c>--output-format json</c>.</summary>
    public static JsonObject ParseResult(ProcessResult run)
    {
        var line = run.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault(l => l.TrimStart().StartsWith('{'));
        Assert.True(line is not null, $"claude printed no JSON result.\n{run}");
        return JsonNode.Parse(line)!.AsObject();
    }

    /// <summary>The last user message's content blocks of a Messages request body.</summary>
    public static JsonArray? LastUserContent(JsonNode body) =>
        body["messages"]!.AsArray().LastOrDefault(m => (string?)m!["role"] == "user")?["content"] as JsonArray;

    /// <summary>The first <c>tool_result</c> block of the last user turn, if any.</summary>
    public static JsonObject? ToolResult(JsonNode body) =>
        LastUserContent(body)?.OfType<JsonObject>().FirstOrDefault(b => (string?)b["type"] == "tool_result");

    /// <summary>The text of a tool_result, whether a string or text blocks.</summary>
    public static string ToolResultText(JsonObject toolResult) => toolResult["content"] switch
    {
        JsonValue v => v.GetValue<string>(),
        JsonArray a => string.Concat(a.Select(p => (string?)p?["text"] ?? "")),
        _ => "",
    };

    /// <summary>An Anthropic stream whose single block is a tool call, streamed through input_json_delta as models do.</summary>
    public static IReadOnlyList<string> ToolUseStream(string toolUseId, string tool, JsonObject input, int inputTokens = 40, int outputTokens = 17)
    {
        var json = input.ToJsonString();
        var half = json.Length / 2;
        return
        [
            Responses.SseEvent("message_start", $$$$"""{"type":"message_start","message":{"id":"msg_tool_1","type":"message","role":"assistant","model":"upstream-model","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":{{{{inputTokens}}}},"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":1}}}"""),
            Responses.SseEvent("content_block_start", $$$$"""{"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"{{{{toolUseId}}}}","name":"{{{{tool}}}}","input":{}}}"""),
            Responses.SseEvent("content_block_delta", $$$"""{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":{{{JsonSerializer.Serialize(json[..half])}}}}}"""),
            Responses.SseEvent("content_block_delta", $$$"""{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":{{{JsonSerializer.Serialize(json[half..])}}}}}"""),
            Responses.SseEvent("content_block_stop", """{"type":"content_block_stop","index":0}"""),
            Responses.SseEvent("message_delta", $$$"""{"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":{{{outputTokens}}}}}"""),
            Responses.SseEvent("message_stop", """{"type":"message_stop"}"""),
        ];
    }
}
