using System.Text;

namespace Relay.Tests.Infrastructure;

/// <summary>
/// The real Codex CLI (npm <c>@openai/codex</c>, pinned in tests/codex/package.json), run non-interactively with a
/// clean environment: only PATH, HOME, CODEX_HOME and the Relay key, so nothing from the developer's own setup leaks
/// in. Its config.toml defines one model provider, Relay on loopback, speaking the Responses API.
/// </summary>
public static class Codex
{
    public const string Version = "0.171.0";

    /// <summary>The variable config.toml names as the provider's <c>env_key</c>: Codex sends it as the bearer token.</summary>
    public const string KeyVariable = "RELAY_API_KEY";

    public static async Task<string> RequireAsync() =>
        Path.Combine(await NodeTools.RequireProjectAsync(Path.Combine("tests", "codex"), Path.Combine("node_modules", ".bin", "codex")),
            "node_modules", ".bin", "codex");

    /// <summary>Writes <c>config.toml</c> into <paramref name="codexHome"/>: Relay as the only model provider, and
    /// nothing that would reach for the internet: no update check, analytics or feedback, and none of the features that
    /// sync plugins and apps (they resolve github.com and chatgpt.com at start; with them off, a traced run connects
    /// only to 127.0.0.1).</summary>
    public static void WriteConfig(string codexHome, string relayBaseUrl, string model)
    {
        Directory.CreateDirectory(codexHome);
        var toml = new StringBuilder()
            .AppendLine($"model = \"{model}\"")
            .AppendLine("model_provider = \"relay\"")
            .AppendLine("check_for_update_on_startup = false")
            .AppendLine()
            .AppendLine("[analytics]")
            .AppendLine("enabled = false")
            .AppendLine()
            .AppendLine("[feedback]")
            .AppendLine("enabled = false")
            .AppendLine()
            .AppendLine("[features]")
            .AppendLine("plugins = false")
            .AppendLine("remote_plugin = false")
            .AppendLine("plugin_sharing = false")
            .AppendLine("apps = false")
            .AppendLine("tool_suggest = false")
            .AppendLine()
            .AppendLine("[model_providers.relay]")
            .AppendLine("name = \"Relay\"")
            .AppendLine($"base_url = \"{relayBaseUrl}/v1\"")
            .AppendLine($"env_key = \"{KeyVariable}\"")
            .AppendLine("wire_api = \"responses\"")
            .AppendLine("request_max_retries = 0")
            .AppendLine("stream_max_retries = 0")
            .ToString();
        File.WriteAllText(Path.Combine(codexHome, "config.toml"), toml);
    }

    /// <summary>Runs <c>codex exec PROMPT</c> in <paramref name="workingDirectory"/>: one turn, no approvals asked, no
    /// sandbox (the folder is a temporary one), no git check, no session files; the last message goes to
    /// <paramref name="lastMessageFile"/>.</summary>
    public static async Task<ProcessResult> ExecAsync(string home, string workingDirectory, string relayKey, string prompt, string lastMessageFile)
    {
        var codex = await RequireAsync();
        var environment = new Dictionary<string, string>
        {
            ["HOME"] = home,
            ["CODEX_HOME"] = Path.Combine(home, ".codex"),
            ["PATH"] = Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin",
            ["LANG"] = "C.UTF-8",
            ["NO_COLOR"] = "1",
            [KeyVariable] = relayKey,
        };
        return await NodeTools.RunAsync(codex,
            ["exec", "--skip-git-repo-check", "--ephemeral", "--dangerously-bypass-approvals-and-sandbox", "--color", "never",
                "-C", workingDirectory, "--output-last-message", lastMessageFile, prompt],
            workingDirectory, environment, TimeSpan.FromMinutes(3));
    }
}
