using System.Buffers;
using System.Net;
using System.Net.Http.Headers;
using Microsoft.AspNetCore.Http.Features;
using Relay.Buffers;
using Relay.Configuration;
using Relay.Errors;
using Relay.Protocol.Anthropic;
using Relay.Protocol.Sse;

namespace Relay.Upstreams;

/// <summary>
/// Forwards to an Anthropic-compatible endpoint: the client's body with only the model rewritten, its
/// <c>anthropic-*</c> headers, and the provider's own key; the answer is copied back byte for byte as it arrives.
/// </summary>
/// <remarks>
/// Uses <see cref="HttpMessageInvoker"/> rather than HttpClient so the response is never buffered, as YARP does.
/// Usage is read from the bytes on their way through (<see cref="SseUsageScanner"/> for streams, a capped side copy
/// for JSON bodies); nothing is re-serialised.
/// </remarks>
internal sealed class AnthropicUpstream : IUpstream, IDisposable
{
    private const int CopyBufferSize = 16 * 1024;
    private const int MaxJsonSideCopy = 4 * 1024 * 1024;

    private readonly HttpMessageInvoker _invoker;
    private readonly string _root;
    private readonly Uri _messagesUri;
    private readonly Uri _countTokensUri;
    private readonly TimeSpan _timeout;
    private readonly string? _apiKey;
    private readonly bool _bearer;
    private readonly KeyValuePair<string, string>[] _extraHeaders;
    private readonly ILogger _logger;

    public AnthropicUpstream(string name, ProviderConfig config, ILogger logger)
    {
        Name = name;
        _logger = logger;
        ForwardsClientCredentials = string.Equals(config.ApiKey, RelayDefaults.PassthroughKey, StringComparison.Ordinal);
        _apiKey = ForwardsClientCredentials ? null : config.ApiKey;
        _bearer = string.Equals(config.AuthScheme, "bearer", StringComparison.OrdinalIgnoreCase);
        _extraHeaders = config.Headers?.ToArray() ?? [];
        _timeout = TimeSpan.FromSeconds(config.TimeoutSeconds ?? RelayDefaults.TimeoutSeconds);

        _root = BaseUrlRoot(config.BaseUrl!);
        _messagesUri = new Uri(_root + "/v1/messages");
        _countTokensUri = new Uri(_root + "/v1/messages/count_tokens");

        _invoker = new HttpMessageInvoker(new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
            ConnectTimeout = TimeSpan.FromSeconds(Math.Min(15, _timeout.TotalSeconds)),
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(90),
            EnableMultipleHttp2Connections = true,
        }, disposeHandler: true);
    }

    public string Name { get; }

    public bool ForwardsClientCredentials { get; }

    /// <summary>The URL Relay appends <c>/v1/messages</c> to; a trailing <c>/</c> or <c>/v1</c> is forgiven.</summary>
    public static string BaseUrlRoot(string baseUrl)
    {
        var root = baseUrl.TrimEnd('/');
        return root.EndsWith("/v1", StringComparison.OrdinalIgnoreCase) ? root[..^3] : root;
    }

    public async Task<UpstreamResult> SendAsync(UpstreamRequest request, CancellationToken cancellationToken)
    {
        using var message = BuildRequest(request);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_timeout);

        HttpResponseMessage response;
        try
        {
            response = await _invoker.SendAsync(message, timeout.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            Log.UpstreamFailed(_logger, request.Context.TraceIdentifier, Name, "timed out before answering");
            return UpstreamResult.NotSent(RelayError.UpstreamTimeout(Name, (int)_timeout.TotalSeconds));
        }
        catch (HttpRequestException ex)
        {
            var reason = Describe(ex);
            Log.UpstreamFailed(_logger, request.Context.TraceIdentifier, Name, reason);
            return UpstreamResult.NotSent(RelayError.Unreachable(Name, reason));
        }

        using (response)
        {
            return await RelayResponseAsync(request, response, timeout, cancellationToken);
        }
    }

    private HttpRequestMessage BuildRequest(UpstreamRequest request)
    {
        var uri = request.Endpoint == MessagesEndpointKind.CountTokens ? _countTokensUri : _messagesUri;
        var query = request.Context.Request.QueryString;
        var message = new HttpRequestMessage(HttpMethod.Post, query.HasValue ? new Uri(uri + query.Value) : uri)
        {
            Content = new ReadOnlyMemoryContent(request.Body),
        };
        message.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");

        var clientHeaders = request.Context.Request.Headers;
        ForwardedHeaders.CopyRequestHeaders(clientHeaders, message);
        if (!message.Headers.Contains("anthropic-version"))
        {
            message.Headers.TryAddWithoutValidation("anthropic-version", "2023-06-01");
        }

        AddCredentials(clientHeaders, message, request.ClientUsedRelayKey);
        return message;
    }

    /// <summary>The provider's key, or for <c>passthrough</c> the client's own; then the configured extra headers.</summary>
    private void AddCredentials(IHeaderDictionary clientHeaders, HttpRequestMessage message, bool clientUsedRelayKey)
    {
        if (ForwardsClientCredentials)
        {
            // The upstream authenticates the client; a Relay key, though, is Relay's secret and never leaves it.
            if (!clientUsedRelayKey)
            {
                CopyIfPresent(clientHeaders, message, "x-api-key");
                CopyIfPresent(clientHeaders, message, "authorization");
            }
        }
        else if (_bearer)
        {
            message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _apiKey);
        }
        else
        {
            message.Headers.TryAddWithoutValidation("x-api-key", _apiKey);
        }

        foreach (var (name, value) in _extraHeaders)
        {
            message.Headers.Remove(name);
            message.Headers.TryAddWithoutValidation(name, value);
        }
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
        ForwardedHeaders.CopyRequestHeaders(context.Request.Headers, message);
        AddCredentials(context.Request.Headers, message, clientUsedRelayKey: false);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        // Claude Code gives discovery 3 s and Desktop 10 s; a slow list must not hold them for the full message timeout.
        timeout.CancelAfter(TimeSpan.FromSeconds(Math.Min(30, _timeout.TotalSeconds)));
        HttpResponseMessage response;
        try
        {
            response = await _invoker.SendAsync(message, timeout.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            var error = RelayError.UpstreamTimeout(Name, (int)Math.Min(30, _timeout.TotalSeconds));
            await ErrorResponses.WriteAsync(context, error);
            return error.Status;
        }
        catch (HttpRequestException ex)
        {
            Log.UpstreamFailed(_logger, context.TraceIdentifier, Name, Describe(ex));
            var error = RelayError.Unreachable(Name, Describe(ex));
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

    private static void CopyIfPresent(IHeaderDictionary from, HttpRequestMessage to, string name)
    {
        if (from.TryGetValue(name, out var values))
        {
            to.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values);
        }
    }

    private async Task<UpstreamResult> RelayResponseAsync(UpstreamRequest request, HttpResponseMessage upstream,
        CancellationTokenSource idle, CancellationToken cancellationToken)
    {
        var context = request.Context;
        var response = context.Response;
        var status = (int)upstream.StatusCode;
        response.StatusCode = status;
        ForwardedHeaders.CopyResponseHeaders(upstream, response);
        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();

        var isStream = string.Equals(upstream.Content.Headers.ContentType?.MediaType, "text/event-stream", StringComparison.OrdinalIgnoreCase);
        using var scanner = isStream ? new SseUsageScanner() : null;
        using var sideCopy = isStream ? null : new PooledByteBuffer(4096);
        var buffer = ArrayPool<byte>.Shared.Rent(CopyBufferSize);
        string? brokenReason = null;
        try
        {
            await response.StartAsync(cancellationToken);
            var body = await upstream.Content.ReadAsStreamAsync(cancellationToken);
            while (true)
            {
                int read;
                try
                {
                    idle.CancelAfter(_timeout);
                    read = await body.ReadAsync(buffer, idle.Token);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    brokenReason = $"no data for {(int)_timeout.TotalSeconds} s";
                    break;
                }
                catch (Exception ex) when (ex is IOException or HttpRequestException)
                {
                    brokenReason = ex is HttpRequestException hre ? Describe(hre) : ex.Message;
                    break;
                }

                if (read == 0)
                {
                    break;
                }

                var chunk = buffer.AsMemory(0, read);
                scanner?.Feed(chunk.Span);
                if (sideCopy is not null && sideCopy.Length + read <= MaxJsonSideCopy)
                {
                    sideCopy.Write(chunk.Span);
                }

                await response.Body.WriteAsync(chunk, cancellationToken);
                request.Timing.MarkFirstByte();
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        if (brokenReason is not null)
        {
            Log.StreamBroken(_logger, context.TraceIdentifier, Name, brokenReason);
            if (isStream)
            {
                // The status line is gone; an SSE error event is the only way left to tell the client, then end cleanly.
                await response.Body.WriteAsync(ErrorResponses.SseErrorEvent(ErrorTypes.Api,
                    $"Provider '{Name}' broke off the stream: {brokenReason}"), cancellationToken);
            }
            else
            {
                context.Abort();
            }
        }

        if (scanner is not null)
        {
            var errorType = scanner.ErrorType ?? (brokenReason is not null ? ErrorTypes.Api : status >= 400 ? ErrorTypes.ForStatus(status) : null);
            return new UpstreamResult(status, scanner.Usage, errorType, null);
        }

        var usage = default(TokenUsage);
        string? jsonError = null;
        if (AnthropicObjectSummary.TryRead(sideCopy!.Span, out var summary))
        {
            usage.Apply(summary.Usage);
            jsonError = summary.ErrorType;
        }

        var error = status >= 400 ? jsonError ?? ErrorTypes.ForStatus(status) : brokenReason is not null ? ErrorTypes.Api : null;
        return new UpstreamResult(status, usage, error, null);
    }

    private static string Describe(HttpRequestException ex) => ex.HttpRequestError switch
    {
        HttpRequestError.NameResolutionError => $"DNS lookup failed ({ex.Message})",
        HttpRequestError.ConnectionError => $"connection failed ({ex.Message})",
        HttpRequestError.SecureConnectionError => $"TLS handshake failed ({ex.Message})",
        HttpRequestError.ResponseEnded => "the connection closed before a complete answer",
        _ => ex.Message,
    };

    public void Dispose() => _invoker.Dispose();
}
