using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Relay.Clients;

/// <summary>One entry of Claude Desktop's <c>inferenceModels</c>.</summary>
/// <param name="Name">The model id Desktop sends.</param>
/// <param name="Family">The Claude tier (sonnet, opus…) when known; written only for names that do not look like Claude's.</param>
internal sealed record DesktopModel(string Name, string? Family);

/// <summary>What <c>relay setup claude-desktop</c> writes into a third-party inference configuration.</summary>
internal sealed record ClaudeDesktopSettings
{
    public required string BaseUrl { get; init; }

    /// <summary><c>inferenceGatewayApiKey</c>; Desktop requires it to be non-empty.</summary>
    public required string ApiKey { get; init; }

    /// <summary><c>bearer</c> (Desktop's default) or <c>x-api-key</c>.</summary>
    public string AuthScheme { get; init; } = "bearer";

    /// <summary>The first is the picker's default.</summary>
    public required IReadOnlyList<DesktopModel> Models { get; init; }

    /// <summary>The configuration's name in the library; a re-run updates the entry with this name.</summary>
    public string EntryName { get; init; } = "Relay";
}

/// <summary>The outcome of applying (or previewing) a Desktop configuration.</summary>
internal sealed record ClaudeDesktopSetupResult(string Id, JsonSettingsFile Meta, JsonSettingsFile Configuration, IReadOnlyList<FileChange> Changes, IReadOnlyList<string> Notes);

/// <summary>
/// Writes Claude Desktop's local third-party inference configuration: <c>configLibrary/_meta.json</c>, which names
/// the applied configuration, and <c>configLibrary/&lt;id&gt;.json</c>, a flat object of configuration keys
/// (the layout Claude Desktop's third-party inference settings use). Other configurations and unknown keys are kept.
/// </summary>
internal static partial class ClaudeDesktopSetup
{
    /// <summary>The folder the in-app "Configure third-party inference" window writes to. The Linux path is
    /// third-party documentation only (there is no official Linux build); <c>--dir</c> covers anything else.</summary>
    public static string DefaultLibraryFolder(Func<string, string?> environment)
    {
        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile, Environment.SpecialFolderOption.DoNotVerify);
        if (OperatingSystem.IsMacOS())
        {
            return Path.Combine(home, "Library", "Application Support", "Claude-3p", "configLibrary");
        }

        if (OperatingSystem.IsWindows())
        {
            var local = environment("LOCALAPPDATA") is { Length: > 0 } l ? l : Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.DoNotVerify);
            return Path.Combine(local, "Claude-3p", "configLibrary");
        }

        var config = environment("XDG_CONFIG_HOME") is { Length: > 0 } x ? x : Path.Combine(home, ".config");
        return Path.Combine(config, "Claude-3p", "configLibrary");
    }

    /// <summary>The key already written for <paramref name="entryName"/>, so a re-run can keep it.</summary>
    public static string? ExistingApiKey(string libraryFolder, string entryName)
    {
        var meta = JsonSettingsFile.Load(Path.Combine(libraryFolder, "_meta.json"));
        return FindEntryId(meta.Root, entryName) is { } id
            && JsonSettingsFile.Load(Path.Combine(libraryFolder, id + ".json")).Root["inferenceGatewayApiKey"] is JsonValue key
            && key.TryGetValue<string>(out var text) ? text : null;
    }

    public static ClaudeDesktopSetupResult Apply(string libraryFolder, ClaudeDesktopSettings settings, TimeProvider time, bool write)
    {
        var notes = new List<string>();
        var meta = JsonSettingsFile.Load(Path.Combine(libraryFolder, "_meta.json"));
        var id = FindEntryId(meta.Root, settings.EntryName) ?? Guid.NewGuid().ToString("D");
        var previous = meta.Root["appliedId"] is JsonValue applied && applied.TryGetValue<string>(out var a) ? a : null;
        if (previous is not null && previous != id)
        {
            notes.Add($"the configuration that was applied before ({previous}) stays in the library; pick it again in the app to switch back.");
        }

        meta.Root["appliedId"] = id;
        var entries = meta.Root["entries"] as JsonArray;
        if (entries is null)
        {
            entries = [];
            meta.Root["entries"] = entries;
        }

        if (!entries.OfType<JsonObject>().Any(e => IdOf(e) == id))
        {
            entries.Add(new JsonObject { ["id"] = id, ["name"] = settings.EntryName });
        }

        var configuration = JsonSettingsFile.Load(Path.Combine(libraryFolder, id + ".json"));
        var root = configuration.Root;
        root["inferenceProvider"] = "gateway";
        root["inferenceGatewayBaseUrl"] = settings.BaseUrl;
        root["inferenceGatewayApiKey"] = settings.ApiKey;
        root["inferenceGatewayAuthScheme"] = settings.AuthScheme;
        var models = new JsonArray();
        foreach (var model in settings.Models)
        {
            if (LooksLikeClaude(model.Name) || model.Family is null)
            {
                models.Add(model.Name);
                if (!LooksLikeClaude(model.Name))
                {
                    notes.Add($"'{model.Name}' does not look like a Claude model id, and Desktop refuses those in its model list; "
                        + "use a Claude-style name and map it in relay.json, or give it a \"family\".");
                }
            }
            else
            {
                models.Add(new JsonObject { ["name"] = model.Name, ["anthropicFamilyTier"] = model.Family });
            }
        }

        root["inferenceModels"] = models;
        var changes = write ? new[] { configuration.Save(time), meta.Save(time) } : [];
        return new ClaudeDesktopSetupResult(id, meta, configuration, changes, notes);
    }

    /// <summary>Desktop's model filter keeps Claude-looking ids (field reports; the exact rule is not published).</summary>
    public static bool LooksLikeClaude(string model) =>
        model.StartsWith("claude-", StringComparison.OrdinalIgnoreCase) || model.StartsWith("anthropic/claude-", StringComparison.OrdinalIgnoreCase)
        || model is "sonnet" or "opus" or "haiku";

    private static string? FindEntryId(JsonObject meta, string entryName) =>
        (meta["entries"] as JsonArray)?.OfType<JsonObject>()
            .Where(e => e["name"] is JsonValue n && n.TryGetValue<string>(out var name) && name == entryName)
            .Select(IdOf)
            .FirstOrDefault(id => id is not null && SafeId().IsMatch(id));

    private static string? IdOf(JsonObject entry) => entry["id"] is JsonValue v && v.TryGetValue<string>(out var id) ? id : null;

    /// <summary>Ids become file names; anything else in an existing entry is not reused.</summary>
    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$")]
    private static partial Regex SafeId();
}
