using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Relay.Protocol.Json;

namespace Relay.Clients;

/// <summary>What saving a settings file did.</summary>
internal enum FileChangeKind
{
    Unchanged,
    Created,
    Updated,
}

/// <summary>One file a setup command wrote (or would have), and where the previous version was saved.</summary>
internal sealed record FileChange(string Path, FileChangeKind Kind, string? BackupPath);

/// <summary>
/// A JSON settings file owned by another program (Claude Code, Claude Desktop), changed key by key: everything Relay
/// does not set is kept as it was, the file is rewritten only when its content changes, and the previous version is
/// copied to a timestamped backup first.
/// </summary>
/// <remarks>
/// Content, not text, decides "changed": a re-run with the same values leaves the file, its formatting and its
/// timestamp alone, so setup is idempotent. Writes go to a temporary file that replaces the original, so a crash
/// never leaves half a file. On Unix a new file is created readable by its owner only (it holds a key).
/// </remarks>
internal sealed class JsonSettingsFile
{
    private static readonly JsonDocumentOptions ReadOptions = new() { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };
    private static readonly JsonSerializerOptions WriteOptions = new() { WriteIndented = true, Encoder = ProtocolJson.Encoder, IndentSize = 2 };

    private readonly string? _originalCanonical;

    private JsonSettingsFile(string path, JsonObject root, string? originalCanonical)
    {
        Path = path;
        Root = root;
        _originalCanonical = originalCanonical;
    }

    public string Path { get; }

    public bool Exists => _originalCanonical is not null;

    /// <summary>The content; change it in place, then <see cref="Save"/>.</summary>
    public JsonObject Root { get; }

    /// <exception cref="ClientSetupException">The file exists but is not a JSON object; it is left untouched.</exception>
    public static JsonSettingsFile Load(string path)
    {
        var fullPath = System.IO.Path.GetFullPath(path);
        if (!File.Exists(fullPath))
        {
            return new JsonSettingsFile(fullPath, [], null);
        }

        var text = File.ReadAllText(fullPath);
        if (string.IsNullOrWhiteSpace(text))
        {
            return new JsonSettingsFile(fullPath, [], "");
        }

        JsonNode? node;
        try
        {
            node = JsonNode.Parse(text, documentOptions: ReadOptions);
        }
        catch (JsonException ex)
        {
            throw new ClientSetupException($"{fullPath} is not valid JSON (line {ex.LineNumber + 1}): fix or move it, then run this again. Nothing was changed.");
        }

        if (node is not JsonObject root)
        {
            throw new ClientSetupException($"{fullPath} does not hold a JSON object: fix or move it, then run this again. Nothing was changed.");
        }

        return new JsonSettingsFile(fullPath, root, Canonical(root));
    }

    /// <summary>The object under <paramref name="name"/>, created when missing.</summary>
    /// <exception cref="ClientSetupException">The key holds something other than an object.</exception>
    public JsonObject ObjectAt(string name)
    {
        switch (Root[name])
        {
            case JsonObject existing:
                return existing;
            case null:
                var created = new JsonObject();
                Root[name] = created;
                return created;
            default:
                throw new ClientSetupException($"{Path}: \"{name}\" is not a JSON object; fix it by hand, then run this again. Nothing was changed.");
        }
    }

    /// <summary>The text this file would be written with.</summary>
    public string Render() => Root.ToJsonString(WriteOptions) + Environment.NewLine;

    /// <summary>Writes the file if its content changed, after backing up the previous version.</summary>
    public FileChange Save(TimeProvider time)
    {
        if (_originalCanonical is not null && _originalCanonical == Canonical(Root))
        {
            return new FileChange(Path, FileChangeKind.Unchanged, null);
        }

        var directory = System.IO.Path.GetDirectoryName(Path)!;
        Directory.CreateDirectory(directory);
        string? backup = null;
        UnixFileMode? mode = null;
        if (File.Exists(Path))
        {
            backup = FreeBackupPath(Path, time.GetLocalNow());
            File.Copy(Path, backup);
            if (!OperatingSystem.IsWindows())
            {
                mode = File.GetUnixFileMode(Path);
            }
        }

        var temporary = System.IO.Path.Combine(directory, $".{System.IO.Path.GetFileName(Path)}.relay-{Environment.ProcessId}.tmp");
        File.WriteAllText(temporary, Render(), new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(temporary, mode ?? (UnixFileMode.UserRead | UnixFileMode.UserWrite));
        }

        File.Move(temporary, Path, overwrite: true);
        return new FileChange(Path, backup is null ? FileChangeKind.Created : FileChangeKind.Updated, backup);
    }

    private static string FreeBackupPath(string path, DateTimeOffset now)
    {
        var stamp = now.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture);
        var candidate = $"{path}.relay-backup-{stamp}";
        for (var i = 2; File.Exists(candidate); i++)
        {
            candidate = $"{path}.relay-backup-{stamp}-{i}";
        }

        return candidate;
    }

    private static string Canonical(JsonNode node) => node.ToJsonString(ProtocolJson.NodeOptions);
}
