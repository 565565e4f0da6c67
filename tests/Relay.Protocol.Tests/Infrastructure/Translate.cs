using System.Buffers;
using System.Text;
using System.Text.Json.Nodes;
using Relay.Protocol.Translation;

namespace Relay.Protocol.Tests.Infrastructure;

/// <summary>Runs the translators the way the upstream adapter does, on in-memory streams.</summary>
public static class Translate
{
    public static readonly ChatStreamTiming NoTimers = new(TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(5));

    /// <summary>Upstream SSE text built from chunk JSON lines, each as <c>data: …</c>, ending with <c>[DONE]</c>.</summary>
    public static string Sse(params string[] chunks) => string.Concat(chunks.Select(c => $"data: {c}\n\n")) + "data: [DONE]\n\n";

    /// <summary>Translates an upstream SSE body; <paramref name="readSize"/> splits its bytes into reads of that size.</summary>
    public static async Task<(string Text, List<SseEvent> Events, ChatStreamTranslator Translator)> StreamAsync(
        string upstreamSse, TranslationContext? context = null, int readSize = 0, ChatStreamTiming? timing = null)
    {
        var bytes = Encoding.UTF8.GetBytes(upstreamSse);
        using var upstream = new ChunkedStream(bytes, readSize);
        var client = new MemoryStream();
        var output = new ArrayBufferWriter<byte>();
        var translator = new ChatStreamTranslator(output, context ?? new TranslationContext("claude-sonnet-4-6", null));
        await ChatStreamPump.RunAsync(upstream, client, translator, output, timing ?? NoTimers, null, CancellationToken.None);
        var text = Encoding.UTF8.GetString(client.ToArray());
        return (text, AnthropicStream.Parse(text), translator);
    }

    /// <summary>The Chat Completions request for an Anthropic request.</summary>
    public static (JsonObject Request, ChatRequestResult Result) Request(string anthropicJson, string preset = ChatPresets.OpenAI, string model = "gpt-4o", Func<ChatQuirks, ChatQuirks>? adjust = null)
    {
        var quirks = ChatPresets.Resolve(preset, model);
        quirks = adjust?.Invoke(quirks) ?? quirks;
        var output = new ArrayBufferWriter<byte>();
        var result = ChatRequestTranslator.Write(Encoding.UTF8.GetBytes(anthropicJson), model, quirks, output);
        return (JsonNode.Parse(output.WrittenSpan)!.AsObject(), result);
    }

    public static JsonArray Messages(JsonObject request) => request["messages"]!.AsArray();
}

/// <summary>A read-only stream that returns at most <c>readSize</c> bytes per read, to split UTF-8 and lines anywhere.</summary>
public sealed class ChunkedStream(byte[] data, int readSize) : Stream
{
    private int _position;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => data.Length;

    public override long Position { get => _position; set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var n = Math.Min(buffer.Length, data.Length - _position);
        if (readSize > 0)
        {
            n = Math.Min(n, readSize);
        }

        data.AsSpan(_position, n).CopyTo(buffer);
        _position += n;
        return n;
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => ValueTask.FromResult(Read(buffer.Span));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => Task.FromResult(Read(buffer, offset, count));

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
