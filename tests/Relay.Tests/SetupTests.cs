using System.Text.Json.Nodes;
using Relay.Auth;
using Relay.Cli;
using Relay.Configuration;
using Relay.Storage.Sqlite;
using Relay.Tests.Infrastructure;

namespace Relay.Tests;

/// <summary><c>relay setup</c> on temp folders that already hold the clients' files: merge, back up, re-run.</summary>
public sealed class SetupTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private string Home => _dir.File("home");

    private string SettingsPath => Path.Combine(Home, ".claude", "settings.json");

    private string GlobalPath => Path.Combine(Home, ".claude.json");

    [Fact]
    public async Task ClaudeCode_MergesIntoExistingFiles_KeepingEverythingElse_WithBackups()
    {
        const string originalSettings = """
            {
              // the user's own settings, with a comment
              "model": "opus",
              "permissions": { "allow": ["Bash(ls:*)"] },
              "env": { "ANTHROPIC_API_KEY": "sk-ant-old", "HTTPS_PROXY": "http://proxy:3128", "ANTHROPIC_MODEL": "glm-4.7" },
            }
            """;
        const string originalGlobal = """{"numStartups":12,"projects":{"/src/app":{"allowedTools":[]}},"hasCompletedOnboarding":false}""";
        Directory.CreateDirectory(Path.GetDirectoryName(SettingsPath)!);
        await File.WriteAllTextAsync(SettingsPath, originalSettings, TestContext.Current.CancellationToken);
        await File.WriteAllTextAsync(GlobalPath, originalGlobal, TestContext.Current.CancellationToken);

        var (exit, stdout, stderr) = await CliAsync("setup", "claude-code", "--home", Home, "--url", "http://127.0.0.1:9999/v1", "--key", "sk-relay-testkey-0123456789",
            "--sonnet", "claude-sonnet-4-6", "--haiku", "claude-haiku-4-5", "--timeout", "900");

        Assert.True(exit == 0, stderr);
        var settings = await ReadJsonAsync(SettingsPath);
        Assert.Equal("opus", (string?)settings["model"]);
        Assert.Equal("Bash(ls:*)", (string?)settings["permissions"]!["allow"]![0]);
        var env = settings["env"]!.AsObject();
        Assert.Equal("http://127.0.0.1:9999", (string?)env["ANTHROPIC_BASE_URL"]); // /v1 removed
        Assert.Equal("sk-relay-testkey-0123456789", (string?)env["ANTHROPIC_AUTH_TOKEN"]);
        Assert.Equal("claude-sonnet-4-6", (string?)env["ANTHROPIC_DEFAULT_SONNET_MODEL"]);
        Assert.Equal("claude-haiku-4-5", (string?)env["ANTHROPIC_DEFAULT_HAIKU_MODEL"]);
        Assert.Null(env["ANTHROPIC_DEFAULT_OPUS_MODEL"]); // neither given nor in a relay.json
        Assert.Equal("900000", (string?)env["API_TIMEOUT_MS"]);
        Assert.Equal("1", (string?)env["CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC"]);
        Assert.Equal("http://proxy:3128", (string?)env["HTTPS_PROXY"]);
        Assert.Equal("glm-4.7", (string?)env["ANTHROPIC_MODEL"]); // kept, with a note
        Assert.Null(env["ANTHROPIC_API_KEY"]); // it would have won over the Relay key
        Assert.Contains("removed env.ANTHROPIC_API_KEY", stdout, StringComparison.Ordinal);
        Assert.Contains("kept env.ANTHROPIC_MODEL=glm-4.7", stdout, StringComparison.Ordinal);
        Assert.Contains("/v1", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("sk-relay-testkey-0123456789", stdout, StringComparison.Ordinal); // masked

        var global = await ReadJsonAsync(GlobalPath);
        Assert.True((bool?)global["hasCompletedOnboarding"]);
        Assert.Equal(12, (int?)global["numStartups"]);
        Assert.NotNull(global["projects"]!["/src/app"]);

        // One backup per changed file, holding exactly what was there before.
        Assert.Equal(originalSettings, await File.ReadAllTextAsync(Assert.Single(Backups(SettingsPath)), TestContext.Current.CancellationToken));
        Assert.Equal(originalGlobal, await File.ReadAllTextAsync(Assert.Single(Backups(GlobalPath)), TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task ClaudeCode_RerunWithTheSameValues_ChangesNothing()
    {
        string[] args = ["setup", "claude-code", "--home", Home, "--url", "http://127.0.0.1:9999", "--key", "sk-relay-testkey-0123456789"];
        Assert.Equal(0, (await CliAsync(args)).ExitCode);
        var settingsBefore = await File.ReadAllBytesAsync(SettingsPath, TestContext.Current.CancellationToken);
        var writtenAt = File.GetLastWriteTimeUtc(SettingsPath);

        var (exit, stdout, _) = await CliAsync(args);

        Assert.Equal(0, exit);
        Assert.Equal(2, stdout.Split('\n').Count(l => l.TrimStart().StartsWith("unchanged ", StringComparison.Ordinal)));
        Assert.Equal(settingsBefore, await File.ReadAllBytesAsync(SettingsPath, TestContext.Current.CancellationToken));
        Assert.Equal(writtenAt, File.GetLastWriteTimeUtc(SettingsPath));
        Assert.Empty(Backups(SettingsPath));
        Assert.Empty(Backups(GlobalPath));
    }

    [Fact]
    public async Task ClaudeCode_WithoutKey_CreatesOneRelayKeyAndReusesItOnReRun()
    {
        var configPath = _dir.File("relay.json");
        await File.WriteAllTextAsync(configPath, DefaultConfigFile.Text, TestContext.Current.CancellationToken);

        var first = await CliAsync("setup", "claude-code", "--home", Home, "--config", configPath);
        var second = await CliAsync("setup", "claude-code", "--home", Home, "--config", configPath);

        Assert.True(first.ExitCode == 0, first.Stderr);
        Assert.Contains("a new Relay key \"claude-code\"", first.Stdout, StringComparison.Ordinal);
        Assert.True(second.ExitCode == 0, second.Stderr);
        Assert.Contains("already had", second.Stdout, StringComparison.Ordinal);
        var env = (await ReadJsonAsync(SettingsPath))["env"]!;
        Assert.Equal(RelayDefaults.ListenUrl, (string?)env["ANTHROPIC_BASE_URL"]);
        // The default relay.json names one model per family; setup picks them up.
        Assert.Equal(("claude-opus-4-7", "claude-sonnet-4-6", "claude-haiku-4-5"),
            ((string?)env["ANTHROPIC_DEFAULT_OPUS_MODEL"], (string?)env["ANTHROPIC_DEFAULT_SONNET_MODEL"], (string?)env["ANTHROPIC_DEFAULT_HAIKU_MODEL"]));

        await using var store = new SqliteRelayStore(_dir.File("relay.db"));
        var keys = await store.ListKeysAsync(includeRevoked: true, TestContext.Current.CancellationToken);
        var key = Assert.Single(keys);
        Assert.Equal("claude-code", key.Name);
        var token = (string)env["ANTHROPIC_AUTH_TOKEN"]!;
        Assert.NotNull(await store.FindActiveKeyAsync(ApiKeys.Hash(token), TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task ClaudeCode_Print_ShowsTheSettingsAndWritesNothing()
    {
        var (exit, stdout, _) = await CliAsync("setup", "claude-code", "--home", Home, "--url", "http://127.0.0.1:9999", "--key", "sk-relay-testkey-0123456789", "--print");

        Assert.Equal(0, exit);
        Assert.Contains("\"ANTHROPIC_AUTH_TOKEN\": \"sk-relay-testkey-0123456789\"", stdout, StringComparison.Ordinal);
        Assert.Contains("export ANTHROPIC_BASE_URL=http://127.0.0.1:9999", stdout, StringComparison.Ordinal);
        Assert.Contains("\"hasCompletedOnboarding\": true", stdout, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Home));
    }

    [Fact]
    public async Task ClaudeCode_UnreadableSettings_AreLeftAloneWithAMessage()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(SettingsPath)!);
        await File.WriteAllTextAsync(SettingsPath, "{ \"env\": ", TestContext.Current.CancellationToken);

        var (exit, _, stderr) = await CliAsync("setup", "claude-code", "--home", Home, "--key", "k-123456789");

        Assert.Equal(1, exit);
        Assert.Contains("not valid JSON", stderr, StringComparison.Ordinal);
        Assert.Equal("{ \"env\": ", await File.ReadAllTextAsync(SettingsPath, TestContext.Current.CancellationToken));
        Assert.False(File.Exists(GlobalPath));
    }

    [Fact]
    public async Task ClaudeCode_HonoursHomeFromTheEnvironment()
    {
        // The real executable with HOME pointed elsewhere, as the end-to-end tests and a user's shell use it.
        var (exit, _, stderr) = await RelayProcess.RunAsync(_dir.Path, new Dictionary<string, string?> { ["HOME"] = Home, ["CLAUDE_CONFIG_DIR"] = null },
            "setup", "claude-code", "--url", "http://127.0.0.1:9999", "--key", "sk-relay-testkey-0123456789");

        Assert.True(exit == 0, stderr);
        Assert.Equal("http://127.0.0.1:9999", (string?)(await ReadJsonAsync(SettingsPath))["env"]!["ANTHROPIC_BASE_URL"]);
        Assert.True((bool?)(await ReadJsonAsync(GlobalPath))["hasCompletedOnboarding"]);
    }

    [Fact]
    public async Task ClaudeDesktop_WritesMetaAndConfiguration()
    {
        var library = _dir.File("configLibrary");

        var (exit, stdout, stderr) = await CliAsync("setup", "claude-desktop", "--dir", library, "--url", "http://localhost:8787/", "--key", "sk-relay-desktop-0123456789",
            "--model", "claude-sonnet-4-6", "--model", "claude-opus-4-7");

        Assert.True(exit == 0, stderr);
        var meta = await ReadJsonAsync(Path.Combine(library, "_meta.json"));
        var id = (string)meta["appliedId"]!;
        Assert.True(Guid.TryParse(id, out _));
        var entry = Assert.Single(meta["entries"]!.AsArray());
        Assert.Equal((id, "Relay"), ((string?)entry!["id"], (string?)entry["name"]));
        var configuration = await ReadJsonAsync(Path.Combine(library, id + ".json"));
        Assert.Equal("gateway", (string?)configuration["inferenceProvider"]);
        Assert.Equal("http://localhost:8787", (string?)configuration["inferenceGatewayBaseUrl"]);
        Assert.Equal("sk-relay-desktop-0123456789", (string?)configuration["inferenceGatewayApiKey"]);
        Assert.Equal("bearer", (string?)configuration["inferenceGatewayAuthScheme"]);
        Assert.Equal(["claude-sonnet-4-6", "claude-opus-4-7"], configuration["inferenceModels"]!.AsArray().Select(m => (string)m!));
        Assert.Contains("fully quit Claude Desktop", stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("sk-relay-desktop-0123456789", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ClaudeDesktop_MergesWithAnExistingLibrary_AndReRunsIdempotently()
    {
        var library = _dir.File("configLibrary");
        Directory.CreateDirectory(library);
        const string otherId = "0f9c3a4e-1111-4222-8333-944455556666";
        const string otherConfig = """{"inferenceProvider":"bedrock","inferenceBedrockRegion":"us-east-1"}""";
        await File.WriteAllTextAsync(Path.Combine(library, "_meta.json"), $$"""{"appliedId":"{{otherId}}","entries":[{"id":"{{otherId}}","name":"Bedrock"}],"version":3}""", TestContext.Current.CancellationToken);
        await File.WriteAllTextAsync(Path.Combine(library, otherId + ".json"), otherConfig, TestContext.Current.CancellationToken);
        var configPath = _dir.File("relay.json");
        await File.WriteAllTextAsync(configPath, DefaultConfigFile.Text, TestContext.Current.CancellationToken);
        string[] args = ["setup", "claude-desktop", "--dir", library, "--config", configPath, "--auth-scheme", "x-api-key"];

        var first = await CliAsync(args);
        var metaAfterFirst = await File.ReadAllTextAsync(Path.Combine(library, "_meta.json"), TestContext.Current.CancellationToken);
        var second = await CliAsync(args);

        Assert.True(first.ExitCode == 0, first.Stderr);
        Assert.True(second.ExitCode == 0, second.Stderr);
        var meta = await ReadJsonAsync(Path.Combine(library, "_meta.json"));
        var id = (string)meta["appliedId"]!;
        Assert.NotEqual(otherId, id);
        Assert.Equal(3, (int?)meta["version"]);
        Assert.Equal([otherId, id], meta["entries"]!.AsArray().Select(e => (string)e!["id"]!));
        Assert.Equal(otherConfig, await File.ReadAllTextAsync(Path.Combine(library, otherId + ".json"), TestContext.Current.CancellationToken));
        Assert.Single(Backups(Path.Combine(library, "_meta.json")));

        // The models of relay.json, in its order; a key created once and kept.
        var configuration = await ReadJsonAsync(Path.Combine(library, id + ".json"));
        Assert.Equal(["claude-opus-4-7", "claude-sonnet-4-6", "claude-haiku-4-5"], configuration["inferenceModels"]!.AsArray().Select(m => (string)m!));
        Assert.Equal("x-api-key", (string?)configuration["inferenceGatewayAuthScheme"]);
        Assert.StartsWith(ApiKeys.Prefix, (string?)configuration["inferenceGatewayApiKey"], StringComparison.Ordinal);
        Assert.Equal(metaAfterFirst, await File.ReadAllTextAsync(Path.Combine(library, "_meta.json"), TestContext.Current.CancellationToken));
        Assert.Equal(2, second.Stdout.Split('\n').Count(l => l.TrimStart().StartsWith("unchanged ", StringComparison.Ordinal)));
        Assert.Single(Backups(Path.Combine(library, "_meta.json")));
    }

    [Fact]
    public async Task ClaudeDesktop_PlainHttpOffLoopback_IsRefusedWithTheFix()
    {
        var library = _dir.File("configLibrary");

        var (exit, _, stderr) = await CliAsync("setup", "claude-desktop", "--dir", library, "--url", "http://10.1.2.3:8787", "--key", "k-123456789", "--model", "claude-sonnet-4-6");

        Assert.Equal(1, exit);
        Assert.Contains("relay bridge --to http://10.1.2.3:8787", stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(library));
    }

    [Fact]
    public async Task ClaudeDesktop_Print_ShowsBothFilesAndWritesNothing()
    {
        var library = _dir.File("configLibrary");

        var (exit, stdout, _) = await CliAsync("setup", "claude-desktop", "--dir", library, "--url", "https://relay.example.com/claude", "--key", "k-123456789", "--model", "claude-sonnet-4-6", "--print");

        Assert.Equal(0, exit);
        Assert.Contains("_meta.json", stdout, StringComparison.Ordinal);
        Assert.Contains("\"inferenceGatewayBaseUrl\": \"https://relay.example.com/claude\"", stdout, StringComparison.Ordinal);
        Assert.False(Directory.Exists(library));
    }

    private static async Task<(int ExitCode, string Stdout, string Stderr)> CliAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = await RelayCli.RunAsync(args, output, error, TestContext.Current.CancellationToken);
        return (exit, output.ToString(), error.ToString());
    }

    private static async Task<JsonNode> ReadJsonAsync(string path) =>
        JsonNode.Parse(await File.ReadAllTextAsync(path, TestContext.Current.CancellationToken))!;

    private static string[] Backups(string path) =>
        Directory.Exists(Path.GetDirectoryName(path)) ? Directory.GetFiles(Path.GetDirectoryName(path)!, Path.GetFileName(path) + ".relay-backup-*") : [];
}
