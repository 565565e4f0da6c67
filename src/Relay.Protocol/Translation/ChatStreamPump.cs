using System.Buffers;
using System.Diagnostics;
using System.Net.ServerSentEvents;
using System.Text.Json;
using Relay.Protocol.Anthropic;
using Relay.Protocol.OpenAI;

namespace Relay.Protocol.Translation;

/// <summary>Timing settings of one translated stream.</summary>
/// <param name="PingInterval">A <c>ping</c> goes to the client after this long without any event (Claude Code gives up
/// after 300 s of silence; reasoning models can think longer than that before their first token).</param>
/// <param name="IdleTimeout">The stream fails with an <c>error</c> event after this long without upstream data.</param>
public readonly record struct ChatStreamTiming(TimeSpan PingInterval, TimeSpan IdleTimeout);

/// <summary>One SSE item from an OpenAI-compatible stream, parsed straight from its bytes.</summary>
internal readonly record struct ChatStreamItem(ChatCompletionChunk? Chunk, bool Done, ChatErrorInfo? Error)
{
    public static ChatStreamItem Parse(string eventType, ReadOnlySpan<byte> data)
    {
        var trimmed = data.Trim(" \r\n\t"u8);
        if (trimmed.IsEmpty)
        {
            return default;
        }

        if (trimmed.SequenceEqual("[DONE]"u8))
        {
            return new ChatStreamItem(null, true, null);
        }

        if (eventType == "error")
        {
            return new ChatStreamItem(null, false, ChatErrorReader.TryRead(trimmed, out var info) ? info : new ChatErrorInfo("The provider sent an error event.", null, null));
        }

        try
        {
            return new ChatStreamItem(JsonSerializer.Deserialize(trimmed, OpenAIJsonContext.Default.ChatCompletionChunk), false, null);
        }
        catch (JsonException)
        {
            // Not a chunk: an error in a shape the chunk type cannot hold ({"error":"text"}), or noise to skip.
            return ChatErrorReader.TryRead(trimmed, out var info) ? new ChatStreamItem(null, false, info) : default;
        }
    }
}

/// <summary>A translator of a provider's stream into message events: what the pump drives (start, keep-alive,
/// failure, the end of the upstream body) and what the caller reads when it is done.</summary>
public interface IStreamTranslator
{
    bool Terminated { get; }

    bool Failed { get; }

    /// <summary>The usage in Anthropic terms, as the provider reported it so far.</summary>
    TokenUsage Usage { get; }

    string? ErrorType { get; }

    string? ErrorMessage { get; }

    int RepairedToolCalls { get; }

    int InvalidToolCalls { get; }

    void Start();

    void Ping();

    void Fail(string type, string message);

    void OnEndOfInput();
}

/// <summary>Drives a <see cref="ChatStreamTranslator"/> from an upstream body to the client, with keep-alive pings,
/// an idle timeout and an error event if the upstream breaks off.</summary>
/// <remarks>
/// The upstream body is read by <see cref="SseParser"/> (bytes, UTF-8 split anywhere, comment lines, <c>data:</c> with
/// or without a space, CRLF); each item is deserialised from its bytes with source-generated metadata. Each step's
/// events are written and flushed as one write. Cancellation of <paramref name="cancellationToken"/> (the client went
/// away) propagates, and the caller's disposal of the upstream response then aborts the upstream request.
/// </remarks>
public static class ChatStreamPump
{
    public static Task RunAsync(Stream upstream, Stream client, ChatStreamTranslator translator, ArrayBufferWriter<byte> output,
        ChatStreamTiming timing, Action? onFirstWrite, CancellationToken cancellationToken) =>
        RunAsync(upstream, client, translator, static (type, data) => ChatStreamItem.Parse(type, data), static (item, t) =>
        {
            if (item.Done)
            {
                t.OnDone();
            }
            else if (item.Error is { } error)
            {
                var (type, message) = ChatErrorMapper.ForStream(new ChatError { Message = error.Message, Type = error.Type, Code = error.Code });
                t.Fail(type, message);
            }
            else if (item.Chunk is { } chunk)
            {
                t.OnChunk(chunk);
            }
        }, output, timing, onFirstWrite, cancellationToken);

    /// <summary>Drives a <see cref="ResponsesStreamTranslator"/> from a provider's Responses API stream to the client,
    /// with the same pings, idle timeout and break-off handling.</summary>
    public static Task RunAsync(Stream upstream, Stream client, ResponsesStreamTranslator translator, ArrayBufferWriter<byte> output,
        ChatStreamTiming timing, Action? onFirstWrite, CancellationToken cancellationToken) =>
        RunAsync(upstream, client, translator, static (type, data) => ResponsesStreamTranslator.Parse(type, data), static (item, t) =>
        {
            if (item is not null)
            {
                t.OnEvent(item);
            }
        }, output, timing, onFirstWrite, cancellationToken);

    private static async Task RunAsync<TTranslator, TItem>(Stream upstream, Stream client, TTranslator translator, SseItemParser<TItem> parse,
        Action<TItem, TTranslator> apply, ArrayBufferWriter<byte> output, ChatStreamTiming timing, Action? onFirstWrite, CancellationToken cancellationToken)
        where TTranslator : IStreamTranslator
    {
        translator.Start();
        await FlushAsync(client, output, cancellationToken);
        onFirstWrite?.Invoke();

        var lastUpstream = Stopwatch.GetTimestamp();
        var lastClient = lastUpstream;
        var parser = SseParser.Create(upstream, parse);
        var items = parser.EnumerateAsync(cancellationToken).GetAsyncEnumerator(cancellationToken);
        Task<bool>? readInFlight = null;
        try
        {
            await PumpAsync();
        }
        finally
        {
            // The parser cannot be disposed while a read is in flight; the caller's disposal of the upstream ends that read.
            if (readInFlight is null || readInFlight.IsCompleted)
            {
                await items.DisposeAsync();
            }
            else
            {
                Observe(readInFlight);
            }
        }

        async Task PumpAsync()
        {
            while (!translator.Terminated)
            {
                bool hasItem;
                try
                {
                    var next = items.MoveNextAsync();
                    if (next.IsCompleted)
                    {
                        hasItem = next.Result;
                    }
                    else
                    {
                        var pending = next.AsTask();
                        readInFlight = pending;
                        while (true)
                        {
                            var now = Stopwatch.GetTimestamp();
                            var idleLeft = timing.IdleTimeout - Stopwatch.GetElapsedTime(lastUpstream, now);
                            var pingLeft = timing.PingInterval - Stopwatch.GetElapsedTime(lastClient, now);
                            if (idleLeft <= TimeSpan.Zero)
                            {
                                translator.Fail(ErrorTypes.Api, $"The provider sent no data for {(int)timing.IdleTimeout.TotalSeconds} s.");
                                await FlushAsync(client, output, cancellationToken);
                                return;
                            }

                            if (pingLeft <= TimeSpan.Zero)
                            {
                                translator.Ping();
                                await FlushAsync(client, output, cancellationToken);
                                lastClient = Stopwatch.GetTimestamp();
                                continue;
                            }

                            try
                            {
                                hasItem = await pending.WaitAsync(pingLeft < idleLeft ? pingLeft : idleLeft, cancellationToken);
                                readInFlight = null;
                                break;
                            }
                            catch (TimeoutException)
                            {
                                // loop: ping or give up
                            }
                        }
                    }
                }
                catch (Exception ex) when (ex is IOException or HttpRequestException && !cancellationToken.IsCancellationRequested)
                {
                    readInFlight = null;
                    translator.Fail(ErrorTypes.Api, $"The provider broke off the stream: {ex.Message}");
                    await FlushAsync(client, output, cancellationToken);
                    return;
                }

                if (!hasItem)
                {
                    translator.OnEndOfInput();
                    await FlushAsync(client, output, cancellationToken);
                    return;
                }

                lastUpstream = Stopwatch.GetTimestamp();
                apply(items.Current.Data, translator);

                if (output.WrittenCount > 0)
                {
                    await FlushAsync(client, output, cancellationToken);
                    lastClient = Stopwatch.GetTimestamp();
                }
            }
        }
    }

    private static async ValueTask FlushAsync(Stream client, ArrayBufferWriter<byte> output, CancellationToken cancellationToken)
    {
        if (output.WrittenCount == 0)
        {
            return;
        }

        await client.WriteAsync(output.WrittenMemory, cancellationToken);
        await client.FlushAsync(cancellationToken);
        output.ResetWrittenCount();
    }

    /// <summary>A read abandoned on timeout faults when the response is disposed; observe it so it is not reported.</summary>
    private static void Observe(Task task) =>
        task.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
}
