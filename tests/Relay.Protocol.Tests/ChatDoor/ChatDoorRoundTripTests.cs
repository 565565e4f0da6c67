using System.Buffers;
using System.Net.ServerSentEvents;
using System.Text;
using System.Text.Json.Nodes;
using Relay.Protocol.Events;
using Relay.Protocol.Translation;
using static Relay.Protocol.Tests.ChatDoor.ChatDoorTesting;

namespace Relay.Protocol.Tests.ChatDoor;

/// <summary>The whole door: a chat client's request to the Messages request, and an Anthropic provider's answer to
/// the chunks and the object a chat client reads.</summary>
public sealed class ChatDoorRoundTripTests
{
    private const string Head = """{"id":"chatcmpl-01Abc","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o","choices":""";

    private static string Stream(string anthropicSse, int pieceSize, bool includeUsage)
    {
        var output = new ArrayBufferWriter<byte>();
        using var chunks = new ChatChunkEvents(output, includeUsage, FixedClock.At1700000000);
        using var reader = new AnthropicEventReader(chunks, "gpt-4o");
        var bytes = Encoding.UTF8.GetBytes(anthropicSse);
        for (var i = 0; i < bytes.Length; i += pieceSize)
        {
            reader.Feed(bytes.AsSpan(i, Math.Min(pieceSize, bytes.Length - i)));
        }

        reader.OnEndOfInput();
        return Encoding.UTF8.GetString(output.WrittenSpan);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(13)]
    [InlineData(100_000)]
    public void AnAnthropicStream_BecomesExactChatChunks(int pieceSize)
    {
        var text = Stream(AnthropicGolden.ToolUseStream, pieceSize, includeUsage: true);

        Assert.Equal(Chunks(
            Head + """[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}""",
            """: ping""",
            Head + """[{"index":0,"delta":{"reasoning_content":"The user wants the weather."},"finish_reason":null}]}""",
            Head + """[{"index":0,"delta":{"content":"Checking Paris — "},"finish_reason":null}]}""",
            // The relaxed encoder Relay writes with escapes characters outside the BMP; clients decode them.
            Head + """[{"index":0,"delta":{"content":"one \"moment\" \uD83C\uDF24"},"finish_reason":null}]}""",
            Head + """[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"toolu_01T1x1fJ34qAmk2tNTrN7Up6","type":"function","function":{"name":"get_weather","arguments":""}}]},"finish_reason":null}]}""",
            Head + """[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"city\": \"Par"}}]},"finish_reason":null}]}""",
            Head + """[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"is\"}"}}]},"finish_reason":null}]}""",
            Head + """[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}""",
            Head + """[],"usage":{"prompt_tokens":1120,"completion_tokens":89,"total_tokens":1209,"prompt_tokens_details":{"cached_tokens":1000}}}""",
            "[DONE]"), text);
    }

    [Fact]
    public async Task TheChunks_ReadBackWithSseParser_AssembleTheAnswerAnSdkWouldShow()
    {
        var text = Stream(AnthropicGolden.ToolUseStream, 7, includeUsage: false);

        var content = new StringBuilder();
        var reasoning = new StringBuilder();
        var arguments = new StringBuilder();
        string? finish = null;
        var done = false;
        using var body = new MemoryStream(Encoding.UTF8.GetBytes(text));
        await foreach (var item in SseParser.Create(body).EnumerateAsync(TestContext.Current.CancellationToken))
        {
            if (item.Data == "[DONE]")
            {
                done = true;
                continue;
            }

            var delta = JsonNode.Parse(item.Data)!["choices"]![0]!;
            content.Append((string?)delta["delta"]!["content"]);
            reasoning.Append((string?)delta["delta"]!["reasoning_content"]);
            arguments.Append((string?)delta["delta"]!["tool_calls"]?[0]!["function"]!["arguments"]);
            finish ??= (string?)delta["finish_reason"];
        }

        Assert.True(done);
        Assert.Equal("Checking Paris — one \"moment\" 🌤", content.ToString());
        Assert.Equal("The user wants the weather.", reasoning.ToString());
        Assert.Equal("Paris", (string?)JsonNode.Parse(arguments.ToString())!["city"]);
        Assert.Equal("tool_calls", finish);
    }

    [Fact]
    public void AStreamCutShort_EndsWithAnErrorChunk_AndNoDone()
    {
        var cut = AnthropicGolden.ToolUseStream[..AnthropicGolden.ToolUseStream.IndexOf("event: message_delta", StringComparison.Ordinal)];

        var text = Stream(cut, 50, includeUsage: true);

        Assert.EndsWith(
            "data: " + """{"error":{"message":"The provider's stream ended before the answer was finished.","type":"server_error","param":null,"code":"api_error"}}""" + "\n\n",
            text, StringComparison.Ordinal);
        Assert.DoesNotContain("[DONE]", text, StringComparison.Ordinal);
    }

    [Fact]
    public void AWholeAnthropicMessage_BecomesAChatCompletion()
    {
        var output = new ArrayBufferWriter<byte>();
        var completion = new ChatCompletionEvents(output, FixedClock.At1700000000);
        using (var reader = new AnthropicEventReader(completion, "gpt-4o"))
        {
            reader.ReadMessage("""
                {"id":"msg_01Abc","type":"message","role":"assistant","model":"claude-sonnet-4-6","content":[{"type":"text","text":"Hi!"}],
                 "stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":9,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":3}}
                """u8);
        }

        Assert.Equal(Min("""
            {"id":"chatcmpl-01Abc","object":"chat.completion","created":1700000000,"model":"gpt-4o",
             "choices":[{"index":0,"message":{"role":"assistant","content":"Hi!"},"finish_reason":"stop"}],
             "usage":{"prompt_tokens":9,"completion_tokens":3,"total_tokens":12,"prompt_tokens_details":{"cached_tokens":0}}}
            """), Encoding.UTF8.GetString(output.WrittenSpan));
    }

    [Fact]
    public async Task AnOpenAIProvidersStream_ReachesAChatClientThroughTheSameEvents()
    {
        // chat door → Messages request → openai provider (translated): the provider's chunks come back as events.
        var upstream = Infrastructure.Translate.Sse(
            """{"id":"c","choices":[{"index":0,"delta":{"role":"assistant","reasoning_content":"Hmm."},"finish_reason":null}]}""",
            """{"id":"c","choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}""",
            """{"id":"c","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"functions.get_weather:0","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},"finish_reason":"tool_calls"}]}""",
            """{"id":"c","choices":[],"usage":{"prompt_tokens":30,"completion_tokens":5,"total_tokens":35,"prompt_tokens_details":{"cached_tokens":10}}}""");
        var output = new ArrayBufferWriter<byte>();
        using var chunks = new ChatChunkEvents(output, includeUsage: true, FixedClock.At1700000000);
        using var translator = new ChatStreamTranslator(chunks, new TranslationContext("gpt-4o", null) { MessageId = "msg_01Abc" });
        await ChatStreamPump.RunAsync(new MemoryStream(Encoding.UTF8.GetBytes(upstream)), System.IO.Stream.Null, translator, new ArrayBufferWriter<byte>(), Infrastructure.Translate.NoTimers, null, TestContext.Current.CancellationToken);

        Assert.Equal(Chunks(
            Head + """[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}""",
            Head + """[{"index":0,"delta":{"reasoning_content":"Hmm."},"finish_reason":null}]}""",
            Head + """[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}""",
            Head + """[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"functions.get_weather:0","type":"function","function":{"name":"get_weather","arguments":""}}]},"finish_reason":null}]}""",
            Head + """[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"city\":\"Paris\"}"}}]},"finish_reason":null}]}""",
            Head + """[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}""",
            Head + """[],"usage":{"prompt_tokens":30,"completion_tokens":5,"total_tokens":35,"prompt_tokens_details":{"cached_tokens":10}}}""",
            "[DONE]"), Encoding.UTF8.GetString(output.WrittenSpan));
    }
}
