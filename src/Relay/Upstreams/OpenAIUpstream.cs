using System.Buffers;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;
using Relay.Configuration;
using Relay.Errors;
using Relay.Protocol.Anthropic;
using Relay.Protocol.Corrections;
using Relay.Protocol.Json;
using Relay.Protocol.OpenAI;
using Relay.Protocol.Text;
using Relay.Protocol.Translation;

namespace Relay.Upstreams;

/// <summary>
/// Serves Anthropic Messages requests from an OpenAI-compatible Chat Completions endpoint (OpenRouter, DeepSeek, Kimi,
/// GLM, Qwen, Groq, Together, Ollama, vLLM, Gemini, any relay's <c>/v1</c>): the request is translated for the
/// provider's preset, and the answer, streamed or not, is translated back as it arrives.
/// </summary>
/// <remarks>
/// <para>Errors before the provider's first byte are ordinary Anthropic-shaped HTTP errors (so clients retry as they do
/// with Anthropic); once a stream has begun, failures become an SSE <c>error</c> event and the stream ends. The client's
/// <c>message_start</c> goes out as soon as the provider answers 200, and <c>ping</c>s keep it alive while a reasoning
/// model is silent.</para>
/// <para>Usage is the provider's own: input = prompt − cached, cache reads = cached, output = completion; zero when the
/// provider reported none. <c>count_tokens</c> is a local estimate (<see cref="TokenEstimator"/>), and so is the input
/// count of a stream's <c>message_start</c>; the usage record and <c>message_delta</c> keep the provider's numbers.</para>
/// </remarks>
internal sealed class OpenAIUpstream : IUpstream, IDisposable
{
    private const int MaxResponseBody = 64 * 1024 * 1024;
    private const int MaxErrorBody = 64 * 1024;

    private readonly HttpMessageInvoker _invoker;
    private readonly Uri _chatUri;
    private readonly TimeSpan _timeout;
    private readonly TimeSpan _pingInterval;
    private readonly ProviderCredentials _credentials;
    private readonly OpenAIModelOptions _models;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly string _baseUrl;
    private readonly TimeSpan _idleTimeout;
    private readonly TimeSpan _totalTimeout;

    public OpenAIUpstream(string name, ProviderConfig config, TimeProvider time, ILogger logger)
    {
        Name = name;
        _logger = logger;
        _time = time;
        _baseUrl = config.BaseUrl!.TrimEnd('/');
        _credentials = new ProviderCredentials(config, config.ApiKey, bearerByDefault: true);
        _timeout = TimeSpan.FromSeconds(config.TimeoutSeconds ?? RelayDefaults.TimeoutSeconds);
        _idleTimeout = TimeSpan.FromSeconds(config.IdleTimeoutSeconds ?? RelayDefaults.IdleTimeoutSeconds);
        _totalTimeout = TimeSpan.FromSeconds(config.TotalTimeoutSeconds ?? RelayDefaults.TotalTimeoutSeconds);
        _pingInterval = UpstreamConnections.PingInterval(config);
        _models = new OpenAIModelOptions(config);
        _chatUri = ChatCompletionsUri(config.BaseUrl!);
        _invoker = UpstreamConnections.CreateInvoker(config);
        TokenEstimator.LoadInBackground();
    }

    public string Name { get; }

    public bool ForwardsClientCredentials => false;

    /// <summary>Probes <c>{baseUrl}/models</c> by default (the path is appended to the OpenAI-style base URL).</summary>
    public async Task<string?> ProbeAsync(string? path, CancellationToken cancellationToken)
    {
        using var message = new HttpRequestMessage(HttpMethod.Get, _baseUrl + (path ?? "/models"));
        _credentials.AddTo(message);

        try
        {
            using var response = await _invoker.SendAsync(message, cancellationToken);
            var status = (int)response.StatusCode;
            return status is >= 500 or 401 or 403 ? $"health check answered {status}" : null;
        }
        catch (HttpRequestException ex)
        {
            return ex.Message;
        }
    }

    /// <summary>count_tokens is a local estimate: these providers have no such endpoint.</summary>
    public bool AnswersLocally(MessagesEndpointKind endpoint) => endpoint == MessagesEndpointKind.CountTokens;

    public bool CanApply(CorrectionKind kind) => true;

    public int? ConfiguredMaxTokens(string upstreamModel) => _models.ConfiguredMaxTokens(upstreamModel);

    /// <summary>The base URL is the OpenAI-style one, <c>/v1</c> included; <c>/chat/completions</c> is appended unless present.</summary>
    public static Uri ChatCompletionsUri(string baseUrl)
    {
        var root = baseUrl.TrimEnd('/');
        return new Uri(root.EndsWith("/chat/completions", StringComparison.OrdinalIgnoreCase) ? root : root + "/chat/completions");
    }

    public async Task<UpstreamResult> SendAsync(UpstreamRequest request, CancellationToken cancellationToken)
    {
        if (request.Endpoint == MessagesEndpointKind.CountTokens)
        {
            return await CountTokensAsync(request, cancellationToken);
        }

        var quirks = _models.For(request.Target.UpstreamModel, request.Corrections);
        var body = new ArrayBufferWriter<byte>(request.Body.Length + 1024);
        ChatRequestResult translated;
        try
        {
            translated = ChatRequestTranslator.Write(request.Body, request.Target.UpstreamModel, quirks, body);
        }
        catch (TranslationException ex)
        {
            return UpstreamResult.NotSent(RelayError.InvalidRequest(ex.Message));
        }

        var upstreamBody = body.WrittenMemory;
        if (request.Corrections.DroppedParameters.Count > 0)
        {
            // Parameters this provider refused before; the rest of the translated request is kept byte for byte.
            var filtered = new ArrayBufferWriter<byte>(body.WrittenCount);
            if (TopLevelProperties.TryRemove(body.WrittenSpan, request.Corrections.DroppedParameters, filtered))
            {
                upstreamBody = filtered.WrittenMemory;
            }
        }

        // message_start carries Relay's input estimate, counted while the provider works on its answer.
        var estimate = translated.Stream ? EstimateInputAsync(request) : null;
        var context = new TranslationContext(request.Info.Model, translated.ToolNames);
        using var message = BuildRequest(upstreamBody, translated.Stream);
        var firstByteTimeout = request.Target.TimeoutSeconds is { } routeTimeout ? TimeSpan.FromSeconds(routeTimeout) : _timeout;
        using var total = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        total.CancelAfter(_totalTimeout);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(total.Token);
        timeout.CancelAfter(firstByteTimeout);
        var started = System.Diagnostics.Stopwatch.GetTimestamp();

        HttpResponseMessage response;
        try
        {
            response = await _invoker.SendAsync(message, timeout.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            Log.UpstreamFailed(_logger, request.Context.TraceIdentifier, Name, "timed out before answering");
            return UpstreamResult.NotSent(RelayError.UpstreamTimeout(Name, (int)firstByteTimeout.TotalSeconds));
        }
        catch (HttpRequestException ex)
        {
            Log.UpstreamFailed(_logger, request.Context.TraceIdentifier, Name, ex.Message);
            return UpstreamResult.NotSent(UpstreamFailures.ForSendFailure(Name, ex, ex.Message));
        }

        var headersMs = System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        using (response)
        {
            if (!response.IsSuccessStatusCode)
            {
                return await ErrorAsync(request, response, timeout.Token) with { HeadersMs = headersMs };
            }

            var isStream = string.Equals(response.Content.Headers.ContentType?.MediaType, "text/event-stream", StringComparison.OrdinalIgnoreCase);
            if (translated.Stream)
            {
                request.AnswerBegan?.Invoke();
                // From here the pump watches for silence itself; the overall timeout only covered the wait for headers.
                timeout.CancelAfter(Timeout.InfiniteTimeSpan);
                if (estimate is not null)
                {
                    // message_start never waits for the count (a few ms per 15 KB): a provider that answered sooner
                    // gets the inspector's rough estimate instead.
                    context = context with { EstimatedInputTokens = estimate.IsCompletedSuccessfully ? estimate.Result : request.Info.EstimatedInputTokens };
                }

                return await StreamAsync(request, response, context, isStream, total.Token) with { HeadersMs = headersMs };
            }

            return await MessageAsync(request, response, context, timeout.Token) with { HeadersMs = headersMs };
        }
    }

    private HttpRequestMessage BuildRequest(ReadOnlyMemory<byte> body, bool stream)
    {
        var message = new HttpRequestMessage(HttpMethod.Post, _chatUri) { Content = new ReadOnlyMemoryContent(body) };
        message.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        message.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(stream ? "text/event-stream" : "application/json"));
        _credentials.AddTo(message);
        return message;
    }

    /// <summary>An HTTP error from the provider, before anything was sent: an Anthropic error the handler writes.</summary>
    private async Task<UpstreamResult> ErrorAsync(UpstreamRequest request, HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var status = (int)response.StatusCode;
        byte[] bytes;
        try
        {
            bytes = _credentials.Redact(await ReadCappedAsync(response, MaxErrorBody, cancellationToken));
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            bytes = [];
        }

        var info = ChatErrorReader.TryRead(bytes, out var parsed)
            ? parsed
            : new ChatErrorInfo(bytes.Length == 0 ? $"HTTP {status}" : $"HTTP {status}: {System.Text.Encoding.UTF8.GetString(bytes.AsSpan(0, Math.Min(bytes.Length, 300)))}", null, null);
        var (mappedStatus, type) = ChatErrorMapper.ForStatus(status, info);
        // Clients back off by retry-after (Claude Code waited exactly that on a 429 in the capture); it goes out
        // with the error only if no other route answers instead.
        var retryAfter = RetryAfter.From(response, _time.GetUtcNow());

        Log.UpstreamFailed(_logger, request.Context.TraceIdentifier, Name, $"HTTP {status}: {ClientText.Shorten(info.Message)}");
        var retryable = mappedStatus is 408 or 409 or 429 or >= 500;
        return UpstreamResult.NotSent(new RelayError(mappedStatus, type, ChatErrorMapper.Describe(Name, info), retryable) { RetryAfter = retryAfter }) with
        {
            Refusal = ProviderRejectionReader.IsRefusalStatus(status) ? new UpstreamRefusal(status, info) : null,
        };
    }

    private async Task<UpstreamResult> StreamAsync(UpstreamRequest request, HttpResponseMessage upstream, TranslationContext context,
        bool isStream, CancellationToken cancellationToken)
    {
        var response = request.Context.Response;
        response.StatusCode = 200;
        response.ContentType = "text/event-stream; charset=utf-8";
        response.Headers.CacheControl = "no-cache";
        request.Context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();

        var output = new ArrayBufferWriter<byte>(4096);
        using var translator = new ChatStreamTranslator(output, context);
        var body = await upstream.Content.ReadAsStreamAsync(cancellationToken);
        try
        {
            if (isStream)
            {
                await ChatStreamPump.RunAsync(body, response.Body, translator, output, new ChatStreamTiming(_pingInterval, _idleTimeout),
                    request.Timing.MarkFirstByte, cancellationToken);
            }
            else
            {
                // The provider ignored stream:true and answered one JSON body; its message is a whole chunk.
                await WriteJsonAsStreamAsync(request, upstream, translator, output, cancellationToken);
            }
        }
        catch (OperationCanceledException)
        {
            request.UsageSoFar?.Invoke(translator.Usage);
            throw;
        }

        if (translator.Failed)
        {
            Log.StreamBroken(_logger, request.Context.TraceIdentifier, Name, ClientText.Shorten(translator.ErrorMessage ?? "error"));
        }

        LogRepairs(request, translator.RepairedToolCalls, translator.InvalidToolCalls);
        return new UpstreamResult(200, translator.Usage, translator.ErrorType, null, null, translator.Failed, null);
    }

    private async Task WriteJsonAsStreamAsync(UpstreamRequest request, HttpResponseMessage upstream, ChatStreamTranslator translator,
        ArrayBufferWriter<byte> output, CancellationToken cancellationToken)
    {
        translator.Start();
        try
        {
            var bytes = await ReadCappedAsync(upstream, MaxResponseBody, cancellationToken);
            var chunk = JsonSerializer.Deserialize(bytes, OpenAIJsonContext.Default.ChatCompletionChunk);
            if (chunk is null)
            {
                translator.Fail(ErrorTypes.Api, $"Provider '{Name}' answered an empty body.");
            }
            else
            {
                translator.OnChunk(chunk);
                translator.OnDone();
            }
        }
        catch (JsonException ex)
        {
            translator.Fail(ErrorTypes.Api, $"Provider '{Name}' answered something that is not a chat completion: {ex.Message}");
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException && !cancellationToken.IsCancellationRequested)
        {
            translator.Fail(ErrorTypes.Api, $"Provider '{Name}' broke off the answer: {ex.Message}");
        }

        await request.Context.Response.Body.WriteAsync(output.WrittenMemory, cancellationToken);
        request.Timing.MarkFirstByte();
    }

    private async Task<UpstreamResult> MessageAsync(UpstreamRequest request, HttpResponseMessage upstream, TranslationContext context,
        CancellationToken cancellationToken)
    {
        ChatCompletion? completion;
        try
        {
            var bytes = await ReadCappedAsync(upstream, MaxResponseBody, cancellationToken);
            completion = JsonSerializer.Deserialize(bytes, OpenAIJsonContext.Default.ChatCompletion);
        }
        catch (JsonException ex)
        {
            return UpstreamResult.NotSent(new RelayError(502, ErrorTypes.Api, $"Provider '{Name}' answered something that is not a chat completion: {ex.Message}", true));
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return UpstreamResult.NotSent(RelayError.UpstreamTimeout(Name, (int)_timeout.TotalSeconds));
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException)
        {
            return UpstreamResult.NotSent(RelayError.Unreachable(Name, ex.Message));
        }

        if (completion is null || (completion.Choices is not { Count: > 0 } && completion.Error is not null))
        {
            var error = completion?.Error;
            var info = new ChatErrorInfo(error?.Message ?? "empty answer", error?.Type, error?.Code);
            return UpstreamResult.NotSent(new RelayError(502, ErrorTypes.Api, ChatErrorMapper.Describe(Name, info), true));
        }

        request.AnswerBegan?.Invoke();
        var output = new ArrayBufferWriter<byte>(4096);
        var result = ChatResponseTranslator.Write(completion, context, output);
        var response = request.Context.Response;
        response.StatusCode = 200;
        response.ContentType = "application/json";
        response.ContentLength = output.WrittenCount;
        await response.Body.WriteAsync(output.WrittenMemory, cancellationToken);
        request.Timing.MarkFirstByte();
        LogRepairs(request, result.RepairedToolCalls, result.InvalidToolCalls);
        return new UpstreamResult(200, result.Usage, null, null, null, false, null);
    }

    /// <summary>The input estimate for <c>message_start</c>: the count_tokens one, or the inspector's rough one when the
    /// body cannot be counted.</summary>
    /// <remarks>The body is a pooled buffer reused once the attempt returns, so the count runs on its own pooled copy
    /// and nothing (a quick error, a fallback to the next route) waits for it.</remarks>
    private static Task<long> EstimateInputAsync(UpstreamRequest request)
    {
        var length = request.Body.Length;
        var copy = ArrayPool<byte>.Shared.Rent(length);
        request.Body.Span.CopyTo(copy);
        var rough = request.Info.EstimatedInputTokens;
        return Task.Run(() =>
        {
            try
            {
                return TokenEstimator.Estimate(copy.AsMemory(0, length));
            }
            catch (JsonException)
            {
                return rough;
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(copy);
            }
        });
    }

    /// <summary>The local estimate: these providers have no count_tokens endpoint. Not recorded as usage.</summary>
    private static async Task<UpstreamResult> CountTokensAsync(UpstreamRequest request, CancellationToken cancellationToken)
    {
        long tokens;
        try
        {
            tokens = TokenEstimator.Estimate(request.Body);
        }
        catch (JsonException ex)
        {
            return UpstreamResult.NotSent(RelayError.InvalidRequest($"The request body is not valid JSON: {ex.Message}"));
        }

        var response = request.Context.Response;
        response.StatusCode = 200;
        response.ContentType = "application/json";
        await JsonSerializer.SerializeAsync(response.Body, new CountTokensResult { InputTokens = tokens }, ProtocolJson.Context.CountTokensResult, cancellationToken);
        request.Timing.MarkFirstByte();
        return new UpstreamResult(200, default, null, null, null, false, null);
    }

    private static async Task<byte[]> ReadCappedAsync(HttpResponseMessage response, int limit, CancellationToken cancellationToken)
    {
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        using var buffer = new MemoryStream();
        var chunk = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            int read;
            while ((read = await stream.ReadAsync(chunk, cancellationToken)) > 0)
            {
                if (buffer.Length + read > limit)
                {
                    throw new IOException($"the answer is larger than {limit / (1024 * 1024)} MB");
                }

                buffer.Write(chunk, 0, read);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }

        return buffer.ToArray();
    }

    private void LogRepairs(UpstreamRequest request, int repaired, int invalid)
    {
        if (repaired + invalid > 0)
        {
            Log.ToolArgumentsRepaired(_logger, request.Context.TraceIdentifier, Name, request.Target.UpstreamModel, repaired, invalid);
        }
    }

    public void Dispose() => _invoker.Dispose();
}
