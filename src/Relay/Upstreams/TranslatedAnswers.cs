using System.Buffers;
using System.Text.Json;
using Relay.Errors;
using Relay.Protocol.Anthropic;
using Relay.Protocol.Corrections;
using Relay.Protocol.Events;
using Relay.Protocol.Json;
using Relay.Protocol.OpenAI;
using Relay.Protocol.Text;
using Relay.Protocol.Translation;

namespace Relay.Upstreams;

/// <summary>What the OpenAI-style upstreams (<c>openai</c>, <c>openai-responses</c>) share around a translated answer:
/// their error answers, the local token counts, and writing a whole translated message.</summary>
internal static class TranslatedAnswers
{
    private const int MaxErrorBody = 64 * 1024;

    /// <summary>One call to a provider reached by translation: the request written for its protocol (learned
    /// parameter drops applied), sent on the shared transport with the client's stream choice, its error answer read,
    /// or its answer handed to <paramref name="stream"/> / <paramref name="message"/> to read into the client's door.</summary>
    /// <param name="transport">The provider's transport.</param>
    /// <param name="uri">Where the provider takes requests.</param>
    /// <param name="request">The call.</param>
    /// <param name="write">Writes the provider's request from the canonical one; throws <see cref="TranslationException"/>
    /// for what the provider's protocol cannot say.</param>
    /// <param name="stream">Reads a streamed answer (the input estimate is already in the context).</param>
    /// <param name="message">Reads a whole answer.</param>
    /// <param name="cancellationToken">The client's or Relay's cancellation.</param>
    public static async Task<UpstreamResult> SendAsync(UpstreamTransport transport, Uri uri, UpstreamRequest request,
        Func<IBufferWriter<byte>, ChatRequestResult> write,
        Func<UpstreamExchange, TranslationContext, Task<UpstreamResult>> stream,
        Func<UpstreamExchange, TranslationContext, Task<UpstreamResult>> message,
        CancellationToken cancellationToken)
    {
        var body = new ArrayBufferWriter<byte>(request.Body.Length + 1024);
        ChatRequestResult translated;
        try
        {
            translated = write(body);
        }
        catch (TranslationException ex)
        {
            return UpstreamResult.NotSent(RelayError.InvalidRequest(ex.Message));
        }

        var upstreamBody = WithoutDroppedParameters(body, request.Corrections);

        // message_start carries Relay's input estimate, counted while the provider works on its answer.
        var estimate = translated.Stream ? EstimateInputAsync(request) : null;
        var context = new TranslationContext(request.Info.Model, translated.ToolNames);
        using var httpRequest = new HttpRequestMessage(HttpMethod.Post, uri) { Content = new ReadOnlyMemoryContent(upstreamBody) };
        httpRequest.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        httpRequest.Headers.Accept.Add(new System.Net.Http.Headers.MediaTypeWithQualityHeaderValue(translated.Stream ? "text/event-stream" : "application/json"));
        transport.Credentials.AddTo(httpRequest);
        var (exchange, failure) = await transport.SendAsync(httpRequest, request.Context.TraceIdentifier, request.Target.TimeoutSeconds, cancellationToken);
        if (exchange is null)
        {
            return failure;
        }

        using (exchange)
        {
            if (exchange.Status is < 200 or >= 300)
            {
                return await ErrorAsync(transport, request, exchange, cancellationToken) with { HeadersMs = exchange.HeadersMs };
            }

            if (!translated.Stream)
            {
                return await message(exchange, context) with { HeadersMs = exchange.HeadersMs };
            }

            request.AnswerBegan?.Invoke();
            // From here the pump watches for silence itself; only the total timeout stays armed.
            exchange.StopIdleTimer();
            context = context with { EstimatedInputTokens = InputEstimate(request, estimate) };
            return await stream(exchange, context) with { HeadersMs = exchange.HeadersMs };
        }
    }

    /// <summary>An HTTP error from the provider, before anything was sent: an Anthropic error the handler writes.
    /// Both OpenAI APIs answer errors as <c>{"error":{...}}</c>.</summary>
    public static async Task<UpstreamResult> ErrorAsync(UpstreamTransport transport, UpstreamRequest request, UpstreamExchange exchange,
        CancellationToken cancellationToken)
    {
        var status = exchange.Status;
        var bytes = await exchange.ReadCappedAsync(MaxErrorBody, cancellationToken);

        var info = ChatErrorReader.TryRead(bytes, out var parsed)
            ? parsed
            : new ChatErrorInfo(bytes.Length == 0 ? $"HTTP {status}" : $"HTTP {status}: {System.Text.Encoding.UTF8.GetString(bytes.AsSpan(0, Math.Min(bytes.Length, 300)))}", null, null);
        var (mappedStatus, type) = ChatErrorMapper.ForStatus(status, info);
        // Clients back off by retry-after (Claude Code waited exactly that on a 429 in the capture); it goes out
        // with the error only if no other route answers instead.
        var retryAfter = exchange.RetryAfter;

        transport.LogFailure(request.Context.TraceIdentifier, $"HTTP {status}: {ClientText.Shorten(info.Message)}");
        var retryable = RetryAfter.IsRetryableStatus(mappedStatus);
        return UpstreamResult.NotSent(new RelayError(mappedStatus, type, ChatErrorMapper.Describe(transport.Provider, info), retryable) { RetryAfter = retryAfter }) with
        {
            Refusal = ProviderRejectionReader.IsRefusalStatus(status) ? new UpstreamRefusal(status, info) : null,
        };
    }

    /// <summary>Reads a provider's streamed answer through <paramref name="translator"/> into the client's door: the
    /// event stream through the pump (pings, idle timeout, break-off), or, when the provider ignored <c>stream</c>
    /// and answered one body, that body as one piece.</summary>
    /// <param name="readWhole">Feeds a whole body to the translator; throws <see cref="JsonException"/> when it is not
    /// what <paramref name="answerKind"/> says.</param>
    public static async Task<UpstreamResult> StreamAsync<TTranslator>(UpstreamTransport transport, UpstreamRequest request, UpstreamExchange exchange,
        Func<IMessageEvents, TTranslator> createTranslator, PumpAsync<TTranslator> pump, Action<TTranslator, byte[]> readWhole, string answerKind,
        CancellationToken cancellationToken)
        where TTranslator : IStreamTranslator
    {
        var response = request.Context.Response;
        request.Door.BeginEventStream(response);
        var output = new ArrayBufferWriter<byte>(4096);
        var writer = request.Door.CreateEventWriter(output);
        using var disposeWriter = writer as IDisposable;
        // Counts what is relayed, for the output estimate of a stream cut short.
        var events = new OutputCountingEvents(writer);
        var translator = createTranslator(events);
        using var disposeTranslator = translator as IDisposable;
        try
        {
            if (exchange.IsEventStream)
            {
                var body = await exchange.BodyAsync(cancellationToken);
                await pump(body, response.Body, translator, output, new ChatStreamTiming(transport.PingInterval, transport.IdleTimeout),
                    request.Timing.MarkFirstByte, exchange.TotalToken);
            }
            else
            {
                translator.Start();
                try
                {
                    readWhole(translator, await exchange.ReadWholeAsync(MaxResponseBody, cancellationToken));
                }
                catch (JsonException ex)
                {
                    translator.Fail(ErrorTypes.Api, $"Provider '{transport.Provider}' answered something that is not {answerKind}: {ex.Message}");
                }
                catch (IOException ex)
                {
                    translator.Fail(ErrorTypes.Api, $"Provider '{transport.Provider}' broke off the answer: {ex.Message}");
                }

                await response.Body.WriteAsync(output.WrittenMemory, cancellationToken);
                request.Timing.MarkFirstByte();
            }
        }
        catch (OperationCanceledException)
        {
            request.UsageSoFar?.Invoke(events.Billable(translator.Usage, request.OutputLimit));
            throw;
        }

        if (translator.Failed)
        {
            transport.LogBroken(request.Context.TraceIdentifier, ClientText.Shorten(translator.ErrorMessage ?? "error"));
        }

        LogRepairs(transport, request, translator.RepairedToolCalls, translator.InvalidToolCalls);
        return new UpstreamResult(200, events.Billable(translator.Usage, request.OutputLimit), translator.ErrorType, null, null, translator.Failed, null);
    }

    public delegate Task PumpAsync<TTranslator>(Stream upstream, Stream client, TTranslator translator, ArrayBufferWriter<byte> output,
        ChatStreamTiming timing, Action? onFirstWrite, CancellationToken cancellationToken);

    /// <summary>The largest whole answer read from a provider.</summary>
    public const int MaxResponseBody = 64 * 1024 * 1024;

    /// <summary>Tool calls whose arguments the provider sent broken: repaired, or replaced because they could not be.</summary>
    public static void LogRepairs(UpstreamTransport transport, UpstreamRequest request, int repaired, int invalid)
    {
        if (repaired + invalid > 0)
        {
            Log.ToolArgumentsRepaired(transport.Logger, request.Context.TraceIdentifier, transport.Provider, request.Target.UpstreamModel, repaired, invalid);
        }
    }

    /// <summary>Writes a whole translated answer, already in the door's shape, as the 200 response.</summary>
    public static async Task WriteMessageAsync(UpstreamRequest request, ArrayBufferWriter<byte> output, CancellationToken cancellationToken)
    {
        request.AnswerBegan?.Invoke();
        var response = request.Context.Response;
        response.StatusCode = 200;
        response.ContentType = request.Door.MessageContentType;
        response.ContentLength = output.WrittenCount;
        await response.Body.WriteAsync(output.WrittenMemory, cancellationToken);
        request.Timing.MarkFirstByte();
    }

    /// <summary>The input estimate for <c>message_start</c>: the count_tokens one, or the inspector's rough one when the
    /// body cannot be counted.</summary>
    /// <remarks>The body is a pooled buffer reused once the attempt returns, so the count runs on its own pooled copy
    /// and nothing (a quick error, a fallback to the next route) waits for it.</remarks>
    public static Task<long> EstimateInputAsync(UpstreamRequest request)
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

    /// <summary>message_start never waits for the count (a few ms per 15 KB): a provider that answered sooner gets the
    /// inspector's rough estimate instead.</summary>
    public static long InputEstimate(UpstreamRequest request, Task<long>? estimate) =>
        estimate is { IsCompletedSuccessfully: true } ? estimate.Result : request.Info.EstimatedInputTokens;

    /// <summary>The local estimate for providers without a count_tokens endpoint. Not recorded as usage.</summary>
    public static async Task<UpstreamResult> CountTokensAsync(UpstreamRequest request, CancellationToken cancellationToken)
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

    /// <summary>Leaves out the top-level parameters the provider refused before; the rest is kept byte for byte.</summary>
    public static ReadOnlyMemory<byte> WithoutDroppedParameters(ArrayBufferWriter<byte> body, ProviderCorrections corrections)
    {
        if (corrections.DroppedParameters.Count == 0)
        {
            return body.WrittenMemory;
        }

        var filtered = new ArrayBufferWriter<byte>(body.WrittenCount);
        return TopLevelProperties.TryRemove(body.WrittenSpan, corrections.DroppedParameters, filtered) ? filtered.WrittenMemory : body.WrittenMemory;
    }
}
