using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using Relay.Auth;
using Relay.Clients;
using Relay.Configuration;
using Relay.Routing;
using Relay.Storage;

namespace Relay.Cli;

/// <summary><c>relay setup claude-code|claude-desktop</c>: each client's manual gateway setup as one command.</summary>
/// <remarks>
/// Defaults come from the local relay.json when there is one (its listen URL, its models by family, a new key in its
/// database), so on the machine that runs Relay no option is needed. Elsewhere, give <c>--url</c> and <c>--key</c>.
/// </remarks>
internal static class SetupCommands
{
    private static readonly JsonSerializerOptions PrintOptions = new() { WriteIndented = true, Encoder = Protocol.Json.ProtocolJson.Encoder };

    public static Command Create()
    {
        var setup = new Command("setup", "Point Claude Code or Claude Desktop at Relay (or any Anthropic-compatible gateway).");
        setup.Subcommands.Add(ClaudeCodeCommand());
        setup.Subcommands.Add(ClaudeDesktopCommand());
        return setup;
    }

    private static Command ClaudeCodeCommand()
    {
        var config = CliOptions.Config();
        var url = UrlOption();
        var key = KeyOption("claude-code");
        var opus = new Option<string?>("--opus") { Description = "ANTHROPIC_DEFAULT_OPUS_MODEL (default: the first \"opus\" model in relay.json)." };
        var sonnet = new Option<string?>("--sonnet") { Description = "ANTHROPIC_DEFAULT_SONNET_MODEL (default: the first \"sonnet\" model in relay.json)." };
        var haiku = new Option<string?>("--haiku") { Description = "ANTHROPIC_DEFAULT_HAIKU_MODEL (default: the first \"haiku\" model in relay.json)." };
        var model = new Option<string?>("--model") { Description = "ANTHROPIC_MODEL: one model for every session, overriding the three above." };
        var timeout = new Option<int>("--timeout") { Description = "API_TIMEOUT_MS, in seconds.", DefaultValueFactory = _ => RelayDefaults.TimeoutSeconds };
        var home = new Option<string?>("--home") { Description = "Use this folder instead of your home folder (default: CLAUDE_CONFIG_DIR if set, else ~)." };
        var print = new Option<bool>("--print") { Description = "Print the settings instead of writing them." };
        var command = new Command("claude-code", "Write ~/.claude/settings.json (env block) and ~/.claude.json so `claude` uses Relay.")
        {
            url, key, opus, sonnet, haiku, model, timeout, home, print, config,
        };
        command.SetAction((parse, ct) => GuardAsync(parse, async output =>
        {
            var dryRun = parse.GetValue(print);
            var local = LocalRelay.Load(parse.GetValue(config)!);
            var baseUrl = await ResolveUrlAsync(parse, parse.GetValue(url), local);
            var paths = ClaudeCodePaths.Resolve(parse.GetValue(home) is { } h ? Path.GetFullPath(h) : null, Environment.GetEnvironmentVariable);
            var existing = JsonSettingsFile.Load(paths.SettingsFile).Root["env"] is JsonObject currentEnv
                && currentEnv["ANTHROPIC_AUTH_TOKEN"] is JsonValue token && token.TryGetValue<string>(out var tokenText) ? tokenText : null;
            var credential = await ResolveKeyAsync(parse.GetValue(key), existing, local, "claude-code", dryRun, ct);
            if (parse.GetValue(timeout) is < 1 or > 86_400)
            {
                throw new ClientSetupException("--timeout must be between 1 and 86400 seconds.");
            }

            var settings = new ClaudeCodeSettings
            {
                BaseUrl = baseUrl.Value,
                AuthToken = credential.Key,
                OpusModel = parse.GetValue(opus) ?? local.ModelForFamily("opus"),
                SonnetModel = parse.GetValue(sonnet) ?? local.ModelForFamily("sonnet"),
                HaikuModel = parse.GetValue(haiku) ?? local.ModelForFamily("haiku"),
                MainModel = parse.GetValue(model),
                TimeoutSeconds = parse.GetValue(timeout),
            };
            var result = ClaudeCodeSetup.Apply(paths, settings, TimeProvider.System, write: !dryRun);
            var notes = result.Notes.Concat(local.UnroutableNotes([settings.OpusModel, settings.SonnetModel, settings.HaikuModel, settings.MainModel])).ToList();
            if (!baseUrl.IsHttps && !baseUrl.IsLoopback)
            {
                notes.Add($"{baseUrl} is plain HTTP on the network: the key travels unencrypted. Claude Code accepts it; prefer HTTPS.");
            }

            if (dryRun)
            {
                await output.WriteLineAsync($"# {paths.SettingsFile}: merged into \"env\" (other settings are kept)");
                var env = new JsonObject();
                foreach (var (name, value) in settings.Environment())
                {
                    env[name] = value;
                }

                await output.WriteLineAsync(new JsonObject { ["env"] = env }.ToJsonString(PrintOptions));
                await output.WriteLineAsync($"# {paths.GlobalConfigFile}: merged (skips the sign-in screen)");
                await output.WriteLineAsync("""{ "hasCompletedOnboarding": true }""");
                await output.WriteLineAsync("# or, for one shell session:");
                foreach (var (name, value) in settings.Environment())
                {
                    await output.WriteLineAsync($"export {name}={value}");
                }

                await WriteNotesAsync(output, notes);
                return 0;
            }

            await output.WriteLineAsync($"Claude Code now uses {baseUrl} with {credential.Description}.");
            await WriteChangesAsync(output, result.Changes);
            foreach (var (name, value) in settings.Environment())
            {
                await output.WriteLineAsync($"  env.{name} = {(name == "ANTHROPIC_AUTH_TOKEN" ? ApiKeys.Mask(value) : value)}");
            }

            await WriteNotesAsync(output, notes);
            await output.WriteLineAsync("New `claude` sessions use it (a running session keeps its settings). Check the connection with:");
            await output.WriteLineAsync($"  relay doctor {baseUrl} --key <the key>");
            return 0;
        }));
        return command;
    }

    private static Command ClaudeDesktopCommand()
    {
        var config = CliOptions.Config();
        var url = UrlOption();
        var key = KeyOption("claude-desktop");
        var models = new Option<string[]>("--model")
        {
            Description = "A model for Desktop's list; repeat it, the first is the default (default: the models named in relay.json).",
            AllowMultipleArgumentsPerToken = false,
        };
        var scheme = new Option<string>("--auth-scheme") { Description = "How Desktop sends the key: bearer or x-api-key.", DefaultValueFactory = _ => "bearer" };
        scheme.AcceptOnlyFromAmong("bearer", "x-api-key");
        var name = new Option<string>("--name") { Description = "The configuration's name in Desktop's library; a re-run updates it.", DefaultValueFactory = _ => "Relay" };
        var dir = new Option<string?>("--dir") { Description = "Desktop's configLibrary folder (default: the macOS or Windows location for this user)." };
        var print = new Option<bool>("--print") { Description = "Print the files instead of writing them." };
        var command = new Command("claude-desktop", "Write a Claude Desktop third-party inference (Gateway) configuration that uses Relay.")
        {
            url, key, models, scheme, name, dir, print, config,
        };
        command.SetAction((parse, ct) => GuardAsync(parse, async output =>
        {
            var dryRun = parse.GetValue(print);
            var local = LocalRelay.Load(parse.GetValue(config)!);
            var baseUrl = await ResolveUrlAsync(parse, parse.GetValue(url), local);
            if (!baseUrl.DesktopAccepts)
            {
                throw new ClientSetupException($"Claude Desktop refuses plain HTTP except on loopback, and {baseUrl} is neither HTTPS nor loopback. Either serve "
                    + "Relay over HTTPS (an https:// listen URL with \"tls\"; `relay cert` makes a test certificate), or run "
                    + $"`relay bridge --to {baseUrl}` on the Desktop machine and use http://127.0.0.1:18080. Nothing was written.");
            }

            var library = parse.GetValue(dir) is { } d ? Path.GetFullPath(d) : ClaudeDesktopSetup.DefaultLibraryFolder(Environment.GetEnvironmentVariable);
            var entryName = parse.GetValue(name)!;
            var credential = await ResolveKeyAsync(parse.GetValue(key), ClaudeDesktopSetup.ExistingApiKey(library, entryName), local, "claude-desktop", dryRun, ct);
            var chosen = parse.GetValue(models) is { Length: > 0 } given
                ? given.Select(m => new DesktopModel(m, local.FamilyOf(m))).ToList()
                : local.ListedModels();
            if (chosen.Count == 0)
            {
                throw new ClientSetupException("No models to list: name them with --model (the first is the default), or run this where relay.json lists some.");
            }

            var settings = new ClaudeDesktopSettings
            {
                BaseUrl = baseUrl.Value,
                ApiKey = credential.Key,
                AuthScheme = parse.GetValue(scheme)!,
                Models = chosen,
                EntryName = entryName,
            };
            var result = ClaudeDesktopSetup.Apply(library, settings, TimeProvider.System, write: !dryRun);
            var notes = result.Notes.Concat(local.UnroutableNotes(chosen.Select(m => m.Name))).ToList();
            if (dryRun)
            {
                await output.WriteLineAsync($"# {result.Meta.Path}");
                await output.WriteAsync(result.Meta.Render());
                await output.WriteLineAsync($"# {result.Configuration.Path}");
                await output.WriteAsync(result.Configuration.Render());
                await WriteNotesAsync(output, notes);
                return 0;
            }

            await output.WriteLineAsync($"Claude Desktop configuration \"{entryName}\" ({result.Id}) uses {baseUrl} with {credential.Description}.");
            await WriteChangesAsync(output, result.Changes);
            await output.WriteLineAsync($"  models: {string.Join(", ", chosen.Select(m => m.Name))} (default: {chosen[0].Name})");
            await WriteNotesAsync(output, notes);
            await output.WriteLineAsync("Now fully quit Claude Desktop (also from the menu bar or tray) and open it again: it reads this only at launch.");
            await output.WriteLineAsync("A managed configuration (MDM profile, registry policy) wins over this file; Help > Troubleshooting > Copy Managed Configuration Report shows what it uses.");
            return 0;
        }));
        return command;
    }

    private static Option<string?> UrlOption() => new("--url")
    {
        Description = "The gateway's base URL, without /v1 (default: Relay's listen URL from relay.json, else " + RelayDefaults.ListenUrl + ").",
    };

    private static Option<string?> KeyOption(string keyName) => new("--key")
    {
        Description = $"The gateway key (default: the key already configured if it is still active, else a new Relay key named \"{keyName}\").",
    };

    private static async Task<GatewayUrl> ResolveUrlAsync(ParseResult parse, string? given, LocalRelay local)
    {
        var text = given ?? local.BaseUrl;
        if (!GatewayUrl.TryParse(text, out var url, out var error))
        {
            throw new ClientSetupException("--url: " + error);
        }

        foreach (var correction in url.Corrections)
        {
            await parse.InvocationConfiguration.Error.WriteLineAsync($"relay: note: {correction}.");
        }

        return url;
    }

    /// <summary>A key to write, and how to describe it without showing it.</summary>
    private sealed record Credential(string Key, string Description);

    private static async Task<Credential> ResolveKeyAsync(string? given, string? existing, LocalRelay local, string keyName, bool dryRun, CancellationToken cancellationToken)
    {
        if (!string.IsNullOrWhiteSpace(given))
        {
            return new Credential(given.Trim(), $"the key given ({ApiKeys.Mask(given.Trim())})");
        }

        if (local.Config is null && !string.IsNullOrWhiteSpace(existing))
        {
            return new Credential(existing, $"the key it already had ({ApiKeys.Mask(existing)}; not checked, there is no relay.json here)");
        }

        if (local.Config is null)
        {
            throw new ClientSetupException($"No relay.json at {local.ConfigPath} to create a key from: give the gateway key with --key (or point --config at Relay's config).");
        }

        await using var store = await CliOptions.OpenStoreAsync(local.Config, cancellationToken);
        if (existing is not null && existing.StartsWith(ApiKeys.Prefix, StringComparison.Ordinal)
            && await store.FindActiveKeyAsync(ApiKeys.Hash(existing), cancellationToken) is { } active)
        {
            return new Credential(existing, $"the Relay key \"{active.Name}\" it already had ({ApiKeys.Mask(existing)})");
        }

        if (dryRun)
        {
            return new Credential($"<a new Relay key named {keyName}>", "a new key");
        }

        for (var i = 1; ; i++)
        {
            var name = i == 1 ? keyName : $"{keyName}-{i}";
            var key = ApiKeys.Generate();
            try
            {
                await store.CreateKeyAsync(name, ApiKeys.Hash(key), ApiKeys.DisplayPrefix(key), cancellationToken);
                return new Credential(key, $"a new Relay key \"{name}\" ({ApiKeys.Mask(key)}, in {store.Description})");
            }
            catch (DuplicateKeyNameException) when (i < 100)
            {
            }
        }
    }

    private static async Task WriteChangesAsync(TextWriter output, IEnumerable<FileChange> changes)
    {
        foreach (var change in changes)
        {
            var what = change.Kind switch
            {
                FileChangeKind.Created => "created",
                FileChangeKind.Updated => "updated",
                _ => "unchanged",
            };
            await output.WriteLineAsync($"  {what} {change.Path}{(change.BackupPath is null ? "" : $" (previous version: {change.BackupPath})")}");
        }
    }

    private static async Task WriteNotesAsync(TextWriter output, IEnumerable<string> notes)
    {
        foreach (var note in notes)
        {
            await output.WriteLineAsync($"  note: {note}");
        }
    }

    private static Task<int> GuardAsync(ParseResult parse, Func<TextWriter, Task<int>> body) => CliOptions.GuardAsync(parse, async output =>
    {
        try
        {
            return await body(output);
        }
        catch (ClientSetupException ex)
        {
            await parse.InvocationConfiguration.Error.WriteLineAsync($"relay: {ex.Message}");
            return 1;
        }
    });

    /// <summary>The Relay on this machine, as far as its relay.json tells: where it listens and what it routes.</summary>
    private sealed class LocalRelay
    {
        private ModelCatalog? _catalog;

        public required string ConfigPath { get; init; }

        public RelayConfig? Config { get; init; }

        public string BaseUrl => Config is null ? RelayDefaults.ListenUrl : Banner.ClientBaseUrl(Config.Listen[0]) + Config.BasePath;

        public static LocalRelay Load(string path)
        {
            var full = Path.GetFullPath(path);
            return new LocalRelay { ConfigPath = full, Config = File.Exists(full) ? ConfigLoader.Load(full) : null };
        }

        private ModelCatalog? Catalog => Config is null ? null : _catalog ??= new ModelCatalog(Config.Models);

        public string? ModelForFamily(string family) =>
            Catalog?.Listed.FirstOrDefault(m => m.Family == family)?.Name;

        public string? FamilyOf(string model) => Catalog is { } c && c.TryResolve(model, out var entry) ? entry.Family : null;

        public List<DesktopModel> ListedModels() => Catalog?.Listed.Select(m => new DesktopModel(m.Name, m.Family)).ToList() ?? [];

        /// <summary>Warnings for names the local Relay would answer with 404.</summary>
        public IEnumerable<string> UnroutableNotes(IEnumerable<string?> models)
        {
            if (Catalog is not { } catalog)
            {
                yield break;
            }

            foreach (var model in models.OfType<string>().Distinct())
            {
                if (!catalog.TryResolve(model, out _))
                {
                    yield return $"'{model}' is not configured in {ConfigPath}: Relay would answer 404 for it. Map it under \"models\".";
                }
            }
        }
    }
}
