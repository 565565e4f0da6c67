using System.Buffers;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using Microsoft.AspNetCore.Http.Features;
using Relay.Auth;
using Relay.Buffers;
using Relay.Configuration;
using Relay.Doors;
using Relay.Errors;
using Relay.Protocol.Anthropic;
using Relay.Protocol.Corrections;
using Relay.Protocol.Events;
using Relay.Protocol.Json;
using Relay.Protocol.OpenAI;
using Relay.Protocol.Sse;

namespace Relay.Upstreams;

/// <summary>
/// Forwards to an Anthropic-compatible endpoint: the client's body with only the model rewritten, its
/// <c>anthropic-*</c> headers, and the provider's own key; the answer is copied back byte for byte as it arrives.
/// </summary>
/// <remarks>
/// Uses <see cref="HttpMessageInvoker"/> rather than HttpClient so the response is never buffered, as YARP does.
/// Usage is read from the bytes on their way through (<see cref="SseUsageScanner"/> for streams, a capped side copy
/// for JSON bodies); nothing is re-serialised. Answers with a retryable status (429, 5xx, 529…) are held back, not
/// forwarded, so the router can try another route first; it forwards them unchanged if nothing else works.
/// </remarks>
internal sealed class AnthropicUpstream : IUpstream, IDisposable
{
    private const int CopyBufferSize = 16 * 1024;
    private const int MaxJsonSideCopy = 4 * 1024 * 1024;
    private const int MaxUnfinishedEvent = 8 * 1024 * 1024;
    private static readonly byte[] PingEvent = "event: ping\ndata: {\"type\": \"ping\"}\n\n"u8.ToArray();

    private readonly UpstreamTransport _transport;
    private readonly string _root;
    private readonly Uri _messagesUri;
    private readonly Uri _countTokensUri;
    private readonly ProviderCredentials _credentials;
    private readonly bool _isBridge;

    public AnthropicUpstream(string name, ProviderConfig config, TimeProvider time, ILogger logger, bool isBridge = false)
    {
        Name = name;
        _isBridge = isBridge;
        ForwardsClientCredentials = string.Equals(config.ApiKey, RelayDefaults.PassthroughKey, StringComparison.Ordinal);
        _credentials = new ProviderCredentials(config, ForwardsClientCredentials ? null : config.ApiKey, bearerByDefault: false);
        _transport = new UpstreamTransport(name, config, _credentials, time, logger);
        _root = BaseUrlRoot(config.BaseUrl!);
        _messagesUri = new Uri(_root + "/v1/messages");
        _countTokensUri = new Uri(_root + "/v1/messages/count_tokens");
    }

    public string Name { get; }

    public bool ForwardsClientCredentials { get; }

    public bool AnswersLocally(MessagesEndpointKind endpoint) => false;

    /// <summary>Output limits go into max_tokens and refused top-level fields are left out; the rest of the body is the client's.</summary>
    public bool CanApply(CorrectionKind kind) => kind is CorrectionKind.MaxOutputTokens or CorrectionKind.ContextWindow or CorrectionKind.DropParameter;

    public int? ConfiguredMaxTokens(string upstreamModel) => null;

    /// <summary>The URL Relay appends <c>/v1/messages</c> to; a trailing <c>/</c> or <c>/v1</c> is forgiven.</summary>
    public static string BaseUrlRoot(string baseUrl)
    {
        var root = baseUrl.TrimEnd('/');
        return root.EndsWith("/v1", StringComparison.OrdinalIgnoreCase) ? root[..^3] : root;
    }

    public async Task<UpstreamResult> SendAsync(UpstreamRequest request, CancellationToken cancellationToken)
    {
        using var message = BuildRequest(request);
        var (exchange, failure) = await _transport.SendAsync(message, request.Context.TraceIdentifier, request.Target.TimeoutSeconds, cancellationToken);
        if (exchange is null)
        {
            return failure;
        }

        using (exchange)
        {
            // Error answers are small: read whole and held, so another route can be tried, or a refusal corrected
            // and sent again, before the client sees anything.
            return exchange.Status >= 400
                ? await HoldAsync(request, exchange, cancellationToken)
                : await RelayResponseAsync(request, exchange, cancellationToken);
        }
    }

    public Task<string?> ProbeAsync(string? path, CancellationToken cancellationToken) =>
        _transport.ProbeAsync(_root + (path ?? "/v1/models"), m => m.Headers.TryAddWithoutValidation("anthropic-version", "2023-06-01"), cancellationToken);

    private HttpRequestMessage BuildRequest(UpstreamRequest request)
    {
        var uri = request.Endpoint == MessagesEndpointKind.CountTokens ? _countTokensUri : _messagesUri;
        var query = request.Context.Request.QueryString;
        var message = new HttpRequestMessage(HttpMethod.Post, query.HasValue ? new Uri(uri + query.Value) : uri)
        {
            Content = new ReadOnlyMemoryContent(WithoutDroppedParameters(RelayThinkingFilter.Strip(request.Body), request.Corrections)),
        };
        message.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");

        var clientHeaders = request.Context.Request.Headers;
        ForwardedHeaders.CopyRequestHeaders(clientHeaders, message, dropRelayKeys: !_isBridge);
        if (!message.Headers.Contains("anthropic-version"))
        {
            message.Headers.TryAddWithoutValidation("anthropic-version", "2023-06-01");
        }

        AddCredentials(clientHeaders, message, request.ClientUsedRelayKey);
        return message;
    }

    /// <summary>Leaves out the top-level fields this provider refused before (learned corrections).</summary>
    private static ReadOnlyMemory<byte> WithoutDroppedParameters(ReadOnlyMemory<byte> body, ProviderCorrections corrections)
    {
        if (corrections.DroppedParameters.Count == 0)
        {
            return body;
        }

        var filtered = new ArrayBufferWriter<byte>(body.Length);
        return TopLevelProperties.TryRemove(body.Span, corrections.DroppedParameters, filtered) ? filtered.WrittenMemory : body;
    }

    /// <summary>The provider's key, or for <c>passthrough</c> the client's own; then the configured extra headers.</summary>
    private void AddCredentials(IHeaderDictionary clientHeaders, HttpRequestMessage message, bool clientUsedRelayKey)
    {
        if (ForwardsClientCredentials)
        {
            // The upstream authenticates the client; a Relay key, though, is Relay's secret and never leaves it.
            if (!clientUsedRelayKey)
            {
                CopyIfPresent(clientHeaders, message, "x-api-key", _isBridge);
                CopyIfPresent(clientHeaders, message, "authorization", _isBridge);
            }
        }
        else
        {
            _credentials.AddKey(message);
        }

        _credentials.AddConfiguredHeaders(message);
    }

    /// <summary>
    /// Forwards a <c>GET</c> (model discovery) to the same path under the provider's root, with the client's query and
    /// credentials, and copies the answer back; the bridge serves <c>/v1/models</c> this way, so Claude Desktop's
    /// discovery sees the remote gateway's own list.
    /// </summary>
    /// <returns>The status the client got.</returns>
    public async Task<int> ForwardGetAsync(HttpContext context, string relativePath, CancellationToken cancellationToken)
    {
        using var message = new HttpRequestMessage(HttpMethod.Get, new Uri(_root + relativePath + context.Request.QueryString));
        ForwardedHeaders.CopyRequestHeaders(context.Request.Headers, message, dropRelayKeys: !_isBridge);
        AddCredentials(context.Request.Headers, message, clientUsedRelayKey: false);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        // Claude Code gives discovery 3 s and Desktop 10 s; a slow list must not hold them for the full message timeout.
        timeout.CancelAfter(TimeSpan.FromSeconds(Math.Min(30, _transport.FirstByteTimeout.TotalSeconds)));
        HttpResponseMessage response;
        try
        {
            response = await _transport.SendRawAsync(message, timeout.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            var error = RelayError.UpstreamTimeout(Name, (int)Math.Min(30, _transport.FirstByteTimeout.TotalSeconds));
            await ErrorResponses.WriteAsync(context, error);
            return error.Status;
        }
        catch (HttpRequestException ex)
        {
            _transport.LogFailure(context.TraceIdentifier, UpstreamFailures.Describe(ex));
            var error = RelayError.Unreachable(Name, _credentials.Redact(UpstreamFailures.Describe(ex)));
            await ErrorResponses.WriteAsync(context, error);
            return error.Status;
        }

        using (response)
        {
            context.Response.StatusCode = (int)response.StatusCode;
            ForwardedHeaders.CopyResponseHeaders(response, context.Response);
            await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
            await body.CopyToAsync(context.Response.Body, cancellationToken);
            return (int)response.StatusCode;
        }
    }

    /// <summary>Copies a client credential header, unless it carries a Relay key: a client may send its provider key in
    /// one header and its Relay key in the other, and only the first may leave Relay. A bridge issues no keys of its
    /// own, so a Relay-shaped key reaching it belongs to the remote (another Relay) and is forwarded.</summary>
    private static void CopyIfPresent(IHeaderDictionary from, HttpRequestMessage to, string name, bool isBridge)
    {
        if (from.TryGetValue(name, out var values) && (isBridge || !values.Any(v => v is not null && v.Contains(ApiKeys.Prefix, StringComparison.Ordinal))))
        {
            to.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values);
        }
    }

    /// <summary>Reads an error answer whole (it is small) without forwarding it.</summary>
    private async Task<UpstreamResult> HoldAsync(UpstreamRequest request, UpstreamExchange exchange, CancellationToken cancellationToken)
    {
        var status = exchange.Status;
        var body = await exchange.ReadCappedAsync(UpstreamTransport.MaxErrorBody, cancellationToken);
        var headers = ForwardedHeaders.ResponseHeaders(exchange.Response).ToArray();
        var errorType = AnthropicObjectSummary.TryRead(body, out var summary) && summary.ErrorType is { } type ? type : ErrorTypes.ForStatus(status);
        _transport.LogFailure(request.Context.TraceIdentifier, $"answered {status} {errorType}");
        var held = new HeldResponse(status, headers, body, exchange.RetryAfter);
        return new UpstreamResult(status, default, errorType, null, held, UpstreamFailed: held.Retryable, exchange.HeadersMs)
        {
            Refusal = ProviderRejectionReader.IsRefusalStatus(status) ? new UpstreamRefusal(status, ReadError(body, status)) : null,
        };
    }

    private static ChatErrorInfo ReadError(byte[] body, int status) => ChatErrorReader.TryRead(body, out var error)
        ? error
        : new ChatErrorInfo(body.Length == 0 ? $"HTTP {status}" : System.Text.Encoding.UTF8.GetString(body.AsSpan(0, Math.Min(body.Length, 4096))), null, null);

    private async Task<UpstreamResult> RelayResponseAsync(UpstreamRequest request, UpstreamExchange exchange, CancellationToken cancellationToken)
    {
        var context = request.Context;
        var status = exchange.Status;
        var headersMs = exchange.HeadersMs;
        var isStream = exchange.IsEventStream;
        var buffer = ArrayPool<byte>.Shared.Rent(CopyBufferSize);
        try
        {
            // Nothing goes to the client before the first bytes show the answer is what it claims to be: an HTML page
            // or a stray body behind a 200 is the provider's failure, and another route may still be tried.
            var (firstRead, firstFailure) = await exchange.ReadAsync(buffer, cancellationToken);
            if (firstFailure is not null || firstRead == 0 || !LooksLikeAnswer(buffer.AsSpan(0, firstRead), isStream))
            {
                var reason = firstFailure ?? (firstRead == 0
                    ? $"answered {status} with an empty body"
                    : $"answered {status} with {(isStream ? "a stream" : "a body")} that is not an Anthropic answer: {Snippet(buffer.AsSpan(0, firstRead))}");
                _transport.LogFailure(context.TraceIdentifier, reason);
                return UpstreamResult.NotSent(new RelayError(502, ErrorTypes.Api, $"Provider '{Name}' {reason}", true));
            }

            if (request.Door.Protocol != WireProtocol.Anthropic)
            {
                return exchange.IsEventStream
                    ? await TranslateStreamAsync(request, exchange, buffer, firstRead, cancellationToken)
                    : await TranslateMessageAsync(request, exchange, buffer, firstRead, cancellationToken);
            }

            var response = context.Response;
            response.StatusCode = status;
            ForwardedHeaders.CopyResponseHeaders(exchange.Response, response);
            context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
            return isStream
                ? await CopyStreamAsync(request, exchange, buffer, firstRead, cancellationToken)
                : await CopyJsonAsync(request, exchange, buffer, firstRead, cancellationToken);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static bool LooksLikeAnswer(ReadOnlySpan<byte> start, bool isStream) =>
        isStream ? SseUsageScanner.LooksLikeEventStream(start) : start.TrimStart(" \t\r\n"u8) is var json && (json.IsEmpty || json[0] == (byte)'{');

    private static string Snippet(ReadOnlySpan<byte> bytes) =>
        System.Text.Encoding.UTF8.GetString(bytes[..Math.Min(bytes.Length, 200)]).ReplaceLineEndings(" ").Trim();

    /// <summary>
    /// Forwards an event stream event by event: bytes go out through the end of the last complete event, and the rest
    /// waits for its end, so the client never holds part of an event when the provider breaks off, and a ping or an
    /// error event always lands between two events.
    /// </summary>
    private async Task<UpstreamResult> CopyStreamAsync(UpstreamRequest request, UpstreamExchange exchange, byte[] buffer, int read,
        CancellationToken cancellationToken)
    {
        var (status, headersMs) = (exchange.Status, exchange.HeadersMs);
        var context = request.Context;
        var response = context.Response;
        using var scanner = new SseUsageScanner();
        using var unfinished = new PooledByteBuffer(1024);
        using var writeLock = new SemaphoreSlim(1, 1);
        using var stopPings = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var progress = new StreamProgress();
        string? brokenReason = null;
        await response.StartAsync(cancellationToken);
        var pings = SendPingsAsync(progress, writeLock, stop => response.Body.WriteAsync(PingEvent, stop).AsTask(), stopPings.Token);
        try
        {
            while (read > 0)
            {
                var chunk = buffer.AsMemory(0, read);
                var complete = scanner.Feed(chunk.Span);
                var oversized = complete < 0 && unfinished.Length + read > MaxUnfinishedEvent;
                if (complete < 0 && !oversized)
                {
                    unfinished.Write(chunk.Span); // no event ends in this chunk yet
                }
                else
                {
                    // An event larger than any provider sends is forwarded as it is rather than held without bound.
                    var through = oversized ? read : complete;
                    ReadOnlyMemory<byte> ready = chunk[..through];
                    if (unfinished.Length > 0)
                    {
                        unfinished.Write(chunk.Span[..through]);
                        ready = unfinished.Memory;
                    }

                    await writeLock.WaitAsync(cancellationToken);
                    try
                    {
                        await response.Body.WriteAsync(ready, cancellationToken);
                        progress.Wrote(atEventBoundary: !oversized || scanner.AtEventBoundary);
                    }
                    finally
                    {
                        writeLock.Release();
                    }

                    unfinished.Clear();
                    unfinished.Write(chunk.Span[through..]);
                    if (!progress.Began)
                    {
                        progress.Began = true;
                        request.Timing.MarkFirstByte();
                        request.AnswerBegan?.Invoke();
                    }
                }

                (read, brokenReason) = await exchange.ReadAsync(buffer, cancellationToken);
            }
        }
        catch (OperationCanceledException)
        {
            request.UsageSoFar?.Invoke(scanner.BillableUsage(request.OutputLimit));
            throw;
        }
        finally
        {
            await stopPings.CancelAsync();
            await pings;
        }

        // A clean end before message_stop is as broken as a cut connection; an unfinished event is never completed.
        if (brokenReason is null && request.Endpoint == MessagesEndpointKind.Messages && !scanner.SawMessageStop && scanner.ErrorType is null)
        {
            brokenReason = "the stream ended before the answer was finished";
        }

        if (brokenReason is not null)
        {
            _transport.LogBroken(context.TraceIdentifier, brokenReason);
            if (scanner.ErrorType is null)
            {
                // The status line is gone; an SSE error event is the only way left to tell the client, then end cleanly.
                var errorEvent = request.Door.StreamError(ErrorTypes.Api, $"Provider '{Name}' broke off the stream: {brokenReason}");
                await response.Body.WriteAsync(progress.AtEventBoundary ? errorEvent : [.. "\n\n"u8, .. errorEvent], cancellationToken);
            }
        }

        var errorType = scanner.ErrorType ?? (brokenReason is not null ? ErrorTypes.Api : null);
        return new UpstreamResult(status, scanner.BillableUsage(request.OutputLimit), errorType, null, null, brokenReason is not null || scanner.ErrorType is not null, headersMs);
    }

    /// <summary>Forwards a JSON body as it arrives, with a capped side copy to read its usage and check its shape.</summary>
    private async Task<UpstreamResult> CopyJsonAsync(UpstreamRequest request, UpstreamExchange exchange, byte[] buffer, int read,
        CancellationToken cancellationToken)
    {
        var (status, headersMs) = (exchange.Status, exchange.HeadersMs);
        var context = request.Context;
        using var sideCopy = new PooledByteBuffer(4096);
        var whole = true;
        var began = false;
        string? brokenReason = null;
        while (read > 0)
        {
            var chunk = buffer.AsMemory(0, read);
            if (sideCopy.Length + read <= MaxJsonSideCopy)
            {
                sideCopy.Write(chunk.Span);
            }
            else
            {
                whole = false;
            }

            await context.Response.Body.WriteAsync(chunk, cancellationToken);
            if (!began)
            {
                began = true;
                request.Timing.MarkFirstByte();
                request.AnswerBegan?.Invoke();
            }

            (read, brokenReason) = await exchange.ReadAsync(buffer, cancellationToken);
        }

        if (brokenReason is not null)
        {
            _transport.LogBroken(context.TraceIdentifier, brokenReason);
            context.Abort();
            return new UpstreamResult(status, default, ErrorTypes.Api, null, null, true, headersMs);
        }

        var usage = default(TokenUsage);
        var isAnswer = AnthropicObjectSummary.TryRead(sideCopy.Span, out var summary)
            && (request.Endpoint != MessagesEndpointKind.Messages || summary.Kind == AnthropicObjectKind.Message);
        if (isAnswer)
        {
            usage.Apply(summary.Usage);
        }
        else if (whole)
        {
            // Already forwarded; what is left is to record it as the provider's failure, not as a success.
            _transport.LogFailure(context.TraceIdentifier, $"answered {status} with a body that is not an Anthropic answer: {Snippet(sideCopy.Span)}");
            return new UpstreamResult(status, usage, ErrorTypes.Api, null, null, true, headersMs);
        }

        return new UpstreamResult(status, usage, null, null, null, false, headersMs);
    }

    /// <summary>An Anthropic stream for a client of another protocol: read into message events, written in the
    /// client's format as each upstream chunk arrives.</summary>
    private async Task<UpstreamResult> TranslateStreamAsync(UpstreamRequest request, UpstreamExchange exchange, byte[] buffer, int read,
        CancellationToken cancellationToken)
    {
        var response = request.Context.Response;
        request.Door.BeginEventStream(response);
        var output = new ArrayBufferWriter<byte>(4096);
        var writer = request.Door.CreateEventWriter(output);
        using var disposeWriter = writer as IDisposable;
        var events = new OutputCountingEvents(writer);
        using var reader = new AnthropicEventReader(events, request.Info.Model);
        using var writeLock = new SemaphoreSlim(1, 1);
        using var stopPings = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var progress = new StreamProgress();
        string? brokenReason = null;
        await response.StartAsync(cancellationToken);
        var pings = SendPingsAsync(progress, writeLock, async stop =>
        {
            reader.Ping();
            await FlushAsync(response, output, stop);
        }, stopPings.Token);
        try
        {
            while (read > 0)
            {
                await writeLock.WaitAsync(cancellationToken);
                try
                {
                    reader.Feed(buffer.AsSpan(0, read));
                    if (await FlushAsync(response, output, cancellationToken))
                    {
                        progress.Wrote(atEventBoundary: true);
                    }
                }
                finally
                {
                    writeLock.Release();
                }

                if (!progress.Began && reader.Started)
                {
                    progress.Began = true;
                    request.Timing.MarkFirstByte();
                    request.AnswerBegan?.Invoke();
                }

                (read, brokenReason) = await exchange.ReadAsync(buffer, cancellationToken);
            }
        }
        catch (OperationCanceledException)
        {
            request.UsageSoFar?.Invoke(events.Billable(reader.Usage, request.OutputLimit));
            throw;
        }
        finally
        {
            await stopPings.CancelAsync();
            await pings;
        }

        if (brokenReason is not null)
        {
            _transport.LogBroken(request.Context.TraceIdentifier, brokenReason);
            reader.Fail(ErrorTypes.Api, $"Provider '{Name}' broke off the stream: {brokenReason}");
        }
        else
        {
            reader.OnEndOfInput();
        }

        await FlushAsync(response, output, cancellationToken);
        return new UpstreamResult(exchange.Status, events.Billable(reader.Usage, request.OutputLimit), reader.ErrorType, null, null, reader.Failed, exchange.HeadersMs);
    }

    /// <summary>A whole Anthropic message for a client of another protocol, in that protocol's whole-answer form.</summary>
    private async Task<UpstreamResult> TranslateMessageAsync(UpstreamRequest request, UpstreamExchange exchange, byte[] buffer, int read,
        CancellationToken cancellationToken)
    {
        using var whole = new PooledByteBuffer(read + 4096);
        string? brokenReason = null;
        while (read > 0 && whole.Length <= MaxJsonSideCopy)
        {
            whole.Write(buffer.AsSpan(0, read));
            (read, brokenReason) = await exchange.ReadAsync(buffer, cancellationToken);
        }

        if (brokenReason is not null || read > 0)
        {
            var reason = brokenReason ?? $"the answer is larger than {MaxJsonSideCopy / (1024 * 1024)} MB";
            _transport.LogFailure(request.Context.TraceIdentifier, reason);
            return UpstreamResult.NotSent(RelayError.Unreachable(Name, reason));
        }

        var output = new ArrayBufferWriter<byte>(4096);
        var writer = request.Door.CreateMessageWriter(output);
        using (writer as IDisposable)
        using (var reader = new AnthropicEventReader(writer, request.Info.Model))
        {
            reader.ReadMessage(whole.Span);
            if (reader.Failed)
            {
                return UpstreamResult.NotSent(new RelayError(502, reader.ErrorType ?? ErrorTypes.Api, reader.ErrorMessage ?? $"Provider '{Name}' answered an error.", true));
            }

            request.AnswerBegan?.Invoke();
            var response = request.Context.Response;
            response.StatusCode = 200;
            response.ContentType = request.Door.MessageContentType;
            response.ContentLength = output.WrittenCount;
            await response.Body.WriteAsync(output.WrittenMemory, cancellationToken);
            request.Timing.MarkFirstByte();
            return new UpstreamResult(200, reader.Usage, null, null, null, false, exchange.HeadersMs);
        }
    }

    private static async Task<bool> FlushAsync(HttpResponse response, ArrayBufferWriter<byte> output, CancellationToken cancellationToken)
    {
        if (output.WrittenCount == 0)
        {
            return false;
        }

        await response.Body.WriteAsync(output.WrittenMemory, cancellationToken);
        output.ResetWrittenCount();
        return true;
    }

    /// <summary>While the upstream is silent, sends Anthropic <c>ping</c> events, only between events; a ping counts as
    /// output, so they come once per interval of silence.</summary>
    private async Task SendPingsAsync(StreamProgress progress, SemaphoreSlim writeLock, Func<CancellationToken, Task> ping, CancellationToken stop)
    {
        using var timer = new PeriodicTimer(_transport.PingInterval / 4, _transport.Time);
        try
        {
            while (await timer.WaitForNextTickAsync(stop))
            {
                if (progress.SilentFor < _transport.PingInterval)
                {
                    continue;
                }

                await writeLock.WaitAsync(stop);
                try
                {
                    if (progress.AtEventBoundary && progress.SilentFor >= _transport.PingInterval)
                    {
                        await ping(stop);
                        progress.Wrote(atEventBoundary: true);
                    }
                }
                finally
                {
                    writeLock.Release();
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException)
        {
            // The client is gone; the copy loop will notice and end the request.
        }
    }

    /// <summary>What the copy loop and the ping timer share about the bytes written so far.</summary>
    private sealed class StreamProgress
    {
        private long _lastWrite = Stopwatch.GetTimestamp();
        private volatile bool _atEventBoundary = true;

        public bool Began { get; set; }

        public bool AtEventBoundary => _atEventBoundary;

        public TimeSpan SilentFor => Stopwatch.GetElapsedTime(Volatile.Read(ref _lastWrite));

        public void Wrote(bool atEventBoundary)
        {
            _atEventBoundary = atEventBoundary;
            Volatile.Write(ref _lastWrite, Stopwatch.GetTimestamp());
        }
    }

    public void Dispose() => _transport.Dispose();
}
