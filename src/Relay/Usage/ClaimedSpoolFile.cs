using System.Globalization;
using System.Text.Json;
using Relay.Hosting;
using Relay.Storage;

namespace Relay.Usage;

/// <summary>A spool file this process holds for replay, alone: it is open with an exclusive lock (FileShare.None,
/// which .NET takes as <c>flock</c> on Unix and a sharing mode on Windows), so another process, or another replay in
/// this one, cannot open it until it is closed, and a crashed holder's lock goes with it.</summary>
internal sealed class ClaimedSpoolFile : IDisposable
{
    private readonly FileStream _stream;

    private ClaimedSpoolFile(string path, FileStream stream)
    {
        Path = path;
        _stream = stream;
    }

    public string Path { get; }

    public string Name => System.IO.Path.GetFileName(Path);

    /// <summary>The byte after the last line written to the store.</summary>
    public long Replayed { get; private set; }

    /// <summary>Set when reading stopped at a line that is not a record (see <see cref="ReadBatches"/>).</summary>
    public long? CorruptAt { get; private set; }

    /// <summary>The file, held; null when it is gone or someone else holds it.</summary>
    public static ClaimedSpoolFile? TryClaim(string path)
    {
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.None);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        // The previous holder deletes the file while it still holds it (see Finish); a claim that got the lock after
        // that holds a file with no name left, already fully written.
        if (!File.Exists(path))
        {
            stream.Dispose();
            return null;
        }

        var claimed = new ClaimedSpoolFile(path, stream);
        claimed.Replayed = ReadProgress(path);
        return claimed;
    }

    /// <summary>The records not yet written, in order, in batches of at most <paramref name="maxBatch"/>, each with the
    /// offset to save once it is written. A last line without its newline is the end of an append that never
    /// finished (and was never reported safe), so it is left out; any other unreadable line stops reading and sets
    /// <see cref="CorruptAt"/>.</summary>
    public IEnumerable<(List<UsageRecord> Records, long End)> ReadBatches(int maxBatch)
    {
        var origin = Replayed;
        var length = _stream.Length;
        if (origin >= length)
        {
            yield break;
        }

        var bytes = new byte[length - origin];
        _stream.Position = origin;
        _stream.ReadExactly(bytes);
        var batch = new List<UsageRecord>(maxBatch);
        var start = 0;
        while (start < bytes.Length)
        {
            var newline = Array.IndexOf(bytes, (byte)'\n', start);
            if (newline < 0)
            {
                break;
            }

            UsageRecord? record;
            try
            {
                record = JsonSerializer.Deserialize(bytes.AsSpan(start, newline - start), RelayJsonContext.Default.UsageRecord);
            }
            catch (JsonException)
            {
                record = null;
            }

            if (record is null)
            {
                CorruptAt = origin + start;
                break;
            }

            batch.Add(record);
            start = newline + 1;
            if (batch.Count == maxBatch)
            {
                yield return (batch, origin + start);
                batch = new List<UsageRecord>(maxBatch);
            }
        }

        if (batch.Count > 0)
        {
            yield return (batch, origin + start);
        }
    }

    /// <summary>Remembers, on disk, that the file is written up to <paramref name="offset"/>, so a stop or crash
    /// replays only what comes after it. Written aside and renamed over, so it is always whole.</summary>
    public void SaveProgress(long offset)
    {
        var progress = SpoolFileNames.ProgressPath(Path);
        var temporary = progress + ".tmp";
        using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            file.Write(System.Text.Encoding.ASCII.GetBytes(offset.ToString(CultureInfo.InvariantCulture)));
            file.Flush(flushToDisk: true);
        }

        File.Move(temporary, progress, overwrite: true);
        Replayed = offset;
    }

    /// <summary>Every record is in the store: the file goes, then its progress note.</summary>
    public void Finish()
    {
        if (OperatingSystem.IsWindows())
        {
            // Windows cannot delete a file its own handle holds without sharing; a claim that slips in between sees
            // the progress note at the end and has nothing to write, and deletes the file itself.
            _stream.Dispose();
            try
            {
                File.Delete(Path);
            }
            catch (IOException)
            {
                return;
            }
        }
        else
        {
            // Unlinked while held, so no other claim can take the file between the last write and its deletion.
            File.Delete(Path);
        }

        File.Delete(SpoolFileNames.ProgressPath(Path));
    }

    /// <summary>Keeps a file with an unreadable line for the operator, out of the replay's way.</summary>
    public string SetAside()
    {
        var kept = Path + SpoolFileNames.CorruptExtension;
        File.Move(Path, kept);
        return kept;
    }

    public void Dispose() => _stream.Dispose();

    private static long ReadProgress(string path)
    {
        try
        {
            var text = File.ReadAllText(SpoolFileNames.ProgressPath(path));
            return long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var offset) ? offset : 0;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return 0;
        }
    }
}
