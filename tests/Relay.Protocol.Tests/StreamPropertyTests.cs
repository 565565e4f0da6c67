using System.Text;
using System.Text.Json;
using Relay.Protocol.Tests.Infrastructure;

namespace Relay.Protocol.Tests;

/// <summary>Any sequence of valid OpenAI chunks, split into reads anywhere, yields a grammatically valid Anthropic stream
/// whose tool inputs are JSON objects.</summary>
public sealed class StreamPropertyTests
{
    private static readonly string[] Texts = ["Hello", " world", "", " ☕", "你好", "🎉x", "<think>", "</think>", "<thi", "nk>", "\n\n", "{\"a\":1}", "a\"b\\c"];
    private static readonly string[] Fragments = ["", "{", "\"path\"", ":", "\"a.txt\"", ",", "\"n\":1", "}", "[1,", "2]", "\"ü\"", "{\"x\":{\"y\":[1,2,{\"z\":null}]}}"];
    private static readonly string?[] Finishes = ["stop", "length", "tool_calls", "content_filter", null, "function_call"];

    [Fact]
    public async Task RandomValidChunkSequences_YieldValidAnthropicStreams()
    {
        for (var seed = 0; seed < 400; seed++)
        {
            var random = new Random(seed);
            var upstream = RandomStream(random);
            var readSize = random.Next(0, 4) == 0 ? 0 : random.Next(1, 40);

            var (text, events, translator) = await Translate.StreamAsync(upstream, readSize: readSize);

            var problems = AnthropicStream.Problems(events);
            Assert.True(problems.Count == 0, $"seed {seed}: {string.Join("; ", problems)}\nupstream:\n{upstream}\noutput:\n{text}");
            if (translator.Completed)
            {
                foreach (var block in AnthropicStream.Content(events))
                {
                    if ((string?)block!["type"] == "tool_use")
                    {
                        Assert.Equal(JsonValueKind.Object, block["input"]!.GetValueKind());
                    }
                }
            }
        }
    }

    private static string RandomStream(Random random)
    {
        var builder = new StringBuilder();
        if (random.Next(3) == 0)
        {
            builder.Append(": OPENROUTER PROCESSING\n\n");
        }

        var count = random.Next(0, 25);
        var toolIndexes = random.Next(0, 4);
        for (var i = 0; i < count; i++)
        {
            var delta = new Dictionary<string, object?>();
            switch (random.Next(6))
            {
                case 0:
                    delta["content"] = Pick(random, Texts);
                    break;
                case 1:
                    delta[random.Next(2) == 0 ? "reasoning_content" : "reasoning"] = Pick(random, Texts);
                    break;
                case 2 when toolIndexes > 0:
                    var call = new Dictionary<string, object?>();
                    if (random.Next(4) != 0)
                    {
                        call["index"] = random.Next(toolIndexes);
                    }

                    if (random.Next(2) == 0)
                    {
                        call["id"] = random.Next(3) == 0 ? $"functions.T{random.Next(3)}:{random.Next(3)}" : $"call_{random.Next(3)}";
                    }

                    var function = new Dictionary<string, object?> { ["arguments"] = Pick(random, Fragments) };
                    if (random.Next(2) == 0)
                    {
                        function["name"] = $"Tool{random.Next(3)}";
                    }

                    call["function"] = function;
                    delta["tool_calls"] = new[] { call };
                    break;
                case 3:
                    delta["role"] = "assistant";
                    delta["content"] = random.Next(2) == 0 ? null : "";
                    break;
                case 4:
                    delta["content"] = Pick(random, Texts);
                    delta["reasoning_content"] = random.Next(2) == 0 ? "" : Pick(random, Texts);
                    break;
                default:
                    Chunk(builder, new { choices = Array.Empty<object>(), usage = new { prompt_tokens = random.Next(100), completion_tokens = random.Next(100) } });
                    continue;
            }

            Chunk(builder, new { id = "x", choices = new[] { new { index = 0, delta, finish_reason = (string?)null } } });
        }

        if (random.Next(4) != 0)
        {
            Chunk(builder, new { choices = new[] { new { index = 0, delta = new { }, finish_reason = Pick(random, Finishes) } } });
        }

        if (random.Next(2) == 0)
        {
            Chunk(builder, new { choices = Array.Empty<object>(), usage = new { prompt_tokens = 7, completion_tokens = 3, prompt_tokens_details = new { cached_tokens = 2 } } });
        }

        if (random.Next(3) != 0)
        {
            builder.Append("data: [DONE]\n\n");
        }

        return builder.ToString();
    }

    private static T Pick<T>(Random random, T[] values) => values[random.Next(values.Length)];

    private static void Chunk(StringBuilder builder, object value) =>
        builder.Append("data: ").Append(JsonSerializer.Serialize(value, SerializerOptions)).Append("\n\n");

    private static readonly JsonSerializerOptions SerializerOptions = new(JsonSerializerDefaults.General)
    {
        TypeInfoResolver = new System.Text.Json.Serialization.Metadata.DefaultJsonTypeInfoResolver(),
    };
}
