using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Relay.Protocol.Tests.Infrastructure;

/// <summary>One parsed Anthropic SSE event.</summary>
public sealed record SseEvent(string Name, JsonObject Data)
{
    public override string ToString() => $"{Name} {Data.ToJsonString()}";
}

/// <summary>Parses Anthropic SSE text and checks it against the Messages streaming grammar.</summary>
public static class AnthropicStream
{
    public static List<SseEvent> Parse(string text)
    {
        var events = new List<SseEvent>();
        foreach (var frame in text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries))
        {
            var lines = frame.Split('\n');
            Assert.Equal(2, lines.Length);
            Assert.StartsWith("event: ", lines[0], StringComparison.Ordinal);
            Assert.StartsWith("data: ", lines[1], StringComparison.Ordinal);
            var name = lines[0]["event: ".Length..];
            var data = JsonNode.Parse(lines[1]["data: ".Length..])!.AsObject();
            Assert.Equal(name, (string?)data["type"]);
            events.Add(new SseEvent(name, data));
        }

        Assert.EndsWith("\n\n", text, StringComparison.Ordinal);
        return events;
    }

    /// <summary>The grammar problems of a stream; empty when it is valid. A stream ends in message_stop or error.</summary>
    public static List<string> Problems(IReadOnlyList<SseEvent> events)
    {
        var problems = new List<string>();
        var i = 0;
        while (i < events.Count && events[i].Name == "ping")
        {
            problems.Add("ping before message_start");
            i++;
        }

        if (events.Count == 0 || events[0].Name != "message_start")
        {
            problems.Add("first event is not message_start");
            return problems;
        }

        var next = 0;
        int? open = null;
        string? openType = null;
        var sawDelta = false;
        var ended = false;
        for (i = 1; i < events.Count; i++)
        {
            var e = events[i];
            if (ended)
            {
                problems.Add($"event after the end: {e}");
                continue;
            }

            switch (e.Name)
            {
                case "ping":
                    break;
                case "content_block_start":
                    if (sawDelta)
                    {
                        problems.Add("content_block_start after message_delta");
                    }

                    if (open is not null)
                    {
                        problems.Add($"block {(int)e.Data["index"]!} started while {open} is open");
                    }

                    if ((int)e.Data["index"]! != next)
                    {
                        problems.Add($"block index {(int)e.Data["index"]!}, expected {next}");
                    }

                    open = (int)e.Data["index"]!;
                    openType = (string?)e.Data["content_block"]!["type"];
                    break;
                case "content_block_delta":
                    if (open is null || (int)e.Data["index"]! != open)
                    {
                        problems.Add($"delta for block {(int)e.Data["index"]!} which is not open");
                        break;
                    }

                    var deltaType = (string?)e.Data["delta"]!["type"];
                    var ok = (openType, deltaType) switch
                    {
                        ("text", "text_delta") => true,
                        ("thinking", "thinking_delta" or "signature_delta") => true,
                        ("tool_use", "input_json_delta") => true,
                        _ => false,
                    };
                    if (!ok)
                    {
                        problems.Add($"{deltaType} on a {openType} block");
                    }

                    break;
                case "content_block_stop":
                    if (open is null || (int)e.Data["index"]! != open)
                    {
                        problems.Add($"stop for block {(int)e.Data["index"]!} which is not open");
                    }

                    open = null;
                    next++;
                    break;
                case "message_delta":
                    if (open is not null)
                    {
                        problems.Add("message_delta while a block is open");
                    }

                    if (e.Data["usage"]?["output_tokens"] is null)
                    {
                        problems.Add("message_delta without usage.output_tokens");
                    }

                    sawDelta = true;
                    break;
                case "message_stop":
                    if (!sawDelta)
                    {
                        problems.Add("message_stop without message_delta");
                    }

                    ended = true;
                    break;
                case "error":
                    ended = true;
                    break;
                default:
                    problems.Add($"unknown event {e.Name}");
                    break;
            }
        }

        if (!ended)
        {
            problems.Add("stream ended without message_stop or error");
        }

        return problems;
    }

    /// <summary>Accumulates the final content blocks as an SDK would; tool inputs are parsed.</summary>
    public static JsonArray Content(IReadOnlyList<SseEvent> events)
    {
        var blocks = new JsonArray();
        var json = new StringBuilder();
        foreach (var e in events)
        {
            switch (e.Name)
            {
                case "content_block_start":
                    blocks.Add(e.Data["content_block"]!.DeepClone());
                    json.Clear();
                    break;
                case "content_block_delta":
                    var block = blocks[(int)e.Data["index"]!]!.AsObject();
                    var delta = e.Data["delta"]!;
                    switch ((string?)delta["type"])
                    {
                        case "text_delta":
                            block["text"] = (string?)block["text"] + (string?)delta["text"];
                            break;
                        case "thinking_delta":
                            block["thinking"] = (string?)block["thinking"] + (string?)delta["thinking"];
                            break;
                        case "signature_delta":
                            block["signature"] = (string?)delta["signature"];
                            break;
                        case "input_json_delta":
                            json.Append((string?)delta["partial_json"]);
                            break;
                        default:
                            break;
                    }

                    break;
                case "content_block_stop":
                    var stopped = blocks[(int)e.Data["index"]!]!.AsObject();
                    if ((string?)stopped["type"] == "tool_use")
                    {
                        stopped["input"] = JsonNode.Parse(json.Length == 0 ? "{}" : json.ToString());
                    }

                    break;
                default:
                    break;
            }
        }

        return blocks;
    }

    public static JsonObject? Find(IReadOnlyList<SseEvent> events, string name) => events.FirstOrDefault(e => e.Name == name)?.Data;

    /// <summary>Compares events structurally with an expected transcript written as <c>event data-json</c> lines;
    /// <c>"*"</c> in the expected JSON matches any value (message ids, generated tool ids).</summary>
    public static void AssertTranscript(string expected, IReadOnlyList<SseEvent> actual)
    {
        var lines = expected.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var expectedEvents = lines.Select(l =>
        {
            var space = l.IndexOf(' ', StringComparison.Ordinal);
            return new SseEvent(l[..space], JsonNode.Parse(l[(space + 1)..])!.AsObject());
        }).ToList();
        var message = $"expected:\n{string.Join('\n', expectedEvents)}\nactual:\n{string.Join('\n', actual)}";
        Assert.True(expectedEvents.Count == actual.Count, message);
        for (var i = 0; i < actual.Count; i++)
        {
            Assert.True(expectedEvents[i].Name == actual[i].Name && Matches(expectedEvents[i].Data, actual[i].Data), $"event {i} differs\n{message}");
        }
    }

    private static bool Matches(JsonNode? expected, JsonNode? actual)
    {
        if (expected is JsonValue v && v.GetValueKind() == JsonValueKind.String && (string?)v == "*")
        {
            return actual is not null;
        }

        return (expected, actual) switch
        {
            (JsonObject e, JsonObject a) => e.Count == a.Count && e.All(p => a.ContainsKey(p.Key) && Matches(p.Value, a[p.Key])),
            (JsonArray e, JsonArray a) => e.Count == a.Count && e.Zip(a).All(x => Matches(x.First, x.Second)),
            _ => JsonNode.DeepEquals(expected, actual),
        };
    }
}
