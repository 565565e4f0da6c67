using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Relay.Protocol.OpenAI;
using Relay.Protocol.Tests.Infrastructure;
using Relay.Protocol.Translation;

namespace Relay.Protocol.Tests;

/// <summary>Tool-call arguments reach the client fragment by fragment, each call in its own block, always as valid
/// JSON once the block ends.</summary>
public sealed class ToolCallStreamingTests
{
    [Fact]
    public void EachFragment_GoesOutAsItsOwnDelta_BeforeTheCallEnds()
    {
        var fragments = new[] { "{\"file_path\":", "\"notes.md\",", "\"content\":\"# Title", "\\n\\nFirst para", "graph, caf", "é ☕.\\n", "Second.\"}" };
        var feed = new ChunkFeed();
        feed.Send("""{"choices":[{"index":0,"delta":{"role":"assistant","tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"Write","arguments":""}}]}}]}""");
        var perFragment = new List<int>();
        foreach (var fragment in fragments)
        {
            var events = feed.Send(ToolFragment(0, fragment));
            perFragment.Add(events.Count(e => (string?)e.Data["delta"]?["type"] == "input_json_delta"));
        }

        var end = feed.Send("""{"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":10,"completion_tokens":9}}""");

        Assert.Equal([1, 1, 1, 1, 1, 1, 1], perFragment);
        Assert.DoesNotContain(end, e => (string?)e.Data["delta"]?["type"] == "input_json_delta");
        Assert.Empty(AnthropicStream.Problems(feed.Events));
        var input = AnthropicStream.Content(feed.Events)[0]!["input"]!;
        Assert.Equal("# Title\n\nFirst paragraph, café ☕.\nSecond.", (string?)input["content"]);
        Assert.Equal(0, feed.Translator.RepairedToolCalls + feed.Translator.InvalidToolCalls);
    }

    [Fact]
    public void CompleteCall_ClosesItsBlockAtOnce_SoTheNextCallStreamsToo()
    {
        var feed = new ChunkFeed();
        feed.Send(ToolStart(0, "call_a", "Read", """{"file_path":"a.txt"}"""));
        var second = feed.Send(ToolStart(1, "call_b", "Read", """{"file_path":"""));

        Assert.Equal(["content_block_start", "content_block_delta"], second.Select(e => e.Name));
        Assert.Equal(1, (int)second[0].Data["index"]!);
        Assert.Contains(feed.Events, e => e.Name == "content_block_stop" && (int)e.Data["index"]! == 0);
    }

    [Fact]
    public void InterleavedCalls_TheSecondWaitsInItsOwnBuffer_AndKeepsItsOwnBlock()
    {
        var feed = new ChunkFeed();
        feed.Send(ToolStart(0, "call_a", "Bash", ""));
        feed.Send(ToolStart(1, "call_b", "Glob", ""));
        var first = feed.Send(ToolFragment(0, "{\"command\":\"ls"));
        var whileFirstOpen = feed.Send(ToolFragment(1, "{\"pattern\":\"*.cs\"}"));
        feed.Send(ToolFragment(0, " -la\"}"));
        feed.Send("""{"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}""");
        feed.Done();

        Assert.Equal("{\"command\":\"ls", (string?)first.Single().Data["delta"]!["partial_json"]);
        Assert.Empty(whileFirstOpen);
        Assert.Empty(AnthropicStream.Problems(feed.Events));
        var content = AnthropicStream.Content(feed.Events);
        Assert.Equal("ls -la", (string?)content[0]!["input"]!["command"]);
        Assert.Equal("*.cs", (string?)content[1]!["input"]!["pattern"]);
    }

    [Fact]
    public void CallCutOffByTheLengthLimit_IsClosedAtTheEnd_AndTheWaitingCallFollows()
    {
        var feed = new ChunkFeed();
        feed.Send(ToolStart(0, "call_a", "Write", "{\"file_path\":\"a.txt\",\"content\":\"partial"));
        feed.Send(ToolStart(1, "call_b", "Read", "{\"file_path\":\"b.txt\"}"));
        feed.Send("""{"choices":[{"index":0,"delta":{},"finish_reason":"length"}]}""");
        feed.Done();

        Assert.Empty(AnthropicStream.Problems(feed.Events));
        var content = AnthropicStream.Content(feed.Events);
        Assert.Equal("partial", (string?)content[0]!["input"]!["content"]);
        Assert.Equal("b.txt", (string?)content[1]!["input"]!["file_path"]);
        Assert.Equal(1, feed.Translator.RepairedToolCalls);
    }

    [Fact]
    public void TextArrivingWhileACallIsOpen_FollowsItsBlock()
    {
        var feed = new ChunkFeed();
        feed.Send(ToolStart(0, "call_a", "Bash", "{\"command\":"));
        var text = feed.Send("""{"choices":[{"index":0,"delta":{"content":"Running it."}}]}""");
        feed.Send(ToolFragment(0, "\"ls\"}"));
        feed.Send("""{"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}""");
        feed.Done();

        Assert.Empty(text);
        Assert.Empty(AnthropicStream.Problems(feed.Events));
        var content = AnthropicStream.Content(feed.Events);
        Assert.Equal(("tool_use", "text"), ((string?)content[0]!["type"], (string?)content[1]!["type"]));
        Assert.Equal("Running it.", (string?)content[1]!["text"]);
    }

    [Fact]
    public void CallWithoutAnIdYet_WaitsForIt()
    {
        var feed = new ChunkFeed();
        var before = feed.Send("""{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"name":"Read","arguments":"{\"file_path\":"}}]}}]}""");
        var withId = feed.Send("""{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_late","function":{"arguments":"\"a\"}"}}]}}]}""");

        Assert.Empty(before);
        Assert.Equal("call_late", (string?)withId[0].Data["content_block"]!["id"]);
        Assert.Equal("{\"file_path\":\"a\"}", string.Concat(withId.Where(e => e.Name == "content_block_delta").Select(e => (string?)e.Data["delta"]!["partial_json"])));
    }

    [Fact]
    public async Task ArgumentsSplitAtEveryByte_StillArriveWholeAndValid()
    {
        var arguments = "{\"a\":[1,-2.5e3,true,null],\"s\":\"x\\u00e9\\ud83d\\ude00 \\\"q\\\"\"}";
        var chunks = new List<string> { """{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"c","function":{"name":"T","arguments":""}}]}}]}""" };
        chunks.AddRange(arguments.Select(c => ToolFragment(0, c.ToString())));
        chunks.Add("""{"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}""");

        var (_, events, translator) = await Translate.StreamAsync(Translate.Sse([.. chunks]), readSize: 7);

        Assert.Empty(AnthropicStream.Problems(events));
        Assert.Equal(JsonNode.Parse(arguments)!.ToJsonString(), AnthropicStream.Content(events)[0]!["input"]!.ToJsonString());
        Assert.Equal(0, translator.RepairedToolCalls);
    }

    private static string ToolStart(int index, string id, string name, string arguments) =>
        $$$"""{"choices":[{"index":0,"delta":{"tool_calls":[{"index":{{{index}}},"id":"{{{id}}}","type":"function","function":{"name":"{{{name}}}","arguments":{{{JsonSerializer.Serialize(arguments)}}}}}]}}]}""";

    private static string ToolFragment(int index, string arguments) =>
        $$$"""{"choices":[{"index":0,"delta":{"tool_calls":[{"index":{{{index}}},"function":{"arguments":{{{JsonSerializer.Serialize(arguments)}}}}}]}}]}""";

    /// <summary>Feeds chunks one by one and returns the events each produced.</summary>
    private sealed class ChunkFeed
    {
        private readonly ArrayBufferWriter<byte> _output = new();

        public ChunkFeed() => Translator = new ChatStreamTranslator(_output, new TranslationContext("claude-sonnet-4-6", null));

        public ChatStreamTranslator Translator { get; }

        public List<SseEvent> Events { get; } = [];

        public List<SseEvent> Send(string chunkJson)
        {
            Translator.OnChunk(JsonSerializer.Deserialize(chunkJson, OpenAIJsonContext.Default.ChatCompletionChunk)!);
            return Take();
        }

        public List<SseEvent> Done()
        {
            Translator.OnDone();
            return Take();
        }

        private List<SseEvent> Take()
        {
            var text = Encoding.UTF8.GetString(_output.WrittenSpan);
            _output.ResetWrittenCount();
            var events = text.Length == 0 ? [] : AnthropicStream.Parse(text);
            var fresh = events.Where(e => e.Name != "message_start").ToList();
            Events.AddRange(events);
            return fresh;
        }
    }
}
