using System.Buffers;
using System.Text;
using System.Text.Json.Nodes;
using Relay.Protocol.Json;
using Relay.Protocol.Translation;

namespace Relay.Protocol.Tests.ChatDoor;

/// <summary>A clock that always says the same time.</summary>
internal sealed class FixedClock(long unixSeconds) : TimeProvider
{
    public static readonly FixedClock At1700000000 = new(1_700_000_000);

    public override DateTimeOffset GetUtcNow() => DateTimeOffset.FromUnixTimeSeconds(unixSeconds);
}

internal static class ChatDoorTesting
{
    /// <summary>JSON written out without whitespace, the way Relay writes it, to compare byte for byte.</summary>
    public static string Min(string json) => JsonNode.Parse(json)!.ToJsonString(ProtocolJson.NodeOptions);

    /// <summary>The Messages request for a Chat Completions request.</summary>
    public static (string Json, ChatDoorRequest Request) Translate(string chatJson)
    {
        var output = new ArrayBufferWriter<byte>();
        var request = ChatToMessagesTranslator.Write(Encoding.UTF8.GetBytes(chatJson), output);
        return (Encoding.UTF8.GetString(output.WrittenSpan), request);
    }

    public static JsonObject TranslateToNode(string chatJson) => JsonNode.Parse(Translate(chatJson).Json)!.AsObject();

    /// <summary>SSE text expected from a writer: each line given is one <c>data:</c> (or comment) event.</summary>
    public static string Chunks(params string[] lines) => string.Concat(lines.Select(l => l.StartsWith(':') ? l + "\n\n" : $"data: {l}\n\n"));
}
