using System.Globalization;

namespace Relay.Usage;

/// <summary>How usage spool files are named: by creation time first, so sorting names puts the oldest first, then
/// the process and a random part, so instances sharing a folder (even in containers with the same process ids) never
/// pick one name.</summary>
internal static class SpoolFileNames
{
    public const string Extension = ".jsonl";

    /// <summary>Beside a spool file: how far it has been written to the store (a byte offset).</summary>
    public const string ProgressExtension = ".replayed";

    /// <summary>A file with a line that cannot be read is renamed to this and left for the operator.</summary>
    public const string CorruptExtension = ".corrupt";

    private const string Prefix = "usage-";

    public static string New(DateTimeOffset now) => string.Create(CultureInfo.InvariantCulture,
        $"{Prefix}{now.UtcDateTime:yyyyMMdd'T'HHmmss'.'fffffff}Z-{Environment.ProcessId}-{Random.Shared.Next():x8}{Extension}");

    public static string ProgressPath(string spoolFile) => spoolFile + ProgressExtension;

    /// <summary>The spool files in <paramref name="folder"/>, oldest first; none when the folder does not exist.</summary>
    public static List<string> List(string folder)
    {
        if (!Directory.Exists(folder))
        {
            return [];
        }

        var files = Directory.EnumerateFiles(folder, Prefix + "*" + Extension)
            .Where(f => f.EndsWith(Extension, StringComparison.Ordinal))
            .ToList();
        files.Sort(StringComparer.Ordinal);
        return files;
    }

    /// <summary>How many spool files the folder holds and their bytes (what counts against the disk limit).</summary>
    public static (int Files, long Bytes) Measure(string folder)
    {
        var files = 0;
        long bytes = 0;
        foreach (var file in List(folder))
        {
            try
            {
                bytes += new FileInfo(file).Length;
                files++;
            }
            catch (IOException)
            {
                // Deleted by a replay meanwhile.
            }
        }

        return (files, bytes);
    }
}
