using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Relay.Protocol.OpenAI;
using Relay.Protocol.Tests.Infrastructure;
using Relay.Protocol.Translation;

namespace Relay.Protocol.Tests;

/// <summary>What users of other gateways report most (each test names the project's issue); one test per bug that
/// applies to translation, named after it. (count_tokens and Desktop model names are tested in Relay.Tests; local
/// models printing tool calls as text is not handled.)</summary>
public sealed class KnownGatewayBugTests
{
    [Fact]
    public void Bug01_DeepSeekThinkingWithToolCalls_ReasoningContentIsPassedBack()
    {
        var (request, _) = Translate.Request(RequestTranslationTests.ToolTurn(
            """{"type":"tool_result","tool_use_id":"toolu_1","content":"ok"}""",
            """{"type":"thinking","thinking":"I should read it.","signature":"relay-translated-thinking-v1"},"""), ChatPresets.DeepSeek, "deepseek-chat");

        Assert.Equal("I should read it.", (string?)Translate.Messages(request)[1]!["reasoning_content"]);
    }

    [Fact]
    public void Bug01_KimiAndGlm_ToolCallTurnWithoutThinkingStillCarriesReasoningContent()
    {
        foreach (var preset in new[] { ChatPresets.Kimi, ChatPresets.Glm })
        {
            var (request, _) = Translate.Request(RequestTranslationTests.ToolTurn("""{"type":"tool_result","tool_use_id":"toolu_1","content":"ok"}"""), preset, "m");

            Assert.Equal("", (string?)Translate.Messages(request)[1]!["reasoning_content"]);
        }
    }

    [Fact]
    public async Task Bug02_ContentBlockNotFound_NoEmptyTextBlockBeforeToolsAndIndexesNeverCollide()
    {
        // kiyo-e used the OpenAI tool index as the block index (colliding with text 0); others opened an empty text block.
        var upstream = Translate.Sse(
            """{"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}""",
            """{"choices":[{"index":0,"delta":{"content":"Sure."}}]}""",
            """{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"a","function":{"name":"A","arguments":"{}"}}]}}]}""",
            """{"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}""");

        var (_, events, _) = await Translate.StreamAsync(upstream);

        Assert.Empty(AnthropicStream.Problems(events));
        var starts = events.Where(e => e.Name == "content_block_start").Select(e => ((int)e.Data["index"]!, (string?)e.Data["content_block"]!["type"])).ToArray();
        Assert.Equal([(0, "text"), (1, "tool_use")], starts);
    }

    [Fact]
    public void Bug03_InvalidSignature_RelayMintedThinkingSignaturesAreRecognisable()
    {
        Assert.True(ThinkingSignature.IsRelayMinted(ThinkingSignature.Value));
        Assert.False(ThinkingSignature.IsRelayMinted("EqoBCkgIARABGAIiQL2Z"));
    }

    [Fact]
    public void Bug04_GeminiRejectsClaudeCodeToolSchemas_SchemaIsRebuiltFromAnAllowlist()
    {
        var (request, _) = Translate.Request("""
            {"model":"m","max_tokens":10,"messages":[{"role":"user","content":"hi"}],"tools":[{"name":"Ask","input_schema":{
              "$schema":"https://json-schema.org/draft/2020-12/schema","type":"object","additionalProperties":false,
              "$defs":{"opt":{"type":"object","properties":{"label":{"type":"string"}},"required":["label"]}},
              "properties":{
                "questions":{"type":"array","minItems":1,"maxItems":4,"items":{"$ref":"#/$defs/opt"}},
                "limit":{"type":"integer","exclusiveMinimum":0,"maximum":9007199254740991},
                "mode":{"const":"fast"},
                "maybe":{"type":["string","null"],"format":"uri"},
                "map":{"type":"object","propertyNames":{"pattern":"^[a-z]+$"},"additionalProperties":{"type":"string"}},
                "both":{"allOf":[{"properties":{"a":{"type":"string"}}},{"properties":{"b":{"type":"number"}},"required":["b"]}]},
                "either":{"oneOf":[{"type":"string"},{"type":"number"}]},
                "level":{"type":"integer","enum":[1,2,3]}},
              "required":["questions","ghost"]}}]}
            """, ChatPresets.Gemini, "gemini-2.5-pro");

        var parameters = request["tools"]![0]!["function"]!["parameters"]!;
        var json = parameters.ToJsonString();
        foreach (var banned in new[] { "$schema", "additionalProperties", "propertyNames", "exclusiveMinimum", "const", "$ref", "$defs", "allOf", "oneOf", "\"uri\"" })
        {
            Assert.DoesNotContain(banned, json, StringComparison.Ordinal);
        }

        Assert.Equal("""["questions"]""", parameters["required"]!.ToJsonString()); // "ghost" is not a property
        Assert.Equal("label", (string?)parameters["properties"]!["questions"]!["items"]!["required"]![0]);
        Assert.Equal(0, (long)parameters["properties"]!["limit"]!["minimum"]!);
        Assert.Equal("""["fast"]""", parameters["properties"]!["mode"]!["enum"]!.ToJsonString());
        Assert.Equal(("string", true), ((string?)parameters["properties"]!["maybe"]!["type"], (bool)parameters["properties"]!["maybe"]!["nullable"]!));
        Assert.Equal("""["a","b"]""", new JsonArray([.. parameters["properties"]!["both"]!["properties"]!.AsObject().Select(p => (JsonNode)p.Key)]).ToJsonString());
        Assert.Equal(2, parameters["properties"]!["either"]!["anyOf"]!.AsArray().Count);
        Assert.Null(parameters["properties"]!["level"]!["enum"]);
    }

    [Fact]
    public void Bug04_GeminiRejectsEmptyObjectParameters_TheyAreOmitted()
    {
        var (request, _) = Translate.Request("""{"model":"m","max_tokens":10,"messages":[{"role":"user","content":"hi"}],"tools":[{"name":"Now","input_schema":{"type":"object","properties":{}}}]}""", ChatPresets.Gemini, "gemini-2.5-flash");

        Assert.Null(request["tools"]![0]!["function"]!["parameters"]);
    }

    [Theory]
    [InlineData(ChatPresets.DeepSeek, "deepseek-chat", "max_tokens", 8192)]
    [InlineData(ChatPresets.OpenAI, "gpt-4o", "max_completion_tokens", 16384)]
    [InlineData(ChatPresets.Groq, "llama-3.3-70b-versatile", "max_completion_tokens", 32000)]
    public void Bug05_MaxTokensAboveProviderLimit_IsClamped(string preset, string model, string field, int expected)
    {
        var (request, result) = Translate.Request("""{"model":"m","max_tokens":32000,"messages":[{"role":"user","content":"hi"}]}""", preset, model);

        Assert.Equal(expected, (int)request[field]!);
        Assert.Equal(expected, result.MaxTokens);
    }

    [Fact]
    public void Bug05_MaxTokens_ConfiguredLimitIsAppliedAndNeverRaised()
    {
        var (clamped, _) = Translate.Request("""{"model":"m","max_tokens":32000,"messages":[{"role":"user","content":"hi"}]}""", ChatPresets.Groq, "x", q => q with { MaxOutputTokens = 40960 });
        var (small, _) = Translate.Request("""{"model":"m","max_tokens":100,"messages":[{"role":"user","content":"hi"}]}""", ChatPresets.Groq, "x", q => q with { MaxOutputTokens = 40960 });

        Assert.Equal(32000, (int)clamped["max_completion_tokens"]!);
        Assert.Equal(100, (int)small["max_completion_tokens"]!);
    }

    [Fact]
    public void Bug07_KimiToolCallIds_RoundTripExactly()
    {
        var anthropicId = ToolIds.ToAnthropic("functions.Bash:12");
        Assert.Matches("^[a-zA-Z0-9_-]+$", anthropicId);

        var (request, _) = Translate.Request("""
            {"model":"m","max_tokens":10,"messages":[{"role":"user","content":"go"},{"role":"assistant","content":[{"type":"tool_use","id":"@@0@@","name":"Bash","input":{}}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"@@1@@","content":"ok"}]}]}
            """.Replace("@@0@@", anthropicId, StringComparison.Ordinal).Replace("@@1@@", anthropicId, StringComparison.Ordinal), ChatPresets.Kimi, "kimi-k2");

        var messages = Translate.Messages(request);
        Assert.Equal("functions.Bash:12", (string?)messages[1]!["tool_calls"]![0]!["id"]);
        Assert.Equal("functions.Bash:12", (string?)messages[2]!["tool_call_id"]);
    }

    [Fact]
    public async Task Bug08_ToolArgumentsLost_FragmentsAreConcatenatedNotTreatedAsCumulative()
    {
        var upstream = Translate.Sse(
            """{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"c","function":{"name":"Edit","arguments":"{\"file_path\":"}}]}}]}""",
            """{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"a.cs\",\"old_string\":\"x\","}}]}}]}""",
            """{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"new_string\":\"y\"}"}}]}}]}""",
            """{"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}""");

        var (_, events, _) = await Translate.StreamAsync(upstream);

        Assert.Equal("""{"file_path":"a.cs","old_string":"x","new_string":"y"}""", AnthropicStream.Content(events)[0]!["input"]!.ToJsonString());
    }

    [Fact]
    public void Bug10_OllamaDoesNotSupportThinking_NoReasoningParameterIsSent()
    {
        var (request, _) = Translate.Request("""{"model":"m","max_tokens":10,"stream":true,"messages":[{"role":"user","content":"hi"}],"thinking":{"type":"adaptive"},"output_config":{"effort":"high"}}""", ChatPresets.Ollama, "llama3.2");

        foreach (var field in new[] { "reasoning_effort", "reasoning", "thinking", "enable_thinking", "think" })
        {
            Assert.Null(request[field]);
        }
    }

    [Fact]
    public void Bug11_GroqToolUseFailed_TheFailedGenerationIsInTheErrorMessage()
    {
        Assert.True(ChatErrorReader.TryRead("""{"error":{"message":"Failed to call a function.","type":"invalid_request_error","code":"tool_use_failed","failed_generation":"<function=Bash>{\"command\":\"ls\"}</function>"}}"""u8, out var error));

        var (status, type) = ChatErrorMapper.ForStatus(400, error);
        Assert.Equal((400, "invalid_request_error"), (status, type));
        Assert.Contains("failed_generation: <function=Bash>", ChatErrorMapper.Describe("groq", error), StringComparison.Ordinal);
    }

    [Fact]
    public void Bug12_DeepSeekReasonerRejectsToolChoice_ItIsNotSent()
    {
        var (request, _) = Translate.Request("""{"model":"m","max_tokens":10,"messages":[{"role":"user","content":"hi"}],"tools":[{"name":"WebSearch","input_schema":{"type":"object","properties":{"q":{"type":"string"}}}}],"tool_choice":{"type":"tool","name":"WebSearch"}}""", ChatPresets.DeepSeek, "deepseek-reasoner");

        Assert.NotNull(request["tools"]);
        Assert.Null(request["tool_choice"]);
    }

    [Fact]
    public void Bug13_DuplicateToolResultIds_AreMergedIntoOneToolMessage()
    {
        var (request, _) = Translate.Request(RequestTranslationTests.ToolTurn(
            """{"type":"tool_result","tool_use_id":"toolu_1","content":"part one"},{"type":"tool_result","tool_use_id":"toolu_1","content":"part two"}"""));

        var tools = Translate.Messages(request).Where(m => (string?)m!["role"] == "tool").ToList();
        Assert.Single(tools);
        Assert.Equal("part one\npart two", (string?)tools[0]!["content"]);
    }

    [Fact]
    public void Bug14_ImagesForANonVisionModel_BecomePlaceholdersEvenInsideToolResults()
    {
        var (request, _) = Translate.Request(RequestTranslationTests.ToolTurn(
            """{"type":"tool_result","tool_use_id":"toolu_1","content":[{"type":"image","source":{"type":"base64","media_type":"image/png","data":"AAAA"}}]},{"type":"image","source":{"type":"base64","media_type":"image/png","data":"BBBB"}}"""),
            ChatPresets.DeepSeek, "deepseek-chat");

        var json = request.ToJsonString();
        Assert.DoesNotContain("image_url", json, StringComparison.Ordinal);
        Assert.Equal(ChatRequestTranslator.ImagePlaceholder, (string?)Translate.Messages(request)[2]!["content"]);
        Assert.Equal(ChatRequestTranslator.ImagePlaceholder, (string?)Translate.Messages(request)[3]!["content"]);
    }

    [Fact]
    public void Bug15_PromptCachingLost_OpenRouterAnthropicKeepsCacheControl_BillingHeaderNeverSent()
    {
        const string body = """
            {"model":"m","max_tokens":10,"system":[{"type":"text","text":"x-anthropic-billing-header: cc_version=2.1.330.593; cc_entrypoint=cli;"},{"type":"text","text":"Prompt","cache_control":{"type":"ephemeral"}}],
             "messages":[{"role":"user","content":[{"type":"text","text":"hi","cache_control":{"type":"ephemeral"}}]}]}
            """;

        var (claude, _) = Translate.Request(body, ChatPresets.OpenRouter, "anthropic/claude-sonnet-4.5");
        Assert.Equal("""[{"type":"text","text":"Prompt","cache_control":{"type":"ephemeral"}}]""", Translate.Messages(claude)[0]!["content"]!.ToJsonString());
        Assert.Equal("""[{"type":"text","text":"hi","cache_control":{"type":"ephemeral"}}]""", Translate.Messages(claude)[1]!["content"]!.ToJsonString());

        var (other, _) = Translate.Request(body, ChatPresets.OpenRouter, "deepseek/deepseek-chat");
        Assert.Equal("\"Prompt\"", Translate.Messages(other)[0]!["content"]!.ToJsonString());
        Assert.DoesNotContain("cache_control", other.ToJsonString(), StringComparison.Ordinal);
        Assert.DoesNotContain("billing", other.ToJsonString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Bug15_RequestPrefixIsStableAcrossTurns_SoProviderPrefixCachesHit()
    {
        static string Body(string version) => """
            {"model":"m","max_tokens":10,"system":[{"type":"text","text":"x-anthropic-billing-header: cc_version=@@0@@; cc_entrypoint=cli;"},{"type":"text","text":"Prompt"}],"messages":[{"role":"user","content":"hi"}]}
            """.Replace("@@0@@", version, StringComparison.Ordinal);

        Assert.Equal(Translate.Request(Body("2.1.330.440")).Request.ToJsonString(), Translate.Request(Body("2.1.330.593")).Request.ToJsonString());
    }

    [Fact]
    public void Bug16_UsageForContextSizing_InputExcludesCachedTokens()
    {
        var completion = JsonSerializer.Deserialize("""
            {"id":"x","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":100000,"completion_tokens":50,"prompt_tokens_details":{"cached_tokens":90000}}}
            """, OpenAIJsonContext.Default.ChatCompletionChunk)!;
        var output = new ArrayBufferWriter<byte>();

        var result = ChatResponseTranslator.Write(completion, new TranslationContext("claude-sonnet-4-6", null), output);

        Assert.Equal((10000L, 90000L, 50L), (result.Usage.InputTokens, result.Usage.CacheReadInputTokens, result.Usage.OutputTokens));
        var usage = JsonNode.Parse(output.WrittenSpan)!["usage"]!;
        Assert.Equal(10000, (int)usage["input_tokens"]!);
        Assert.Equal(90000, (int)usage["cache_read_input_tokens"]!);
    }

    [Fact]
    public async Task Bug18_SlowFirstToken_PingsKeepTheClientFromTimingOut()
    {
        using var upstream = new ScriptedStream([("data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"late\"},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n", TimeSpan.FromMilliseconds(300))]);
        var client = new MemoryStream();
        var output = new ArrayBufferWriter<byte>();
        using var translator = new ChatStreamTranslator(output, new TranslationContext("m", null));

        await ChatStreamPump.RunAsync(upstream, client, translator, output, new ChatStreamTiming(TimeSpan.FromMilliseconds(50), TimeSpan.FromSeconds(10)), null, TestContext.Current.CancellationToken);

        var events = AnthropicStream.Parse(Encoding.UTF8.GetString(client.ToArray()));
        Assert.Equal("message_start", events[0].Name); // sent at once, before the provider's first chunk
        Assert.Equal("ping", events[1].Name);
        Assert.Empty(AnthropicStream.Problems(events));
    }

    [Fact]
    public void Bug19_MidConversationSystemMessages_AreHoistedNeverSentAfterTheFirstMessage()
    {
        var (request, _) = Translate.Request("""
            {"model":"m","max_tokens":10,"system":"Top.","messages":[{"role":"user","content":"hi"},{"role":"system","content":[{"type":"text","text":"# Environment","cache_control":{"type":"ephemeral"}}],"output_config":{"effort":"medium"}},{"role":"assistant","content":"yo"},{"role":"system","content":"Later note"},{"role":"user","content":"again"}]}
            """, ChatPresets.Qwen, "qwen3-max");

        var messages = Translate.Messages(request);
        Assert.Equal("Top.\n\n# Environment\n\nLater note", (string?)messages[0]!["content"]);
        Assert.Equal(["system", "user", "assistant", "user"], messages.Select(m => (string?)m!["role"]).ToArray());
    }

    [Fact]
    public void Bug20_OrphanedToolCalls_GetASyntheticResult_AndOrphanResultsBecomeText()
    {
        var (request, _) = Translate.Request("""
            {"model":"m","max_tokens":10,"messages":[
              {"role":"user","content":"go"},
              {"role":"assistant","content":[{"type":"tool_use","id":"toolu_a","name":"Bash","input":{}},{"type":"tool_use","id":"toolu_b","name":"Bash","input":{}}]},
              {"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_a","content":"done"},{"type":"tool_result","tool_use_id":"toolu_zzz","content":"stray"},{"type":"text","text":"[Request interrupted by user]"}]},
              {"role":"assistant","content":[{"type":"tool_use","id":"toolu_c","name":"Bash","input":{}}]}]}
            """);

        var messages = Translate.Messages(request);
        Assert.Equal(["user", "assistant", "tool", "tool", "user", "assistant", "tool"], messages.Select(m => (string?)m!["role"]).ToArray());
        Assert.Equal("done", (string?)messages[2]!["content"]);
        Assert.Equal(("toolu_b", ChatRequestTranslator.InterruptedToolResult), ((string?)messages[3]!["tool_call_id"], (string?)messages[3]!["content"]));
        Assert.Contains("stray", messages[4]!.ToJsonString(), StringComparison.Ordinal);
        Assert.Equal("toolu_c", (string?)messages[6]!["tool_call_id"]);
    }
}
