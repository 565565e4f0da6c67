using System.Buffers;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;
using Relay.Buffers;
using Relay.Doors;
using Relay.Errors;
using Relay.Protocol.Anthropic;
using Relay.Protocol.Corrections;
using Relay.Protocol.Json;
using Relay.Protocol.OpenAI;
using Relay.Protocol.Sse;
using Relay.Protocol.Translation;

namespace Relay.Upstreams;

/// <summary>
/// A Chat Completions client to a Chat Completions provider: the client's own body goes on with only the model (and
/// what learned corrections change) rewritten, and the answer comes back as the provider wrote it, event by event as
/// it arrives, with the usage read on the way. No round trip through another format.
/// </summary>
/// <remarks>To read usage Relay asks a stream for it (<c>stream_options.include_usage</c>); when the client did not
/// ask, that one usage-only chunk is left out of what the client gets.</remarks>
internal sealed class ChatPassThrough(UpstreamTransport transport, Uri chatUri, string provider)
{
    private const int CopyBufferSize = 16 * 1024;
    private const int MaxUnfinishedEvent = 8 * 1024 * 1024;
    private const int MaxJsonSideCopy = 4 * 1024 * 1024;
    private static readonly byte[] IncludeUsage = """{"include_usage":true}"""u8.ToArray();

    public async Task<UpstreamResult> SendAsync(UpstreamRequest request, ChatDoor door, CancellationToken cancellationToken)
    {
        var chat = door.Request!;
        using var message = new HttpRequestMessage(HttpMethod.Post, chatUri) { Content = new ReadOnlyMemoryContent(Body(request, door)) };
        message.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        transport.Credentials.AddTo(message);

        var (exchange, failure) = await transport.SendAsync(message, request.Context.TraceIdentifier, request.Target.TimeoutSeconds, cancellationToken);
        if (exchange is null)
        {
            return failure;
        }

        using (exchange)
        {
            if (exchange.Status >= 400)
            {
                return await HoldAsync(request, exchange, cancellationToken);
            }

            var buffer = ArrayPool<byte>.Shared.Rent(CopyBufferSize);
            try
            {
                var (read, readFailure) = await exchange.ReadAsync(buffer, cancellationToken);
                var start = buffer.AsSpan(0, read);
                var looksRight = exchange.IsEventStream ? SseUsageScanner.LooksLikeEventStream(start) : start.TrimStart(" \t\r\n"u8) is { IsEmpty: false } json && json[0] == (byte)'{';
                if (readFailure is not null || read == 0 || !looksRight)
                {
                    var reason = readFailure ?? $"answered {exchange.Status} with a body that is not a chat completion: "
                        + Encoding.UTF8.GetString(start[..Math.Min(read, 200)]).ReplaceLineEndings(" ").Trim();
                    transport.LogFailure(request.Context.TraceIdentifier, reason);
                    return UpstreamResult.NotSent(new RelayError(502, ErrorTypes.Api, $"Provider '{provider}' {reason}", true));
                }

                var response = request.Context.Response;
                response.StatusCode = exchange.Status;
                ForwardedHeaders.CopyResponseHeaders(exchange.Response, response);
                request.Context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
                return exchange.IsEventStream
                    ? await CopyStreamAsync(request, exchange, buffer, read, dropUsageChunk: !chat.IncludeUsage, cancellationToken)
                    : await CopyJsonAsync(request, exchange, buffer, read, cancellationToken);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }

    /// <summary>The client's body for this route: its model, the learned corrections, usage asked for in streams.</summary>
    private static ReadOnlyMemory<byte> Body(UpstreamRequest request, ChatDoor door)
    {
        var set = new Dictionary<string, byte[]>(StringComparer.Ordinal)
        {
            ["model"] = JsonSerializer.SerializeToUtf8Bytes(request.Target.UpstreamModel, ProtocolJson.Context.String),
        };
        if (door.Request!.Stream)
        {
            set["stream_options"] = IncludeUsage;
        }

        if (request.MaxTokensCap is { } cap)
        {
            // The same output limit the route gives every client, in whichever field this client used.
            var field = HasProperty(door.ClientBody.Span, "max_completion_tokens") ? "max_completion_tokens" : "max_tokens";
            set[field] = Encoding.UTF8.GetBytes(cap.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        var output = new ArrayBufferWriter<byte>(door.ClientBody.Length + 128);
        TopLevelProperties.Rewrite(door.ClientBody.Span, request.Corrections.DroppedParameters, set, output);
        return output.WrittenMemory;
    }

    private static bool HasProperty(ReadOnlySpan<byte> json, string name)
    {
        var reader = new Utf8JsonReader(json);
        reader.Read();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals(name))
            {
                return true;
            }

            reader.Read();
            reader.Skip();
        }

        return false;
    }

    private async Task<UpstreamResult> HoldAsync(UpstreamRequest request, UpstreamExchange exchange, CancellationToken cancellationToken)
    {
        var status = exchange.Status;
        var body = await exchange.ReadCappedAsync(UpstreamTransport.MaxErrorBody, cancellationToken);
        var info = ChatErrorReader.TryRead(body, out var parsed) ? parsed : new ChatErrorInfo($"HTTP {status}", null, null);
        var (_, type) = ChatErrorMapper.ForStatus(status, info);
        transport.LogFailure(request.Context.TraceIdentifier, $"HTTP {status}: {Protocol.Text.ClientText.Shorten(info.Message)}");
        var held = new HeldResponse(status, ForwardedHeaders.ResponseHeaders(exchange.Response).ToArray(), body, exchange.RetryAfter);
        return new UpstreamResult(status, default, type, null, held, held.Retryable, exchange.HeadersMs)
        {
            Refusal = ProviderRejectionReader.IsRefusalStatus(status) ? new UpstreamRefusal(status, info) : null,
        };
    }

    /// <summary>Forwards whole events as they complete; reads usage from the chunk that carries it.</summary>
    private async Task<UpstreamResult> CopyStreamAsync(UpstreamRequest request, UpstreamExchange exchange, byte[] buffer, int read,
        bool dropUsageChunk, CancellationToken cancellationToken)
    {
        var response = request.Context.Response;
        using var pending = new PooledByteBuffer(4096);
        using var ready = new PooledByteBuffer(4096);
        var usage = default(TokenUsage);
        var finished = false;
        string? brokenReason = null;
        var began = false;
        await response.StartAsync(cancellationToken);
        try
        {
            while (read > 0)
            {
                pending.Write(buffer.AsSpan(0, read));
                var rest = pending.Span;
                while (RawSseEvents.TryFindEnd(rest, out var length))
                {
                    var sseEvent = rest[..length];
                    rest = rest[length..];
                    if (Inspect(sseEvent, ref usage, ref finished) && dropUsageChunk)
                    {
                        continue;
                    }

                    ready.Write(sseEvent);
                }

                var unfinished = rest.ToArray();
                pending.Clear();
                pending.Write(unfinished);
                if (pending.Length > MaxUnfinishedEvent)
                {
                    ready.Write(pending.Span); // larger than any provider's event: forwarded rather than held without bound
                    pending.Clear();
                }

                if (ready.Length > 0)
                {
                    await response.Body.WriteAsync(ready.Memory, cancellationToken);
                    ready.Clear();
                    if (!began)
                    {
                        began = true;
                        request.Timing.MarkFirstByte();
                        request.AnswerBegan?.Invoke();
                    }
                }

                (read, brokenReason) = await exchange.ReadAsync(buffer, cancellationToken);
            }
        }
        catch (OperationCanceledException)
        {
            request.UsageSoFar?.Invoke(usage);
            throw;
        }

        brokenReason ??= finished ? null : "the stream ended before the answer was finished";
        if (brokenReason is not null)
        {
            transport.LogBroken(request.Context.TraceIdentifier, brokenReason);
            await response.Body.WriteAsync(request.Door.StreamError(ErrorTypes.Api, $"Provider '{provider}' broke off the stream: {brokenReason}"), cancellationToken);
        }

        return new UpstreamResult(exchange.Status, usage, brokenReason is null ? null : ErrorTypes.Api, null, null, brokenReason is not null, exchange.HeadersMs);
    }

    /// <summary>Reads what one event says; true when it is the usage-only chunk (no choices, only usage).</summary>
    private static bool Inspect(ReadOnlySpan<byte> sseEvent, ref TokenUsage usage, ref bool finished)
    {
        if (!RawSseEvents.TryGetData(sseEvent, out var data))
        {
            return false;
        }

        if (data.SequenceEqual("[DONE]"u8))
        {
            finished = true;
            return false;
        }

        if (data.IndexOf("\"finish_reason\":\""u8) >= 0 || data.IndexOf("\"finish_reason\": \""u8) >= 0)
        {
            finished = true;
        }

        if (data.IndexOf("\"usage\""u8) < 0)
        {
            return false;
        }

        try
        {
            var chunk = JsonSerializer.Deserialize(data, OpenAIJsonContext.Default.ChatCompletionChunk);
            if (chunk?.Usage is { } reported && (reported.PromptTokens is not null || reported.CompletionTokens is not null))
            {
                usage = UsageMapper.ToAnthropic(reported);
                return chunk.Choices is not { Count: > 0 };
            }
        }
        catch (JsonException)
        {
            // Not a chunk Relay can read: it goes to the client as it came.
        }

        return false;
    }

    private async Task<UpstreamResult> CopyJsonAsync(UpstreamRequest request, UpstreamExchange exchange, byte[] buffer, int read,
        CancellationToken cancellationToken)
    {
        var response = request.Context.Response;
        using var sideCopy = new PooledByteBuffer(4096);
        string? brokenReason = null;
        var began = false;
        while (read > 0)
        {
            if (sideCopy.Length + read <= MaxJsonSideCopy)
            {
                sideCopy.Write(buffer.AsSpan(0, read));
            }

            await response.Body.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
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
            transport.LogBroken(request.Context.TraceIdentifier, brokenReason);
            request.Context.Abort();
            return new UpstreamResult(exchange.Status, default, ErrorTypes.Api, null, null, true, exchange.HeadersMs);
        }

        var usage = default(TokenUsage);
        try
        {
            if (JsonSerializer.Deserialize(sideCopy.Span, OpenAIJsonContext.Default.ChatCompletionChunk) is { Usage: { } reported })
            {
                usage = UsageMapper.ToAnthropic(reported);
            }
        }
        catch (JsonException)
        {
            return new UpstreamResult(exchange.Status, usage, ErrorTypes.Api, null, null, true, exchange.HeadersMs);
        }

        return new UpstreamResult(exchange.Status, usage, null, null, null, false, exchange.HeadersMs);
    }
}
