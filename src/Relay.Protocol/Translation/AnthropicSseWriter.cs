using System.Buffers;
using System.Text.Json;
using Relay.Protocol.Json;

namespace Relay.Protocol.Translation;

/// <summary>Writes Anthropic SSE events (<c>event: NAME</c>, <c>data: {json}</c>, blank line) straight into a buffer.</summary>
/// <remarks>One <see cref="Utf8JsonWriter"/> is reused for every event: no strings, no per-event allocations.</remarks>
internal sealed class AnthropicSseWriter : IDisposable
{
    private readonly IBufferWriter<byte> _output;
    private readonly Utf8JsonWriter _json;

    public AnthropicSseWriter(IBufferWriter<byte> output)
    {
        _output = output;
        _json = new Utf8JsonWriter(output, ProtocolJson.WriterOptions);
    }

    /// <summary>Starts an event whose data object already holds its <c>type</c>; finish with <see cref="End"/>.</summary>
    public Utf8JsonWriter Begin(ReadOnlySpan<byte> name)
    {
        Raw("event: "u8);
        Raw(name);
        Raw("\ndata: "u8);
        _json.Reset(_output);
        _json.WriteStartObject();
        _json.WriteString("type"u8, name);
        return _json;
    }

    public void End()
    {
        _json.WriteEndObject();
        _json.Flush();
        Raw("\n\n"u8);
    }

    /// <summary>An event whose data is only <c>{"type":NAME}</c>.</summary>
    public void Simple(ReadOnlySpan<byte> name)
    {
        Begin(name);
        End();
    }

    private void Raw(ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(_output.GetSpan(bytes.Length));
        _output.Advance(bytes.Length);
    }

    public void Dispose() => _json.Dispose();
}
