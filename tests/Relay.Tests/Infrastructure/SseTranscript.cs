using System.Text.Json.Nodes;

namespace Relay.Tests.Infrastructure;

/// <summary>One Anthropic SSE event as a client sees it.</summary>
public sealed record SseEventData(string Name, JsonObject Data);

/// <summary>Splits an Anthropic SSE body into events, checking the framing.</summary>
public static class SseTranscript
{
    public static List<SseEventData> Parse(string text)
    {
        var events = new List<SseEventData>();
        foreach (var frame in text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries))
        {
            var lines = frame.Split('\n');
            Assert.True(lines.Length == 2 && lines[0].StartsWith("event: ", StringComparison.Ordinal) && lines[1].StartsWith("data: ", StringComparison.Ordinal), $"bad frame: {frame}");
            events.Add(new SseEventData(lines[0][7..], JsonNode.Parse(lines[1][6..])!.AsObject()));
        }

        return events;
    }
}
