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
/// A client that speaks the provider's own protocol (Chat Completions to an <c>openai</c> provider, Responses to an
/// <c>openai-responses</c> one): the client's own body goes on with only the model (and what learned corrections
/// change) rewritten, and the answer comes back as the provider wrote it, event by event as it arrives, with the usage
/// read on the way. No round trip through another format.
/// </summary>
/// <remarks>What differs per protocol (how usage is asked for and read, how a finished stream looks) is the
/// <see cref="IPassThroughDialect"/>.</remarks>
internal sealed class SameProtocolPassThrough(UpstreamTransport transport, Uri uri, string provider, IPassThroughDialect dialect)
{
    private const int CopyBufferSize = 16 * 1024;
    private const int MaxUnfinishedEvent = 8 * 1024 * 1024;
    private const int MaxJsonSideCopy = 4 * 1024 * 1024;

    public async Task<UpstreamResult> SendAsync(UpstreamRequest request, IPassThroughClient client, CancellationToken cancellationToken)
    {
        using var message = new HttpRequestMessage(HttpMethod.Post, uri) { Content = new ReadOnlyMemoryContent(Body(request, client, dialect)) };
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
                    var reason = readFailure ?? $"answered {exchange.Status} with a body that is not {dialect.AnswerKind}: "
                        + Encoding.UTF8.GetString(start[..Math.Min(read, 200)]).ReplaceLineEndings(" ").Trim();
                    transport.LogFailure(request.Context.TraceIdentifier, reason);
                    return UpstreamResult.NotSent(new RelayError(502, ErrorTypes.Api, $"Provider '{provider}' {reason}", true));
                }

                var response = request.Context.Response;
                response.StatusCode = exchange.Status;
                ForwardedHeaders.CopyResponseHeaders(exchange.Response, response);
                request.Context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
                return exchange.IsEventStream
                    ? await CopyStreamAsync(request, exchange, buffer, read, client.WantsStreamUsage, cancellationToken)
                    : await CopyJsonAsync(request, exchange, buffer, read, cancellationToken);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }

    /// <summary>The client's body for this route: its model, the learned corrections, usage asked for in streams.</summary>
    private static ReadOnlyMemory<byte> Body(UpstreamRequest request, IPassThroughClient client, IPassThroughDialect dialect)
    {
        var set = new Dictionary<string, byte[]>(StringComparer.Ordinal)
        {
            ["model"] = JsonSerializer.SerializeToUtf8Bytes(request.Target.UpstreamModel, ProtocolJson.Context.String),
        };
        if (client.Stream)
        {
            dialect.AskForStreamUsage(set);
        }

        if (request.MaxTokensCap is { } cap)
        {
            // The same output limit the route gives every client, in whichever field this client used.
            var field = dialect.MaxTokensFields.FirstOrDefault(f => HasProperty(client.ClientBody.Span, f)) ?? dialect.MaxTokensFields[0];
            set[field] = Encoding.UTF8.GetBytes(cap.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        var output = new ArrayBufferWriter<byte>(client.ClientBody.Length + 128);
        TopLevelProperties.Rewrite(client.ClientBody.Span, request.Corrections.DroppedParameters, set, output);
        return output.WrittenMemory;
    }

    internal static bool HasProperty(ReadOnlySpan<byte> json, string name)
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

    /// <summary>Forwards whole events as they complete; reads usage from the chunk that carries it, and counts the answer
    /// relayed for the output estimate of a stream that ends without it.</summary>
    private async Task<UpstreamResult> CopyStreamAsync(UpstreamRequest request, UpstreamExchange exchange, byte[] buffer, int read,
        bool clientWantsUsage, CancellationToken cancellationToken)
    {
        var response = request.Context.Response;
        using var pending = new PooledByteBuffer(4096);
        using var ready = new PooledByteBuffer(4096);
        var stream = default(PassThroughStreamState);
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
                    if (dialect.Inspect(sseEvent, ref stream) && !clientWantsUsage)
                    {
                        continue; // the usage Relay asked for, which the client did not
                    }

                    ready.Write(sseEvent);
                }

                pending.DiscardFront(pending.Length - rest.Length);
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
            request.UsageSoFar?.Invoke(stream.Billable(request.OutputLimit));
            throw;
        }

        brokenReason ??= stream.Finished ? null : "the stream ended before the answer was finished";
        if (brokenReason is not null)
        {
            transport.LogBroken(request.Context.TraceIdentifier, brokenReason);
            await response.Body.WriteAsync(request.Door.StreamError(ErrorTypes.Api, $"Provider '{provider}' broke off the stream: {brokenReason}"), cancellationToken);
        }

        return new UpstreamResult(exchange.Status, stream.Billable(request.OutputLimit), brokenReason is null ? null : ErrorTypes.Api, null, null, brokenReason is not null, exchange.HeadersMs);
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

        return dialect.TryReadWholeUsage(sideCopy.Span, out var usage)
            ? new UpstreamResult(exchange.Status, usage, null, null, null, false, exchange.HeadersMs)
            : new UpstreamResult(exchange.Status, default, ErrorTypes.Api, null, null, true, exchange.HeadersMs);
    }
}
