using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using Relay.Bench.Load;

namespace Relay.Bench.Soak;

/// <summary>
/// A long mixed load: <c>concurrency</c> workers send the Claude Code-like request back to back for the whole
/// duration, each one streaming or not at random (<c>--stream-share</c>), and every answer is sorted into a
/// <see cref="SoakOutcome"/>. Nothing stops on a failure: a refused connection (Relay restarting) is counted and
/// retried after a short pause, so the run goes on across restarts.
/// </summary>
internal sealed class SoakRunner
{
    private const int MaxSamplesPerOutcome = 3;

    private readonly SoakOptions _options;
    private readonly ClaudeCodeRequest _streamRequest;
    private readonly ClaudeCodeRequest _jsonRequest;
    private readonly HttpMessageInvoker _invoker;
    private readonly ConcurrentDictionary<string, long> _outcomes = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _statuses = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ConcurrentQueue<string>> _samples = new(StringComparer.Ordinal);
    private long _sent;
    private long _streams;
    private long _relayOwn5xx;
    private long _inFlight;
    private long _start;
    private long _end;

    private SoakRunner(SoakOptions options, HttpMessageInvoker invoker)
    {
        _options = options;
        _invoker = invoker;
        _streamRequest = new ClaudeCodeRequest(options.Url, options.Key, stream: true);
        _jsonRequest = new ClaudeCodeRequest(options.Url, options.Key, stream: false);
    }

    public static async Task<SoakResult> RunAsync(SoakOptions options, CancellationToken cancellationToken)
    {
        using var invoker = LoadClient.CreateInvoker(options.Concurrency);
        return await new SoakRunner(options, invoker).RunAsync(cancellationToken);
    }

    private async Task<SoakResult> RunAsync(CancellationToken cancellationToken)
    {
        var startedAt = DateTime.UtcNow;
        var start = _start = Stopwatch.GetTimestamp();
        _end = start + (long)(_options.Duration.TotalSeconds * Stopwatch.Frequency);

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var tasks = new Task[_options.Concurrency];
        for (var i = 0; i < tasks.Length; i++)
        {
            var worker = new Worker(this);
            tasks[i] = Task.Run(() => worker.RunAsync(stop.Token), CancellationToken.None);
        }

        using var progress = new CancellationTokenSource();
        var reporting = ReportProgressAsync(start, progress.Token);

        // Every request has its own timeout, so the workers finish; the limit only guards against a harness bug.
        var all = Task.WhenAll(tasks);
        await Task.WhenAny(all, Task.Delay(_options.Duration + _options.RequestTimeout + TimeSpan.FromSeconds(10), cancellationToken));
        var unfinished = Interlocked.Read(ref _inFlight);
        if (!all.IsCompleted)
        {
            await stop.CancelAsync();
            await Task.WhenAny(all, Task.Delay(TimeSpan.FromSeconds(5), CancellationToken.None));
        }

        await progress.CancelAsync();
        await reporting;

        var outcomes = new SortedDictionary<string, long>(_outcomes, StringComparer.Ordinal);
        var sent = Interlocked.Read(ref _sent);
        var refused = outcomes.GetValueOrDefault(SoakOutcome.Refused);
        return new SoakResult
        {
            Url = _streamRequest.Uri.ToString(),
            Concurrency = _options.Concurrency,
            StreamShare = _options.StreamShare,
            DurationSeconds = _options.Duration.TotalSeconds,
            StartedAt = startedAt.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
            ElapsedSeconds = Math.Round(Stopwatch.GetElapsedTime(start).TotalSeconds, 1),
            Sent = sent,
            Streams = Interlocked.Read(ref _streams),
            Refused = refused,
            NoAnswer = outcomes.GetValueOrDefault(SoakOutcome.NoAnswer),
            Reached = sent - refused,
            Unfinished = unfinished,
            Statuses = new SortedDictionary<string, long>(_statuses, StringComparer.Ordinal),
            Outcomes = outcomes,
            RelayOwn5xx = Interlocked.Read(ref _relayOwn5xx),
            Violations = outcomes.Where(o => SoakOutcome.IsViolation(o.Key)).Sum(o => o.Value) + unfinished,
            Samples = _samples.OrderBy(s => s.Key, StringComparer.Ordinal).SelectMany(s => s.Value.Select(v => $"{s.Key}: {v}")).ToList(),
        };
    }

    private async Task ReportProgressAsync(long start, CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                await Task.Delay(_options.ProgressEvery, cancellationToken);
                var violations = _outcomes.Where(o => SoakOutcome.IsViolation(o.Key)).Sum(o => o.Value);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"[soak] {Stopwatch.GetElapsedTime(start).TotalSeconds:F0} s: sent {Interlocked.Read(ref _sent)}, "
                    + $"200 {_statuses.Where(s => s.Key.StartsWith("200", StringComparison.Ordinal)).Sum(s => s.Value)}, "
                    + $"refused {_outcomes.GetValueOrDefault(SoakOutcome.Refused)}, violations {violations}"));
            }
        }
        catch (OperationCanceledException)
        {
            // The run is over.
        }
    }

    private void Count(string outcome, int? status, string? origin = null, string? sample = null)
    {
        _outcomes.AddOrUpdate(outcome, 1, (_, n) => n + 1);
        if (status is { } code)
        {
            // "502 (Relay's wrapping of a provider failure)": the status with whose error it was, for the summary.
            var key = origin is null ? code.ToString(CultureInfo.InvariantCulture) : string.Create(CultureInfo.InvariantCulture, $"{code} ({origin})");
            _statuses.AddOrUpdate(key, 1, (_, n) => n + 1);
        }

        if (sample is not null)
        {
            var queue = _samples.GetOrAdd(outcome, _ => new ConcurrentQueue<string>());
            if (queue.Count < MaxSamplesPerOutcome)
            {
                // When it happened tells a failure during the restart from one in the steady state.
                var at = Stopwatch.GetElapsedTime(_start).TotalSeconds;
                queue.Enqueue(string.Create(CultureInfo.InvariantCulture, $"at {at:F1} s: {(sample.Length > 400 ? sample[..400] : sample)}"));
            }
        }
    }

    private static string OriginName(ErrorOrigin origin) => origin switch
    {
        ErrorOrigin.Provider => "provider's own",
        ErrorOrigin.ProviderWrapped => "Relay's wrapping",
        ErrorOrigin.ProviderUnreachable => "provider unreachable",
        ErrorOrigin.RelayStopping => "Relay stopping",
        _ => "Relay's own",
    };

    /// <summary>One keep-alive connection's worth of back-to-back requests.</summary>
    private sealed class Worker(SoakRunner runner)
    {
        private readonly byte[] _buffer = new byte[64 * 1024];
        private readonly SseStreamCheck _sse = new();
        private byte[] _body = new byte[4096];

        public async Task RunAsync(CancellationToken cancellationToken)
        {
            while (!cancellationToken.IsCancellationRequested && Stopwatch.GetTimestamp() < runner._end)
            {
                var stream = Random.Shared.NextDouble() < runner._options.StreamShare;
                using var timeout = new CancellationTokenSource(runner._options.RequestTimeout);
                using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
                Interlocked.Increment(ref runner._sent);
                if (stream)
                {
                    Interlocked.Increment(ref runner._streams);
                }

                Interlocked.Increment(ref runner._inFlight);
                TimeSpan pause;
                try
                {
                    pause = await SendOneAsync(stream, timeout.Token, linked.Token);
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    return;
                }
                finally
                {
                    Interlocked.Decrement(ref runner._inFlight);
                }

                if (pause > TimeSpan.Zero)
                {
                    // Nothing is listening (Relay restarting): don't spin on the client's core.
                    await Task.Delay(pause, cancellationToken);
                }
            }
        }

        /// <summary>Sends one request and counts what came of it; returns how long to wait before the next.</summary>
        private async Task<TimeSpan> SendOneAsync(bool stream, CancellationToken timedOut, CancellationToken cancellationToken)
        {
            using var message = (stream ? runner._streamRequest : runner._jsonRequest).CreateMessage();
            HttpResponseMessage response;
            try
            {
                response = await runner._invoker.SendAsync(message, cancellationToken);
            }
            catch (OperationCanceledException) when (timedOut.IsCancellationRequested)
            {
                runner.Count(SoakOutcome.TimedOut, null, sample: "no response headers in time");
                return TimeSpan.Zero;
            }
            catch (HttpRequestException ex) when (ex.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionRefused })
            {
                runner.Count(SoakOutcome.Refused, null);
                return runner._options.RefusedPause;
            }
            catch (HttpRequestException ex)
            {
                runner.Count(SoakOutcome.NoAnswer, null, sample: $"{ex.HttpRequestError}: {ex.Message}");
                return TimeSpan.FromMilliseconds(10);
            }

            using (response)
            {
                var status = (int)response.StatusCode;
                try
                {
                    await ReadAsync(response, status, stream, cancellationToken);
                }
                catch (OperationCanceledException) when (timedOut.IsCancellationRequested)
                {
                    runner.Count(SoakOutcome.TimedOut, status, sample: $"{status}: the body did not end in time");
                }
                catch (Exception ex) when (ex is HttpRequestException or IOException)
                {
                    // The connection broke mid-body: a stream without its end, or a cut JSON answer.
                    runner.Count(stream && status == 200 ? SoakOutcome.StreamUnended : SoakOutcome.JsonBroken, status,
                        sample: $"{status}, body broke off after {(stream ? _sse.Deltas + " deltas" : "some bytes")}: {ex.Message}");
                }
            }

            return TimeSpan.Zero;
        }

        private async Task ReadAsync(HttpResponseMessage response, int status, bool stream, CancellationToken cancellationToken)
        {
            var mediaType = response.Content.Headers.ContentType?.MediaType;
            _sse.Reset();
            await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
            if (status != 200)
            {
                var length = await ReadAllAsync(body, cancellationToken);
                var origin = SoakOutcome.ClassifyError(_body.AsSpan(0, length));
                var outcome = origin switch
                {
                    ErrorOrigin.Provider => SoakOutcome.ErrorFromProvider,
                    ErrorOrigin.ProviderWrapped => SoakOutcome.ErrorProviderWrapped,
                    ErrorOrigin.ProviderUnreachable => SoakOutcome.ErrorProviderUnreachable,
                    ErrorOrigin.RelayStopping => SoakOutcome.ErrorRelayStopping,
                    _ => SoakOutcome.ErrorRelayOwn,
                };
                runner.Count(outcome, status, OriginName(origin), $"{status}: {System.Text.Encoding.UTF8.GetString(_body, 0, Math.Min(length, 300))}");
                if (origin == ErrorOrigin.Relay && status >= 500)
                {
                    Interlocked.Increment(ref runner._relayOwn5xx);
                }

                return;
            }

            var expected = stream ? "text/event-stream" : "application/json";
            if (!string.Equals(mediaType, expected, StringComparison.OrdinalIgnoreCase))
            {
                var length = await ReadAllAsync(body, cancellationToken);
                runner.Count(SoakOutcome.WrongContentType, status,
                    sample: $"{mediaType ?? "(none)"}: {System.Text.Encoding.UTF8.GetString(_body, 0, Math.Min(length, 200))}");
                return;
            }

            if (!stream)
            {
                var length = await ReadAllAsync(body, cancellationToken);
                var problem = MessageCheck.Check(_body.AsSpan(0, length));
                runner.Count(problem is null ? SoakOutcome.JsonWhole : SoakOutcome.JsonBroken, status, sample: problem is null ? null : $"{problem.Kind}: {problem.Detail}");
                return;
            }

            while (true)
            {
                var read = await body.ReadAsync(_buffer, cancellationToken);
                if (read == 0)
                {
                    break;
                }

                _sse.Feed(_buffer.AsSpan(0, read), Stopwatch.GetTimestamp());
            }

            if (_sse.SawErrorEvent)
            {
                var origin = SoakOutcome.ClassifyError(System.Text.Encoding.UTF8.GetBytes(_sse.ErrorEventData ?? ""));
                var outcome = origin switch
                {
                    ErrorOrigin.Provider or ErrorOrigin.ProviderWrapped or ErrorOrigin.ProviderUnreachable => SoakOutcome.StreamProviderError,
                    ErrorOrigin.RelayStopping => SoakOutcome.StreamRelayStopping,
                    _ => SoakOutcome.StreamRelayError,
                };
                runner.Count(outcome, status, sample: $"after {_sse.Deltas} deltas: {_sse.ErrorEventData}");
            }
            else if (!_sse.SawMessageStop)
            {
                runner.Count(SoakOutcome.StreamUnended, status, sample: $"clean end after {_sse.Deltas} deltas, no message_stop");
            }
            else if (_sse.Finish(runner._options.ExpectDeltas) is { } problem)
            {
                runner.Count(SoakOutcome.StreamMalformed, status, sample: $"{problem.Kind}: {problem.Detail}");
            }
            else
            {
                runner.Count(SoakOutcome.StreamStopped, status);
            }
        }

        /// <summary>Reads the rest of the body into <see cref="_body"/>, growing it as needed.</summary>
        private async Task<int> ReadAllAsync(Stream body, CancellationToken cancellationToken)
        {
            var length = 0;
            while (true)
            {
                if (length == _body.Length)
                {
                    Array.Resize(ref _body, _body.Length * 2);
                }

                var read = await body.ReadAsync(_body.AsMemory(length), cancellationToken);
                if (read == 0)
                {
                    return length;
                }

                length += read;
            }
        }
    }
}
