using System.Buffers;
using System.Text.Json;
using Relay.Configuration;
using Relay.Hosting;
using Relay.Storage;

namespace Relay.Usage;

/// <summary>Usage records the store could not take, on local disk until <see cref="UsageReplay"/> writes them back:
/// append-only files of JSON lines, one record a line, each append flushed to the disk before it counts as safe.</summary>
/// <remarks>One file at a time is this process's to append to (held with an exclusive lock, so no other process writes
/// or replays it); it is closed ("sealed") when it grows large or when the replay has caught up with it. The folder's
/// size is bounded by <c>usageSpool.maxMegabytes</c>: beyond it an append is refused, and the writer falls back to
/// making requests wait, never to dropping records.</remarks>
internal sealed class UsageSpool : IDisposable
{
    /// <summary>A file is sealed at this size, so a replay reads it whole and a stop leaves little to repeat.</summary>
    private const long SealBytes = 16L * 1024 * 1024;

    /// <summary>While records wait, their size is logged at most this often.</summary>
    private static readonly TimeSpan SizeLogInterval = TimeSpan.FromSeconds(30);

    private readonly Lock _lock = new();
    private readonly ILogger<UsageSpool> _logger;
    private readonly TimeProvider _time;
    private readonly long _maxBytes;
    private readonly int _maxMegabytes;
    private readonly ArrayBufferWriter<byte> _buffer = new(64 * 1024);
    private readonly Utf8JsonWriter _json;
    private readonly SemaphoreSlim _appended = new(0, 1);

    /// <summary>This process's files not yet written back, oldest first; the last may be <see cref="_current"/>.</summary>
    private readonly List<string> _own = [];

    private FileStream? _current;
    private string? _currentPath;
    private volatile bool _hasBacklog;
    private bool _full;
    private long? _lastSizeLog;

    public UsageSpool(RelayConfig config, ILogger<UsageSpool> logger, TimeProvider time)
    {
        _logger = logger;
        _time = time;
        // A bridge writes no files (and its relative path would resolve against wherever it was started).
        Replays = config.BridgeProvider is null;
        Enabled = Replays && config.UsageSpool.MaxMegabytes > 0;
        FolderPath = config.ResolvePath(config.UsageSpool.Path);
        _maxMegabytes = config.UsageSpool.MaxMegabytes;
        _maxBytes = config.UsageSpool.MaxMegabytes * 1024L * 1024L;
        _json = new Utf8JsonWriter(_buffer);
    }

    /// <summary>Records may be appended (false: the spool is off, so an outage makes requests wait).</summary>
    public bool Enabled { get; }

    /// <summary>Spooled files found in the folder are written back (false only for a bridge).</summary>
    public bool Replays { get; }

    public string FolderPath { get; }

    /// <summary>This process has spooled records the store does not have yet. While it has, new records are appended
    /// behind them instead of written directly, so one instance's records reach the store in the order they were made.</summary>
    public bool HasBacklog => _hasBacklog;

    /// <summary>Appends the records and flushes them to the disk; false when the spool is off, full or the disk
    /// refuses (nothing is then kept of them here).</summary>
    public bool TryAppend(IReadOnlyList<UsageRecord> records, out bool started)
    {
        started = false;
        if (!Enabled || records.Count == 0)
        {
            return records.Count == 0;
        }

        lock (_lock)
        {
            _buffer.ResetWrittenCount();
            foreach (var record in records)
            {
                _json.Reset();
                JsonSerializer.Serialize(_json, record, RelayJsonContext.Default.UsageRecord);
                _json.Flush();
                _buffer.Write("\n"u8);
            }

            var bytes = SpoolFileNames.Measure(FolderPath).Bytes;
            if (bytes + _buffer.WrittenCount > _maxBytes)
            {
                if (!_full)
                {
                    _full = true;
                    Log.UsageSpoolFull(_logger, FolderPath, bytes / 1048576.0, _maxMegabytes);
                }

                return false;
            }

            _full = false;
            if (!AppendLocked(records.Count))
            {
                return false;
            }

            started = !_hasBacklog;
            _hasBacklog = true;
            var now = Environment.TickCount64;
            if (started || now - _lastSizeLog >= (long)SizeLogInterval.TotalMilliseconds)
            {
                _lastSizeLog = now;
                var (filesNow, bytesNow) = SpoolFileNames.Measure(FolderPath);
                Log.UsageSpoolSize(_logger, bytesNow / 1048576.0, FolderPath, filesNow);
            }
        }

        if (_appended.CurrentCount == 0)
        {
            try
            {
                _appended.Release();
            }
            catch (SemaphoreFullException)
            {
                // Already signalled.
            }
        }

        return true;
    }

    /// <summary>Waits until something was appended, or at most <paramref name="timeout"/>.</summary>
    public async Task WaitForAppendAsync(TimeSpan timeout, CancellationToken cancellationToken) =>
        await _appended.WaitAsync(timeout, cancellationToken);

    /// <summary>The oldest spool file no one else holds, claimed for replay. This process's open file is sealed and
    /// claimed when nothing older is left, so the replay catches up with the writer.</summary>
    public ClaimedSpoolFile? ClaimNext()
    {
        lock (_lock)
        {
            var files = SpoolFileNames.List(FolderPath);
            _own.RemoveAll(f => !files.Contains(f, StringComparer.Ordinal));
            foreach (var file in files)
            {
                if (file == _currentPath)
                {
                    continue;
                }

                if (ClaimedSpoolFile.TryClaim(file) is { } claimed)
                {
                    return claimed;
                }
            }

            if (_currentPath is { } current)
            {
                SealLocked();
                if (ClaimedSpoolFile.TryClaim(current) is { } claimed)
                {
                    return claimed;
                }
            }

            UpdateBacklogLocked();
            return null;
        }
    }

    /// <summary>A claimed file was written back (or set aside) and is no longer this process's backlog.</summary>
    public void Done(ClaimedSpoolFile file)
    {
        lock (_lock)
        {
            _own.Remove(file.Path);
            UpdateBacklogLocked();
        }
    }

    /// <summary>Closes the file being appended to, so the next start (or another instance) can replay it.</summary>
    public void Seal()
    {
        lock (_lock)
        {
            SealLocked();
        }
    }

    public (int Files, long Bytes) Measure() => SpoolFileNames.Measure(FolderPath);

    /// <summary>Seals the open file. The writer and signal stay usable: a record that arrives after shutdown may
    /// still be appended (into a new file).</summary>
    public void Dispose() => Seal();

    private bool AppendLocked(int count)
    {
        try
        {
            if (_current is not null && _current.Length + _buffer.WrittenCount > SealBytes)
            {
                SealLocked();
            }

            _current ??= OpenNewLocked();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Log.UsageSpoolAppendFailed(_logger, count, FolderPath, ex);
            return false;
        }

        var before = _current.Length;
        try
        {
            _current.Write(_buffer.WrittenSpan);
            // fsync: the batch is safe only once it would survive the machine, not just this process.
            _current.Flush(flushToDisk: true);
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Log.UsageSpoolAppendFailed(_logger, count, FolderPath, ex);
            try
            {
                _current.SetLength(before);
            }
            catch (IOException)
            {
                // The torn line is then the file's last (the file is sealed below), which a replay leaves out.
            }

            SealLocked();
            return false;
        }
    }

    private FileStream OpenNewLocked()
    {
        Directory.CreateDirectory(FolderPath);
        for (var attempt = 0; ; attempt++)
        {
            var path = Path.Combine(FolderPath, SpoolFileNames.New(_time.GetUtcNow()));
            try
            {
                // Exclusive: a replay (here or in another process) cannot take the file while records are added.
                var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None);
                _currentPath = path;
                _own.Add(path);
                return stream;
            }
            catch (IOException) when (attempt < 3)
            {
                // Locking follows creating, not atomically: a replay that locked the new, empty file first deletes it.
            }
        }
    }

    private void SealLocked()
    {
        _current?.Dispose();
        _current = null;
        _currentPath = null;
    }

    private void UpdateBacklogLocked() => _hasBacklog = _own.Count > 0 || _currentPath is not null;
}
