using System.Buffers;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;
using Relay.Configuration;
using Relay.Doors;
using Relay.Protocol.Anthropic;
using Relay.Protocol.Corrections;
using Relay.Protocol.Events;
using Relay.Protocol.Json;

namespace Relay.Upstreams.Mock;

/// <summary>The built-in provider: answers offline, deterministically, in exact Anthropic wire format.</summary>
internal sealed class MockUpstream(string name, ProviderConfig config) : IUpstream
{
    private const int WordsPerChunk = 3;
    private readonly TimeSpan _chunkDelay = TimeSpan.FromMilliseconds(config.ChunkDelayMs ?? 15);

    public string Name => name;

    public bool ForwardsClientCredentials => false;

    public Task<string?> ProbeAsync(string? path, CancellationToken cancellationToken) => Task.FromResult<string?>(null);

    /// <summary>Every answer is made here, so route health never applies.</summary>
    public bool AnswersLocally(MessagesEndpointKind endpoint) => true;

    public bool CanApply(CorrectionKind kind) => false;

    public int? ConfiguredMaxTokens(string upstreamModel) => null;

    public async Task<UpstreamResult> SendAsync(UpstreamRequest request, CancellationToken cancellationToken)
    {
        var reply = MockReply.Create(request.Body.Span);
        var response = request.Context.Response;
        response.StatusCode = 200;
        if (request.Endpoint == MessagesEndpointKind.CountTokens)
        {
            response.ContentType = "application/json";
            await WriteJsonAsync(response, w => w.WriteNumber("input_tokens", reply.InputTokens), cancellationToken);
            request.Timing.MarkFirstByte();
            return new UpstreamResult(200, new TokenUsage(reply.InputTokens, 0, 0, 0), null, null, null, false, 0);
        }

        var model = request.Info.Model;
        if (request.Door.Protocol != WireProtocol.Anthropic)
        {
            await AnswerAsEventsAsync(request, reply, cancellationToken);
        }
        else if (request.Info.Stream)
        {
            response.ContentType = "text/event-stream";
            response.Headers.CacheControl = "no-cache";
            request.Context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
            await SseFormatter.WriteAsync(StreamEvents(reply, model, request.Timing, cancellationToken), response.Body,
                static (item, writer) => WriteEventData(item.Data, writer), cancellationToken);
        }
        else
        {
            response.ContentType = "application/json";
            await WriteJsonAsync(response, w => WriteMessage(w, reply, model, final: true), cancellationToken);
            request.Timing.MarkFirstByte();
        }

        return new UpstreamResult(200, new TokenUsage(reply.InputTokens, reply.OutputTokens, 0, 0), null, null, null, false, 0);
    }

    /// <summary>The same answer for a client of another protocol, through its door's writers.</summary>
    private async Task AnswerAsEventsAsync(UpstreamRequest request, MockReply reply, CancellationToken cancellationToken)
    {
        var response = request.Context.Response;
        var output = new ArrayBufferWriter<byte>(1024);
        if (!request.Info.Stream)
        {
            var whole = request.Door.CreateMessageWriter(output);
            using (whole as IDisposable)
            {
                await EmitAsync(whole, reply, request.Info.Model, () => Task.CompletedTask);
            }

            response.ContentType = request.Door.MessageContentType;
            response.ContentLength = output.WrittenCount;
            await response.Body.WriteAsync(output.WrittenMemory, cancellationToken);
            request.Timing.MarkFirstByte();
            return;
        }

        request.Door.BeginEventStream(response);
        var events = request.Door.CreateEventWriter(output);
        using var disposeEvents = events as IDisposable;
        await EmitAsync(events, reply, request.Info.Model, async () =>
        {
            await response.Body.WriteAsync(output.WrittenMemory, cancellationToken);
            output.ResetWrittenCount();
            request.Timing.MarkFirstByte();
            await Task.Delay(_chunkDelay, cancellationToken);
        });
        await response.Body.WriteAsync(output.WrittenMemory, cancellationToken);
    }

    private static async Task EmitAsync(IMessageEvents events, MockReply reply, string model, Func<Task> betweenDeltas)
    {
        events.MessageStart(reply.MessageId, model, new TokenUsage(reply.InputTokens, 1, 0, 0));
        for (var index = 0; index < reply.Blocks.Count; index++)
        {
            switch (reply.Blocks[index])
            {
                case MockText:
                    events.TextStart(index);
                    break;
                case MockThinking:
                    events.ThinkingStart(index);
                    break;
                case MockToolUse tool:
                    events.ToolUseStart(index, tool.Id, tool.Name);
                    break;
                default:
                    break;
            }

            foreach (var (type, _, value) in Deltas(reply.Blocks[index]))
            {
                await betweenDeltas();
                switch (type)
                {
                    case "text_delta":
                        events.TextDelta(index, value);
                        break;
                    case "thinking_delta":
                        events.ThinkingDelta(index, value);
                        break;
                    case "signature_delta":
                        events.SignatureDelta(index, value);
                        break;
                    default:
                        events.ToolInputDelta(index, value);
                        break;
                }
            }

            events.BlockStop(index);
        }

        events.MessageDelta(reply.StopReason, null, new TokenUsage(reply.InputTokens, reply.OutputTokens, 0, 0));
        events.MessageStop();
    }

    private static async Task WriteJsonAsync(HttpResponse response, Action<Utf8JsonWriter> writeProperties, CancellationToken cancellationToken)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var writer = new Utf8JsonWriter(buffer, ProtocolJson.WriterOptions))
        {
            writer.WriteStartObject();
            writeProperties(writer);
            writer.WriteEndObject();
        }

        response.ContentLength = buffer.WrittenCount;
        await response.Body.WriteAsync(buffer.WrittenMemory, cancellationToken);
    }

    /// <summary>The event sequence Anthropic streams: start, blocks with deltas, delta with usage, stop.</summary>
    private async IAsyncEnumerable<SseItem<Action<Utf8JsonWriter>>> StreamEvents(MockReply reply, string model, RequestTiming timing,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        yield return Event("message_start", w =>
        {
            w.WritePropertyName("message");
            w.WriteStartObject();
            WriteMessage(w, reply with { Blocks = [], OutputTokens = 1 }, model, final: false);
            w.WriteEndObject();
        });
        timing.MarkFirstByte();
        yield return Event("ping", static _ => { });

        for (var index = 0; index < reply.Blocks.Count; index++)
        {
            var i = index;
            var block = reply.Blocks[i];
            yield return Event("content_block_start", w =>
            {
                w.WriteNumber("index", i);
                w.WritePropertyName("content_block");
                WriteBlock(w, block, skeleton: true);
            });

            foreach (var delta in Deltas(block))
            {
                await Task.Delay(_chunkDelay, cancellationToken);
                yield return Event("content_block_delta", w =>
                {
                    w.WriteNumber("index", i);
                    w.WritePropertyName("delta");
                    w.WriteStartObject();
                    w.WriteString("type", delta.Type);
                    w.WriteString(delta.Field, delta.Value);
                    w.WriteEndObject();
                });
            }

            yield return Event("content_block_stop", w => w.WriteNumber("index", i));
        }

        yield return Event("message_delta", w =>
        {
            w.WritePropertyName("delta");
            w.WriteStartObject();
            w.WriteString("stop_reason", reply.StopReason);
            w.WriteNull("stop_sequence");
            w.WriteEndObject();
            UsageJson.Write(w, new TokenUsage(reply.InputTokens, reply.OutputTokens, 0, 0));
        });
        yield return Event("message_stop", static _ => { });
    }

    private static IEnumerable<(string Type, string Field, string Value)> Deltas(MockBlock block)
    {
        switch (block)
        {
            case MockText text:
                foreach (var piece in Chunk(text.Text))
                {
                    yield return ("text_delta", "text", piece);
                }

                break;
            case MockThinking thinking:
                foreach (var piece in Chunk(thinking.Thinking))
                {
                    yield return ("thinking_delta", "thinking", piece);
                }

                yield return ("signature_delta", "signature", thinking.Signature);
                break;
            case MockToolUse tool:
                // Split the JSON like a model does, so clients exercise their partial-JSON assembly.
                var json = tool.Input.ToJsonString(ProtocolJson.NodeOptions);
                var half = json.Length / 2;
                yield return ("input_json_delta", "partial_json", json[..half]);
                yield return ("input_json_delta", "partial_json", json[half..]);
                break;
            default:
                break;
        }
    }

    private static IEnumerable<string> Chunk(string text)
    {
        var words = text.Split(' ');
        for (var i = 0; i < words.Length; i += WordsPerChunk)
        {
            var end = Math.Min(words.Length, i + WordsPerChunk);
            yield return string.Join(' ', words[i..end]) + (end < words.Length ? " " : "");
        }
    }

    private static SseItem<Action<Utf8JsonWriter>> Event(string type, Action<Utf8JsonWriter> writeBody) =>
        new(w =>
        {
            w.WriteString("type", type);
            writeBody(w);
        }, type);

    private static void WriteEventData(Action<Utf8JsonWriter> writeBody, IBufferWriter<byte> output)
    {
        using var writer = new Utf8JsonWriter(output, ProtocolJson.WriterOptions);
        writer.WriteStartObject();
        writeBody(writer);
        writer.WriteEndObject();
    }

    /// <summary>The message object's properties; <paramref name="final"/> false gives the <c>message_start</c> form.</summary>
    private static void WriteMessage(Utf8JsonWriter w, MockReply reply, string model, bool final)
    {
        w.WriteString("id", reply.MessageId);
        w.WriteString("type", "message");
        w.WriteString("role", "assistant");
        w.WriteString("model", model);
        w.WritePropertyName("content");
        w.WriteStartArray();
        foreach (var block in reply.Blocks)
        {
            WriteBlock(w, block, skeleton: false);
        }

        w.WriteEndArray();
        if (final)
        {
            w.WriteString("stop_reason", reply.StopReason);
        }
        else
        {
            w.WriteNull("stop_reason");
        }

        w.WriteNull("stop_sequence");
        UsageJson.Write(w, new TokenUsage(reply.InputTokens, reply.OutputTokens, 0, 0));
    }

    private static void WriteBlock(Utf8JsonWriter w, MockBlock block, bool skeleton)
    {
        w.WriteStartObject();
        switch (block)
        {
            case MockText text:
                w.WriteString("type", "text");
                w.WriteString("text", skeleton ? "" : text.Text);
                break;
            case MockThinking thinking:
                w.WriteString("type", "thinking");
                w.WriteString("thinking", skeleton ? "" : thinking.Thinking);
                w.WriteString("signature", skeleton ? "" : thinking.Signature);
                break;
            case MockToolUse tool:
                w.WriteString("type", "tool_use");
                w.WriteString("id", tool.Id);
                w.WriteString("name", tool.Name);
                w.WritePropertyName("input");
                if (skeleton)
                {
                    w.WriteStartObject();
                    w.WriteEndObject();
                }
                else
                {
                    tool.Input.WriteTo(w);
                }

                break;
            default:
                break;
        }

        w.WriteEndObject();
    }
}
