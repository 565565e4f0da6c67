using System.Globalization;
using System.Text.Json.Nodes;

namespace Relay.Clients;

/// <summary>Where Claude Code keeps its settings: <c>~/.claude/settings.json</c> and <c>~/.claude.json</c>.</summary>
/// <param name="SettingsFile">User settings; its <c>env</c> block is applied to every session.</param>
/// <param name="GlobalConfigFile">Claude Code's own state file; <c>hasCompletedOnboarding</c> skips the sign-in wizard.</param>
internal sealed record ClaudeCodePaths(string SettingsFile, string GlobalConfigFile)
{
    /// <summary>The paths Claude Code itself uses: <c>CLAUDE_CONFIG_DIR</c> when set (both files live there),
    /// else the home folder. <paramref name="home"/> overrides both.</summary>
    public static ClaudeCodePaths Resolve(string? home, Func<string, string?> environment)
    {
        if (home is null && environment("CLAUDE_CONFIG_DIR") is { Length: > 0 } configDir)
        {
            return new ClaudeCodePaths(Path.Combine(configDir, "settings.json"), Path.Combine(configDir, ".claude.json"));
        }

        var root = home ?? Environment.GetFolderPath(Environment.SpecialFolder.UserProfile, Environment.SpecialFolderOption.DoNotVerify);
        if (string.IsNullOrEmpty(root))
        {
            throw new ClientSetupException("Cannot tell where your home folder is (HOME is not set): give it with --home.");
        }

        return new ClaudeCodePaths(Path.Combine(root, ".claude", "settings.json"), Path.Combine(root, ".claude.json"));
    }
}

/// <summary>What <c>relay setup claude-code</c> puts in the <c>env</c> block.</summary>
internal sealed record ClaudeCodeSettings
{
    public required string BaseUrl { get; init; }

    /// <summary>Sent as <c>Authorization: Bearer</c>; unlike <c>ANTHROPIC_API_KEY</c> it needs no approval prompt.</summary>
    public required string AuthToken { get; init; }

    public string? OpusModel { get; init; }

    public string? SonnetModel { get; init; }

    public string? HaikuModel { get; init; }

    /// <summary><c>ANTHROPIC_MODEL</c>: the session's model, which wins over the tier names.</summary>
    public string? MainModel { get; init; }

    public int TimeoutSeconds { get; init; } = 600;

    /// <summary>The variables in the order they are written.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Environment()
    {
        var env = new List<KeyValuePair<string, string>>
        {
            new("ANTHROPIC_BASE_URL", BaseUrl),
            new("ANTHROPIC_AUTH_TOKEN", AuthToken),
        };
        Add(env, "ANTHROPIC_DEFAULT_OPUS_MODEL", OpusModel);
        Add(env, "ANTHROPIC_DEFAULT_SONNET_MODEL", SonnetModel);
        Add(env, "ANTHROPIC_DEFAULT_HAIKU_MODEL", HaikuModel);
        Add(env, "ANTHROPIC_MODEL", MainModel);
        env.Add(new("API_TIMEOUT_MS", (TimeoutSeconds * 1000L).ToString(CultureInfo.InvariantCulture)));
        // No telemetry, error reporting, update checks or /api/hello probes: only model calls reach the gateway.
        env.Add(new("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1"));
        return env;
    }

    private static void Add(List<KeyValuePair<string, string>> env, string name, string? value)
    {
        if (!string.IsNullOrEmpty(value))
        {
            env.Add(new(name, value));
        }
    }
}

/// <summary>The outcome of applying (or previewing) Claude Code settings.</summary>
internal sealed record ClaudeCodeSetupResult(JsonSettingsFile Settings, JsonSettingsFile GlobalConfig, IReadOnlyList<FileChange> Changes, IReadOnlyList<string> Notes);

/// <summary>Merges Relay's connection settings into Claude Code's files without touching anything else there.</summary>
internal static class ClaudeCodeSetup
{
    /// <summary>Variables that would undo the Relay settings: Claude Code sends <c>ANTHROPIC_API_KEY</c> as
    /// <c>x-api-key</c> next to the bearer token, and a gateway that prefers x-api-key (Relay does) would use it.</summary>
    private static readonly string[] ConflictingVariables = ["ANTHROPIC_API_KEY"];

    /// <summary>Variables kept as they are but worth a word, because they override what setup wrote.</summary>
    private static readonly string[] OverridingVariables = ["ANTHROPIC_MODEL", "ANTHROPIC_SMALL_FAST_MODEL"];

    /// <param name="write">False computes the result without writing (<c>--print</c>).</param>
    public static ClaudeCodeSetupResult Apply(ClaudeCodePaths paths, ClaudeCodeSettings settings, TimeProvider time, bool write)
    {
        var settingsFile = JsonSettingsFile.Load(paths.SettingsFile);
        var globalFile = JsonSettingsFile.Load(paths.GlobalConfigFile);
        var notes = new List<string>();

        var env = settingsFile.ObjectAt("env");
        var written = settings.Environment();
        foreach (var (name, value) in written)
        {
            env[name] = value;
        }

        foreach (var name in ConflictingVariables)
        {
            if (env.Remove(name))
            {
                notes.Add($"removed env.{name}: Claude Code would send it as x-api-key beside the Relay key, and it would win.");
            }
        }

        foreach (var name in OverridingVariables)
        {
            if (!written.Any(w => w.Key == name) && env[name] is JsonValue value)
            {
                notes.Add($"kept env.{name}={value}: it overrides the model names above, so Relay must map it too (or remove it).");
            }
        }

        if (settingsFile.Root["apiKeyHelper"] is not null)
        {
            notes.Add("settings.json has an apiKeyHelper: Claude Code sends its key as x-api-key too, and Relay prefers that header; remove apiKeyHelper to use the Relay key.");
        }

        globalFile.Root["hasCompletedOnboarding"] = true;

        var changes = write
            ? new[] { settingsFile.Save(time), globalFile.Save(time) }
            : [];
        return new ClaudeCodeSetupResult(settingsFile, globalFile, changes, notes);
    }
}
