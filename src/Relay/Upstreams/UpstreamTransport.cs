using System.Buffers;
using System.Diagnostics;
using Relay.Buffers;
using Relay.Configuration;
using Relay.Errors;

namespace Relay.Upstreams;

/// <summary>
/// How Relay talks HTTP to one provider, whatever its protocol: the connection pool, the credentials (one path for
/// requests and health probes), the four timeouts, what a failed send means, capped reads of error bodies and the
/// redaction of echoed credentials. Every provider kind sends through one of these.
/// </summary>
internal sealed class UpstreamTransport : IDisposable
{
    /// <summary>An error answer is read whole (it is small) so another route can be tried; beyond this it is cut.</summary>
    public const int MaxErrorBody = 1024 * 1024;

    private readonly HttpMessageInvoker _invoker;
    private readonly ILogger _logger;

    public UpstreamTransport(string provider, ProviderConfig config, ProviderCredentials credentials, TimeProvider time, ILogger logger)
    {
        Provider = provider;
        Credentials = credentials;
        Time = time;
        _logger = logger;
        FirstByteTimeout = TimeSpan.FromSeconds(config.TimeoutSeconds ?? RelayDefaults.TimeoutSeconds);
        IdleTimeout = TimeSpan.FromSeconds(config.IdleTimeoutSeconds ?? RelayDefaults.IdleTimeoutSeconds);
        TotalTimeout = TimeSpan.FromSeconds(config.TotalTimeoutSeconds ?? RelayDefaults.TotalTimeoutSeconds);
        PingInterval = UpstreamConnections.PingInterval(config);
        _invoker = UpstreamConnections.CreateInvoker(config);
    }

    public string Provider { get; }

    public ILogger Logger => _logger;

    public ProviderCredentials Credentials { get; }

    public TimeProvider Time { get; }

    public TimeSpan FirstByteTimeout { get; }

    public TimeSpan IdleTimeout { get; }

    public TimeSpan TotalTimeout { get; }

    public TimeSpan PingInterval { get; }

    /// <summary>Sends one request with the first-byte and total timeouts armed.</summary>
    /// <returns>The exchange once the provider answered with headers, or the failure when it did not (timed out,
    /// unreachable, or the request never left Relay).</returns>
    public async Task<(UpstreamExchange? Exchange, UpstreamResult Failure)> SendAsync(HttpRequestMessage message, string requestId,
        int? routeTimeoutSeconds, CancellationToken cancellationToken)
    {
        var firstByte = routeTimeoutSeconds is { } seconds ? TimeSpan.FromSeconds(seconds) : FirstByteTimeout;
        var total = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        total.CancelAfter(TotalTimeout);
        var idle = CancellationTokenSource.CreateLinkedTokenSource(total.Token);
        idle.CancelAfter(firstByte);
        var started = Stopwatch.GetTimestamp();
        try
        {
            var response = await _invoker.SendAsync(message, idle.Token);
            return (new UpstreamExchange(this, response, idle, total, Stopwatch.GetElapsedTime(started).TotalMilliseconds), default);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            Dispose(idle, total);
            Log.UpstreamFailed(_logger, requestId, Provider, "timed out before answering");
            return (null, UpstreamResult.NotSent(RelayError.UpstreamTimeout(Provider, (int)Math.Min(firstByte.TotalSeconds, TotalTimeout.TotalSeconds))));
        }
        catch (HttpRequestException ex)
        {
            Dispose(idle, total);
            var reason = Credentials.Redact(UpstreamFailures.Describe(ex));
            Log.UpstreamFailed(_logger, requestId, Provider, reason);
            return (null, UpstreamResult.NotSent(UpstreamFailures.ForSendFailure(Provider, ex, reason)));
        }
        catch
        {
            Dispose(idle, total);
            throw;
        }
    }

    /// <summary>One health probe: a GET authenticated exactly like requests; null means healthy.</summary>
    public async Task<string?> ProbeAsync(string url, Action<HttpRequestMessage>? prepare, CancellationToken cancellationToken)
    {
        using var message = new HttpRequestMessage(HttpMethod.Get, url);
        prepare?.Invoke(message);
        Credentials.AddTo(message);
        try
        {
            using var response = await _invoker.SendAsync(message, cancellationToken);
            var status = (int)response.StatusCode;
            return status is >= 500 or 401 or 403 ? $"health check answered {status}" : null;
        }
        catch (HttpRequestException ex)
        {
            return Credentials.Redact(UpstreamFailures.Describe(ex));
        }
    }

    /// <summary>Sends a request whose answer the caller copies itself (model discovery through a bridge).</summary>
    public Task<HttpResponseMessage> SendRawAsync(HttpRequestMessage message, CancellationToken cancellationToken) =>
        _invoker.SendAsync(message, cancellationToken);

    public void LogFailure(string requestId, string reason) => Log.UpstreamFailed(_logger, requestId, Provider, Credentials.Redact(reason));

    public void LogBroken(string requestId, string reason) => Log.StreamBroken(_logger, requestId, Provider, Credentials.Redact(reason));

    public void Dispose() => _invoker.Dispose();

    private static void Dispose(CancellationTokenSource idle, CancellationTokenSource total)
    {
        idle.Dispose();
        total.Dispose();
    }
}

/// <summary>A provider's answer as it arrives: its response, and reads of its body under the idle and total timeouts.</summary>
internal sealed class UpstreamExchange(UpstreamTransport transport, HttpResponseMessage response, CancellationTokenSource idle,
    CancellationTokenSource total, double headersMs) : IDisposable
{
    private Stream? _body;

    public HttpResponseMessage Response => response;

    public int Status => (int)response.StatusCode;

    public double HeadersMs => headersMs;

    public bool IsEventStream => string.Equals(response.Content.Headers.ContentType?.MediaType, "text/event-stream", StringComparison.OrdinalIgnoreCase);

    /// <summary>Cancelled when the whole answer took longer than the provider's total timeout (or the call ended).</summary>
    public CancellationToken TotalToken => total.Token;

    /// <summary>How long the provider asked to wait, from <c>retry-after-ms</c> or <c>retry-after</c>.</summary>
    public TimeSpan? RetryAfter => Upstreams.RetryAfter.From(response, transport.Time.GetUtcNow());

    /// <summary>From here on the answer is read by someone who watches for silence themselves: only the total
    /// timeout stays armed.</summary>
    public void StopIdleTimer() => idle.CancelAfter(Timeout.InfiniteTimeSpan);

    public async Task<Stream> BodyAsync(CancellationToken cancellationToken) =>
        _body ??= await response.Content.ReadAsStreamAsync(cancellationToken);

    /// <summary>Reads the next bytes within the idle and total timeouts; a timeout or a broken connection is the reason
    /// returned, not thrown.</summary>
    public async Task<(int Read, string? Failure)> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        try
        {
            var body = await BodyAsync(cancellationToken);
            idle.CancelAfter(transport.IdleTimeout);
            return (await body.ReadAsync(buffer, idle.Token), null);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return (0, total.IsCancellationRequested
                ? $"the response took longer than {(int)transport.TotalTimeout.TotalSeconds} s in all"
                : $"no data for {(int)transport.IdleTimeout.TotalSeconds} s");
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException)
        {
            return (0, ex is HttpRequestException hre ? UpstreamFailures.Describe(hre) : ex.Message);
        }
    }

    /// <summary>Reads a success body whole (a JSON answer that is translated, not forwarded), up to
    /// <paramref name="limit"/> bytes.</summary>
    /// <exception cref="IOException">The body is larger, or could not be read (timed out, connection broken).</exception>
    public async Task<byte[]> ReadWholeAsync(int limit, CancellationToken cancellationToken)
    {
        using var copy = new PooledByteBuffer(16 * 1024);
        while (true)
        {
            var (read, failure) = await ReadAsync(copy.GetMemory(16 * 1024), cancellationToken);
            if (failure is not null)
            {
                throw new IOException(failure);
            }

            if (read == 0)
            {
                return copy.Span.ToArray();
            }

            copy.Advance(read);
            if (copy.Length > limit)
            {
                throw new IOException($"the answer is larger than {limit / (1024 * 1024)} MB");
            }
        }
    }

    /// <summary>Reads a small body whole (an error answer), up to <paramref name="limit"/> bytes, with echoed
    /// credentials redacted; what could not be read is left out rather than thrown.</summary>
    public async Task<byte[]> ReadCappedAsync(int limit, CancellationToken cancellationToken)
    {
        using var copy = new PooledByteBuffer(4096);
        var chunk = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            while (copy.Length < limit)
            {
                var (read, failure) = await ReadAsync(chunk.AsMemory(0, Math.Min(chunk.Length, limit - copy.Length)), cancellationToken);
                if (read == 0 || failure is not null)
                {
                    break;
                }

                copy.Write(chunk.AsSpan(0, read));
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }

        return transport.Credentials.Redact(copy.Span.ToArray());
    }

    public void Dispose()
    {
        _body?.Dispose();
        response.Dispose();
        idle.Dispose();
        total.Dispose();
    }
}
