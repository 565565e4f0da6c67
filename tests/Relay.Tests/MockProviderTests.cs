using System.Net;
using System.Net.ServerSentEvents;
using System.Text.Json;
using Relay.Tests.Infrastructure;

namespace Relay.Tests;

/// <summary>The built-in mock provider answers in exact Anthropic wire format, streamed or not.</summary>
public sealed class MockProviderTests : IAsyncLifetime
{
    private const string Model = "claude-haiku-4-5";

    private const string WeatherTool = """
        {"name":"get_weather","description":"Weather for a city","input_schema":{"type":"object",
         "properties":{"city":{"type":"string"},"days":{"type":"integer"},"unit":{"type":"string","enum":["celsius","fahrenheit"]},
                       "detailed":{"type":"boolean"},"note":{"type":"string"}},
         "required":["city","days","unit","detailed"]}}
        """;

    private const string BashTool = """{"name":"Bash","input_schema":{"type":"object","properties":{"command":{"type":"string"}},"required":["command"]}}""";

    private RelayTestServer _relay = null!;

    public async ValueTask InitializeAsync() => _relay = await RelayTestServer.StartAsync(RelayTestServer.DefaultConfig(null));

    public async ValueTask DisposeAsync() => await _relay.DisposeAsync();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string Request(bool stream, string messages, string extra = "") =>
        $$"""{"model":"{{Model}}","max_tokens":1024,"stream":{{(stream ? "true" : "false")}},"messages":{{messages}}{{extra}}}""";

    private static string UserSays(string text) => $$"""[{"role":"user","content":[{"type":"text","text":"{{text}}"}]}]""";

    private async Task<JsonDocument> PostJsonAsync(string body)
    {
        using var response = await _relay.Client.PostAsync("v1/messages", JsonBody.Of(body), Ct);
        var text = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {text}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        return JsonDocument.Parse(text);
    }

    /// <summary>A message as a stream assembled it, after the grammar was checked event by event.</summary>
    private sealed record StreamedMessage(JsonElement Start, IReadOnlyList<StreamedBlock> Blocks, JsonElement Delta, JsonElement Usage);

    private sealed record StreamedBlock(string Type, JsonElement Start, string Text, IReadOnlyList<string> JsonPieces, string Signature, IReadOnlyList<string> DeltaTypes)
    {
        public string Json => string.Concat(JsonPieces);
    }

    /// <summary>Reads the stream with <see cref="SseParser"/> and asserts Anthropic's grammar: message_start, then blocks
    /// with index 0, 1, … each as start, deltas of its own kind, stop; then message_delta and message_stop, pings anywhere.</summary>
    private async Task<StreamedMessage> PostStreamAsync(string body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/messages") { Content = JsonBody.Of(body) };
        using var response = await _relay.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        await using var stream = await response.Content.ReadAsStreamAsync(Ct);

        var events = new List<(string Type, JsonElement Data)>();
        await foreach (var item in SseParser.Create(stream).EnumerateAsync(Ct))
        {
            using var document = JsonDocument.Parse(item.Data);
            var data = document.RootElement.Clone();
            Assert.Equal(item.EventType, data.GetProperty("type").GetString());
            events.Add((item.EventType, data));
        }

        var meaningful = events.Where(e => e.Type != "ping").ToList();
        Assert.True(meaningful.Count >= 3, "a stream has at least message_start, message_delta and message_stop");
        Assert.Equal("message_start", meaningful[0].Type);
        Assert.Equal("message_delta", meaningful[^2].Type);
        Assert.Equal("message_stop", meaningful[^1].Type);
        Assert.Equal("message_stop", events[^1].Type);

        var start = meaningful[0].Data.GetProperty("message");
        Assert.Equal("message", start.GetProperty("type").GetString());
        Assert.Equal("assistant", start.GetProperty("role").GetString());
        Assert.Equal(0, start.GetProperty("content").GetArrayLength());
        Assert.Equal(JsonValueKind.Null, start.GetProperty("stop_reason").ValueKind);
        Assert.True(start.GetProperty("usage").GetProperty("input_tokens").GetInt64() > 0);

        var blocks = new List<StreamedBlock>();
        StreamedBlock? open = null;
        foreach (var (type, data) in meaningful.Skip(1).SkipLast(2))
        {
            var index = data.GetProperty("index").GetInt32();
            switch (type)
            {
                case "content_block_start":
                    Assert.Null(open);
                    Assert.Equal(blocks.Count, index);
                    var contentBlock = data.GetProperty("content_block");
                    open = new StreamedBlock(contentBlock.GetProperty("type").GetString()!, contentBlock, "", [], "", []);
                    break;
                case "content_block_delta":
                    Assert.NotNull(open);
                    Assert.Equal(blocks.Count, index);
                    var delta = data.GetProperty("delta");
                    var deltaType = delta.GetProperty("type").GetString()!;
                    Assert.False(open.Signature.Length > 0, "nothing follows a thinking block's signature_delta");
                    open = deltaType switch
                    {
                        "text_delta" when open.Type == "text" => open with { Text = open.Text + delta.GetProperty("text").GetString() },
                        "thinking_delta" when open.Type == "thinking" => open with { Text = open.Text + delta.GetProperty("thinking").GetString() },
                        "signature_delta" when open.Type == "thinking" => open with { Signature = delta.GetProperty("signature").GetString()! },
                        "input_json_delta" when open.Type == "tool_use" => open with { JsonPieces = [.. open.JsonPieces, delta.GetProperty("partial_json").GetString()!] },
                        _ => throw new Xunit.Sdk.XunitException($"{deltaType} in a {open.Type} block"),
                    };
                    open = open with { DeltaTypes = [.. open.DeltaTypes, deltaType] };
                    break;
                case "content_block_stop":
                    Assert.NotNull(open);
                    Assert.Equal(blocks.Count, index);
                    blocks.Add(open);
                    open = null;
                    break;
                default:
                    throw new Xunit.Sdk.XunitException($"unexpected event {type} between message_start and message_delta");
            }
        }

        Assert.Null(open);
        var messageDelta = meaningful[^2].Data;
        Assert.False(string.IsNullOrEmpty(messageDelta.GetProperty("delta").GetProperty("stop_reason").GetString()));
        var usage = messageDelta.GetProperty("usage");
        Assert.True(usage.GetProperty("output_tokens").GetInt64() > 0);
        return new StreamedMessage(start, blocks, messageDelta.GetProperty("delta"), usage);
    }

    [Fact]
    public async Task NonStreaming_IsAValidMessageWithUsage()
    {
        using var document = await PostJsonAsync(Request(false, UserSays("ping from the test")));
        var message = document.RootElement;

        Assert.StartsWith("msg_", message.GetProperty("id").GetString(), StringComparison.Ordinal);
        Assert.Equal("message", message.GetProperty("type").GetString());
        Assert.Equal("assistant", message.GetProperty("role").GetString());
        Assert.Equal(Model, message.GetProperty("model").GetString());
        Assert.Equal("end_turn", message.GetProperty("stop_reason").GetString());
        Assert.Equal(JsonValueKind.Null, message.GetProperty("stop_sequence").ValueKind);

        var block = Assert.Single(message.GetProperty("content").EnumerateArray());
        Assert.Equal("text", block.GetProperty("type").GetString());
        var text = block.GetProperty("text").GetString()!;
        Assert.Contains("Relay's mock provider", text, StringComparison.Ordinal);
        Assert.Contains("ping from the test", text, StringComparison.Ordinal);

        var usage = message.GetProperty("usage");
        Assert.True(usage.GetProperty("input_tokens").GetInt64() > 0);
        Assert.True(usage.GetProperty("output_tokens").GetInt64() > 0);
        Assert.Equal(0, usage.GetProperty("cache_creation_input_tokens").GetInt64());
        Assert.Equal(0, usage.GetProperty("cache_read_input_tokens").GetInt64());
    }

    [Fact]
    public async Task Streaming_FollowsTheEventGrammar_AndMatchesTheNonStreamingAnswer()
    {
        using var whole = await PostJsonAsync(Request(false, UserSays("a longer sentence so that the answer arrives in several deltas")));
        var streamed = await PostStreamAsync(Request(true, UserSays("a longer sentence so that the answer arrives in several deltas")));

        var block = Assert.Single(streamed.Blocks);
        Assert.Equal("text", block.Type);
        Assert.Equal("", block.Start.GetProperty("text").GetString());
        Assert.True(block.DeltaTypes.Count > 1, "the text arrives in several deltas");
        Assert.Equal(whole.RootElement.GetProperty("content")[0].GetProperty("text").GetString(), block.Text);
        Assert.Equal("end_turn", streamed.Delta.GetProperty("stop_reason").GetString());
        Assert.Equal(Model, streamed.Start.GetProperty("model").GetString());

        var usage = whole.RootElement.GetProperty("usage");
        Assert.Equal(usage.GetProperty("output_tokens").GetInt64(), streamed.Usage.GetProperty("output_tokens").GetInt64());
        Assert.Equal(usage.GetProperty("input_tokens").GetInt64(), streamed.Start.GetProperty("usage").GetProperty("input_tokens").GetInt64());
    }

    [Fact]
    public async Task ToolsOffered_AndToolMentioned_GivesToolUseWithRequiredInput()
    {
        using var document = await PostJsonAsync(Request(false, UserSays("please use the get_weather tool for Paris"), $",\"tools\":[{BashTool},{WeatherTool}]"));
        var message = document.RootElement;

        Assert.Equal("tool_use", message.GetProperty("stop_reason").GetString());
        var content = message.GetProperty("content").EnumerateArray().ToList();
        Assert.Single(content, b => b.GetProperty("type").GetString() == "tool_use");
        var toolUse = content[^1];
        Assert.Equal("tool_use", toolUse.GetProperty("type").GetString());
        Assert.StartsWith("toolu_", toolUse.GetProperty("id").GetString(), StringComparison.Ordinal);
        Assert.Equal("get_weather", toolUse.GetProperty("name").GetString());
        AssertWeatherInput(toolUse.GetProperty("input"));
    }

    private static void AssertWeatherInput(JsonElement input)
    {
        Assert.Equal(JsonValueKind.Object, input.ValueKind);
        Assert.Equal(["city", "days", "detailed", "unit"], input.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.Equal(JsonValueKind.String, input.GetProperty("city").ValueKind);
        Assert.Equal(JsonValueKind.Number, input.GetProperty("days").ValueKind);
        Assert.Equal("celsius", input.GetProperty("unit").GetString());
        Assert.Equal(JsonValueKind.True, input.GetProperty("detailed").ValueKind);
    }

    [Fact]
    public async Task ToolUse_Streamed_AsInputJsonDeltasThatConcatenateToTheInput()
    {
        var streamed = await PostStreamAsync(Request(true, UserSays("use a tool: get_weather"), $",\"tools\":[{WeatherTool}]"));

        Assert.Equal("tool_use", streamed.Delta.GetProperty("stop_reason").GetString());
        var tool = streamed.Blocks[^1];
        Assert.Equal("tool_use", tool.Type);
        Assert.StartsWith("toolu_", tool.Start.GetProperty("id").GetString(), StringComparison.Ordinal);
        Assert.Equal("get_weather", tool.Start.GetProperty("name").GetString());
        Assert.Equal("{}", tool.Start.GetProperty("input").GetRawText());
        Assert.True(tool.JsonPieces.Count >= 2, "the input arrives in pieces");
        Assert.All(tool.JsonPieces, piece => Assert.ThrowsAny<JsonException>(() => JsonDocument.Parse(piece).Dispose()));
        using var input = JsonDocument.Parse(tool.Json);
        AssertWeatherInput(input.RootElement);
    }

    [Fact]
    public async Task ToolsOffered_WithoutMention_OrWithToolChoiceNone_GivesText()
    {
        using var plain = await PostJsonAsync(Request(false, UserSays("just chat"), $",\"tools\":[{WeatherTool}]"));
        using var none = await PostJsonAsync(Request(false, UserSays("use the tool"), $",\"tools\":[{WeatherTool}],\"tool_choice\":{{\"type\":\"none\"}}"));

        foreach (var document in new[] { plain, none })
        {
            Assert.Equal("end_turn", document.RootElement.GetProperty("stop_reason").GetString());
            Assert.All(document.RootElement.GetProperty("content").EnumerateArray(), b => Assert.Equal("text", b.GetProperty("type").GetString()));
        }
    }

    [Fact]
    public async Task ToolResult_InTheLastUserTurn_GetsATextAnswerNamingTheToolUseId()
    {
        const string messages = """
            [{"role":"user","content":"use the get_weather tool"},
             {"role":"assistant","content":[{"type":"tool_use","id":"toolu_01TestCall","name":"get_weather","input":{"city":"Paris"}}]},
             {"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_01TestCall","content":[{"type":"text","text":"21 degrees and sunny"}]}]}]
            """;

        using var document = await PostJsonAsync(Request(false, messages, $",\"tools\":[{WeatherTool}]"));
        var message = document.RootElement;

        Assert.Equal("end_turn", message.GetProperty("stop_reason").GetString());
        var block = Assert.Single(message.GetProperty("content").EnumerateArray());
        Assert.Equal("text", block.GetProperty("type").GetString());
        var text = block.GetProperty("text").GetString()!;
        Assert.Contains("toolu_01TestCall", text, StringComparison.Ordinal);
        Assert.Contains("21 degrees and sunny", text, StringComparison.Ordinal);
        Assert.Contains("mock", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ThinkingEnabled_GivesASignedThinkingBlockFirst()
    {
        const string thinking = ",\"thinking\":{\"type\":\"enabled\",\"budget_tokens\":1024}";
        using var document = await PostJsonAsync(Request(false, UserSays("think about it"), thinking));
        var streamed = await PostStreamAsync(Request(true, UserSays("think about it"), thinking));

        var content = document.RootElement.GetProperty("content");
        Assert.Equal(2, content.GetArrayLength());
        Assert.Equal("thinking", content[0].GetProperty("type").GetString());
        Assert.Contains("think about it", content[0].GetProperty("thinking").GetString(), StringComparison.Ordinal);
        Assert.False(string.IsNullOrEmpty(content[0].GetProperty("signature").GetString()));
        Assert.Equal("text", content[1].GetProperty("type").GetString());

        Assert.Equal(["thinking", "text"], streamed.Blocks.Select(b => b.Type));
        var streamedThinking = streamed.Blocks[0];
        Assert.Equal("signature_delta", streamedThinking.DeltaTypes[^1]);
        Assert.All(streamedThinking.DeltaTypes.SkipLast(1), t => Assert.Equal("thinking_delta", t));
        Assert.Equal(content[0].GetProperty("thinking").GetString(), streamedThinking.Text);
        Assert.Equal(content[0].GetProperty("signature").GetString(), streamedThinking.Signature);
    }

    [Fact]
    public async Task ThinkingDisabled_GivesNoThinkingBlock()
    {
        using var document = await PostJsonAsync(Request(false, UserSays("hi"), ",\"thinking\":{\"type\":\"disabled\"}"));

        Assert.All(document.RootElement.GetProperty("content").EnumerateArray(), b => Assert.Equal("text", b.GetProperty("type").GetString()));
    }

    [Fact]
    public async Task SmallMaxTokens_StopsWithMaxTokens()
    {
        var body = $$"""{"model":"{{Model}}","max_tokens":3,"messages":{{UserSays("hello")}}}""";

        using var document = await PostJsonAsync(body);

        Assert.Equal("max_tokens", document.RootElement.GetProperty("stop_reason").GetString());
        Assert.Equal(3, document.RootElement.GetProperty("usage").GetProperty("output_tokens").GetInt64());
        Assert.True(document.RootElement.GetProperty("content")[0].GetProperty("text").GetString()!.Length <= 12);
    }

    [Fact]
    public async Task CountTokens_ReturnsPositiveInputTokens()
    {
        const string shortBody = """{"model":"claude-haiku-4-5","messages":[{"role":"user","content":"hi"}]}""";
        var longBody = $$"""{"model":"claude-haiku-4-5","messages":[{"role":"user","content":"{{new string('a', 4000)}}"}]}""";

        using var shortResponse = await _relay.Client.PostAsync("v1/messages/count_tokens", JsonBody.Of(shortBody), Ct);
        using var longResponse = await _relay.Client.PostAsync("v1/messages/count_tokens", JsonBody.Of(longBody), Ct);

        Assert.Equal(HttpStatusCode.OK, shortResponse.StatusCode);
        Assert.Equal("application/json", shortResponse.Content.Headers.ContentType?.MediaType);
        using var shortCount = JsonDocument.Parse(await shortResponse.Content.ReadAsStringAsync(Ct));
        using var longCount = JsonDocument.Parse(await longResponse.Content.ReadAsStringAsync(Ct));
        var property = Assert.Single(shortCount.RootElement.EnumerateObject());
        Assert.Equal("input_tokens", property.Name);
        Assert.True(property.Value.GetInt64() > 0);
        Assert.True(longCount.RootElement.GetProperty("input_tokens").GetInt64() > property.Value.GetInt64());
    }
}
