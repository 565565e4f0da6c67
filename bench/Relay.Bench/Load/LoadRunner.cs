using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;

namespace Relay.Bench.Load;

/// <summary>
/// Closed-loop load: <c>concurrency</c> workers, each on its own keep-alive connection, send the Claude Code-like
/// request back to back. Every answer is checked and every failure counted; answers that finish inside the window
/// (after the warm-up) are also timed. After the window no new request starts; those in flight may finish.
/// </summary>
internal sealed class LoadRunner
{
    private const int MaxErrorSamples = 8;

    private readonly LoadOptions _options;
    private readonly ClaudeCodeRequest[] _requests;
    private readonly HttpMessageInvoker _invoker;
    private readonly ConcurrentDictionary<string, long> _errorKinds = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _errorSamples = new();
    private long _windowStart;
    private long _windowEnd;
    private long _inFlight;

    private LoadRunner(LoadOptions options, HttpMessageInvoker invoker)
    {
        _options = options;
        _invoker = invoker;
        // Connection i gets URL i mod #urls and key i mod #keys: one request per combination, built once.
        _requests = [.. Enumerable.Range(0, options.Urls.Count * options.Keys.Count)
            .Select(i => new ClaudeCodeRequest(options.Urls[i % options.Urls.Count], options.Keys[i % options.Keys.Count], options.Stream))];
    }

    public static async Task<LoadResult> RunAsync(LoadOptions options, CancellationToken cancellationToken)
    {
        using var invoker = LoadClient.CreateInvoker(options.Concurrency);
        return await new LoadRunner(options, invoker).RunAsync(cancellationToken);
    }

    private async Task<LoadResult> RunAsync(CancellationToken cancellationToken)
    {
        var startedAt = DateTime.UtcNow;
        var loadBefore = ProcessSample.LoadAverage();
        var start = Stopwatch.GetTimestamp();
        _windowStart = start + Ticks(_options.Warmup);
        _windowEnd = _windowStart + Ticks(_options.Duration);

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var workers = new Worker[_options.Concurrency];
        var tasks = new Task[workers.Length];
        for (var i = 0; i < workers.Length; i++)
        {
            var worker = workers[i] = new Worker(this, _requests[i % _requests.Length]);
            tasks[i] = Task.Run(() => worker.RunAsync(stop.Token), CancellationToken.None);
        }

        var watch = _options.WatchPid is { } pid ? WatchAsync(pid, cancellationToken) : Task.FromResult<WatchedProcess?>(null);

        // Every request has its own timeout, so the workers finish; the limit only guards against a harness bug.
        var all = Task.WhenAll(tasks);
        var limit = _options.Warmup + _options.Duration + _options.RequestTimeout + TimeSpan.FromSeconds(10);
        await Task.WhenAny(all, Task.Delay(limit, cancellationToken));
        var unfinished = Interlocked.Read(ref _inFlight);
        if (!all.IsCompleted)
        {
            await stop.CancelAsync();
            await Task.WhenAny(all, Task.Delay(TimeSpan.FromSeconds(5), CancellationToken.None));
        }

        var watched = await watch;
        var loadAfter = ProcessSample.LoadAverage();

        var latency = new List<long>();
        var ttfb = new List<long>();
        var gaps = new List<long>();
        long requests = 0, errors = 0, total = 0, bytes = 0;
        foreach (var worker in workers)
        {
            latency.AddRange(worker.Latency);
            ttfb.AddRange(worker.Ttfb);
            gaps.AddRange(worker.Gaps);
            requests += worker.Requests;
            errors += worker.Errors;
            total += worker.Total;
            bytes += worker.ResponseBytes;
        }

        var seconds = _options.Duration.TotalSeconds;
        if (watched is not null)
        {
            var handled = requests + errors;
            watched = watched with { CpuUsPerRequest = handled == 0 ? 0 : Math.Round(watched.CpuMs * 1000 / handled, 1) };
        }

        return new LoadResult
        {
            Label = _options.Label,
            Target = _options.Target,
            Url = string.Join(' ', _requests.Select(r => r.Uri.ToString()).Distinct()),
            Stream = _options.Stream,
            Concurrency = _options.Concurrency,
            WarmupSeconds = _options.Warmup.TotalSeconds,
            DurationSeconds = seconds,
            StartedAt = startedAt.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
            RequestBodyBytes = _requests[0].Body.Length,
            Requests = requests,
            RequestsPerSecond = Math.Round(requests / seconds, 1),
            Errors = errors,
            ErrorKinds = new Dictionary<string, long>(_errorKinds, StringComparer.Ordinal),
            ErrorSamples = [.. _errorSamples],
            Unfinished = unfinished,
            TotalRequests = total,
            MeanResponseBytes = requests == 0 ? 0 : Math.Round((double)bytes / requests, 1),
            Latency = LatencySummary.FromTicks(latency),
            Ttfb = _options.Stream ? LatencySummary.FromTicks(ttfb) : null,
            DeltaGap = _options.Stream ? LatencySummary.FromTicks(gaps) : null,
            Watched = watched,
            LoadAverage = loadBefore is { } b && loadAfter is { } a ? [b, a] : null,
        };
    }

    private async Task<WatchedProcess?> WatchAsync(int pid, CancellationToken cancellationToken)
    {
        await DelayUntilAsync(_windowStart, cancellationToken);
        var before = ProcessSample.Read(pid);
        var from = Stopwatch.GetTimestamp();
        await DelayUntilAsync(_windowEnd, cancellationToken);
        var after = ProcessSample.Read(pid);
        var elapsedMs = Stopwatch.GetElapsedTime(from).TotalMilliseconds;
        if (before is not { } b || after is not { } a)
        {
            return null;
        }

        var cpuMs = a.CpuMs - b.CpuMs;
        return new WatchedProcess(pid, cpuMs, Math.Round(cpuMs * 100 / elapsedMs, 1), 0,
            Math.Round(ProcessSample.RunDelayMsBetween(b, a) * 1000 / elapsedMs, 1), a.RssKb, a.PeakRssKb);
    }

    private static async Task DelayUntilAsync(long timestamp, CancellationToken cancellationToken)
    {
        var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), timestamp);
        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait, cancellationToken);
        }
    }

    private static long Ticks(TimeSpan span) => (long)(span.TotalSeconds * Stopwatch.Frequency);

    private void RecordError(LoadError error)
    {
        // One sample per kind of failure (the first seen), so a flood of one kind does not hide another.
        if (_errorKinds.AddOrUpdate(error.Kind, 1, (_, n) => n + 1) == 1 && _errorSamples.Count < MaxErrorSamples)
        {
            _errorSamples.Enqueue($"{error.Kind}: {error.Detail}");
        }
    }

    /// <summary>One connection's worth of back-to-back requests, with its own samples (merged at the end).</summary>
    private sealed class Worker(LoadRunner runner, ClaudeCodeRequest request)
    {
        private readonly byte[] _buffer = new byte[64 * 1024];
        private readonly SseStreamCheck _sse = new();
        private byte[] _json = new byte[4096];
        private long _ttfb;
        private long _bytes;

        public List<long> Latency { get; } = new(4096);

        public List<long> Ttfb { get; } = new(4096);

        public List<long> Gaps { get; } = new(4096);

        public long Requests { get; private set; }

        public long Errors { get; private set; }

        public long Total { get; private set; }

        public long ResponseBytes { get; private set; }

        public async Task RunAsync(CancellationToken cancellationToken)
        {
            var timeout = new CancellationTokenSource();
            try
            {
                var limit = runner._options.PerConnection;
                while (!cancellationToken.IsCancellationRequested && Stopwatch.GetTimestamp() < runner._windowEnd && (limit == 0 || Total < limit))
                {
                    if (!timeout.TryReset())
                    {
                        timeout.Dispose();
                        timeout = new CancellationTokenSource();
                    }

                    using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
                    timeout.CancelAfter(runner._options.RequestTimeout);

                    Interlocked.Increment(ref runner._inFlight);
                    var began = Stopwatch.GetTimestamp();
                    LoadError? error;
                    try
                    {
                        error = await SendOneAsync(timeout.Token, linked.Token);
                    }
                    catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
                    {
                        error = new LoadError($"unexpected {ex.GetType().Name}", ex.Message);
                    }
                    finally
                    {
                        Interlocked.Decrement(ref runner._inFlight);
                    }

                    var ended = Stopwatch.GetTimestamp();
                    Total++;

                    if (error is not null)
                    {
                        // Failures count whenever they happen, warm-up and drain included: nothing is hidden.
                        Errors++;
                        runner.RecordError(error);
                        if (error.Unanswered)
                        {
                            // Nothing is listening or the connection keeps failing: don't spin on the client's core.
                            await Task.Delay(10, cancellationToken);
                        }
                    }
                    else if (ended >= runner._windowStart && ended < runner._windowEnd)
                    {
                        Requests++;
                        ResponseBytes += _bytes;
                        Latency.Add(ended - began);
                        if (runner._options.Stream)
                        {
                            Ttfb.Add(_ttfb - began);
                            Gaps.AddRange(_sse.DeltaGaps);
                        }
                    }
                }
            }
            finally
            {
                timeout.Dispose();
            }
        }

        private async Task<LoadError?> SendOneAsync(CancellationToken timedOut, CancellationToken cancellationToken)
        {
            _bytes = 0;
            using var message = request.CreateMessage();
            HttpResponseMessage response;
            try
            {
                response = await runner._invoker.SendAsync(message, cancellationToken);
            }
            catch (OperationCanceledException) when (timedOut.IsCancellationRequested)
            {
                return new LoadError("timed out before the response headers", $"no headers after {runner._options.RequestTimeout.TotalSeconds:F0} s");
            }
            catch (HttpRequestException ex)
            {
                return new LoadError($"request failed ({ex.HttpRequestError})", ex.Message) { Unanswered = true };
            }

            using (response)
            {
                try
                {
                    return await ReadAsync(response, cancellationToken);
                }
                catch (OperationCanceledException) when (timedOut.IsCancellationRequested)
                {
                    return new LoadError("timed out reading the body", $"{_bytes} bytes after {runner._options.RequestTimeout.TotalSeconds:F0} s");
                }
                catch (HttpRequestException ex)
                {
                    return new LoadError($"body broke off ({ex.HttpRequestError})", $"{_bytes} bytes: {ex.Message}");
                }
                catch (IOException ex)
                {
                    return new LoadError("body broke off (I/O)", $"{_bytes} bytes: {ex.Message}");
                }
            }
        }

        private async Task<LoadError?> ReadAsync(HttpResponseMessage response, CancellationToken cancellationToken)
        {
            var status = (int)response.StatusCode;
            var mediaType = response.Content.Headers.ContentType?.MediaType;
            await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
            if (status != 200)
            {
                var length = await ReadAllAsync(body, cancellationToken);
                return new LoadError($"HTTP {status}", System.Text.Encoding.UTF8.GetString(_json, 0, Math.Min(length, 300)));
            }

            if (runner._options.Stream)
            {
                if (!string.Equals(mediaType, "text/event-stream", StringComparison.OrdinalIgnoreCase))
                {
                    await ReadAllAsync(body, cancellationToken);
                    return new LoadError("streamed answer is not text/event-stream", $"content-type {mediaType ?? "(none)"}");
                }

                _sse.Reset();
                while (true)
                {
                    var read = await body.ReadAsync(_buffer, cancellationToken);
                    if (read == 0)
                    {
                        break;
                    }

                    _bytes += read;
                    _sse.Feed(_buffer.AsSpan(0, read), Stopwatch.GetTimestamp());
                }

                _ttfb = _sse.FirstEventAt == 0 ? Stopwatch.GetTimestamp() : _sse.FirstEventAt;
                return _sse.Finish(runner._options.ExpectDeltas);
            }

            if (!string.Equals(mediaType, "application/json", StringComparison.OrdinalIgnoreCase))
            {
                await ReadAllAsync(body, cancellationToken);
                return new LoadError("JSON answer is not application/json", $"content-type {mediaType ?? "(none)"}");
            }

            var total = await ReadAllAsync(body, cancellationToken);
            return MessageCheck.Check(_json.AsSpan(0, total));
        }

        /// <summary>Reads the rest of the body into <see cref="_json"/>, growing it as needed.</summary>
        private async Task<int> ReadAllAsync(Stream body, CancellationToken cancellationToken)
        {
            var length = 0;
            while (true)
            {
                if (length == _json.Length)
                {
                    Array.Resize(ref _json, _json.Length * 2);
                }

                var read = await body.ReadAsync(_json.AsMemory(length), cancellationToken);
                if (read == 0)
                {
                    return length;
                }

                length += read;
                _bytes += read;
            }
        }
    }
}
