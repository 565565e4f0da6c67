using System.Text;
using System.Text.Json.Nodes;
using Relay.Protocol.Translation;
using static Relay.Protocol.Tests.ChatDoor.ChatDoorTesting;

namespace Relay.Protocol.Tests.ChatDoor;

/// <summary>Chat Completions request in, the exact Messages request out.</summary>
public sealed class ChatToMessagesTranslatorTests
{
    [Fact]
    public void Minimal_GetsTheDefaultMaxTokens_AndStreamFalse()
    {
        var (json, request) = Translate("""{"model":"claude-sonnet-4-6","messages":[{"role":"user","content":"Hi"}]}""");

        Assert.Equal("""{"model":"claude-sonnet-4-6","max_tokens":8192,"messages":[{"role":"user","content":"Hi"}],"stream":false}""", json);
        Assert.Equal(new ChatDoorRequest("claude-sonnet-4-6", false, false, 8192, null), request);
    }

    [Fact]
    public void OpenAISdkToolLoop_IsTranslatedExactly()
    {
        var (json, request) = Translate("""
            {"model":"gpt-4o","messages":[
              {"role":"system","content":"You are a helpful assistant."},
              {"role":"user","content":"What's the weather in Paris and Tokyo?"},
              {"role":"assistant","content":null,"refusal":null,"tool_calls":[
                {"id":"call_abc123","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}},
                {"id":"call_def456","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Tokyo\",\"unit\":\"c\"}"}}]},
              {"role":"tool","tool_call_id":"call_abc123","content":"18°C, cloudy"},
              {"role":"tool","tool_call_id":"call_def456","content":[{"type":"text","text":"25°C"},{"type":"text","text":"sunny"}]}],
             "tools":[{"type":"function","function":{"name":"get_weather","description":"Get the weather for a city","parameters":{"type":"object","properties":{"city":{"type":"string"},"unit":{"type":"string","enum":["c","f"]}},"required":["city"],"additionalProperties":false},"strict":true}}],
             "tool_choice":"auto","parallel_tool_calls":true,"temperature":0.2,"max_completion_tokens":1024,
             "stream":true,"stream_options":{"include_usage":true},"user":"user-42","seed":7,"frequency_penalty":0,"store":false}
            """);

        Assert.Equal(Min("""
            {"model":"gpt-4o","max_tokens":1024,"system":"You are a helpful assistant.","messages":[
              {"role":"user","content":"What's the weather in Paris and Tokyo?"},
              {"role":"assistant","content":[
                {"type":"tool_use","id":"call_abc123","name":"get_weather","input":{"city":"Paris"}},
                {"type":"tool_use","id":"call_def456","name":"get_weather","input":{"city":"Tokyo","unit":"c"}}]},
              {"role":"user","content":[
                {"type":"tool_result","tool_use_id":"call_abc123","content":"18°C, cloudy"},
                {"type":"tool_result","tool_use_id":"call_def456","content":[{"type":"text","text":"25°C"},{"type":"text","text":"sunny"}]}]}],
             "tools":[{"name":"get_weather","description":"Get the weather for a city","input_schema":{"type":"object","properties":{"city":{"type":"string"},"unit":{"type":"string","enum":["c","f"]}},"required":["city"],"additionalProperties":false}}],
             "tool_choice":{"type":"auto"},"temperature":0.2,"metadata":{"user_id":"user-42"},"stream":true}
            """), json);
        Assert.Equal(new ChatDoorRequest("gpt-4o", true, true, 1024, null), request);
    }

    [Fact]
    public void SystemAndDeveloperMessages_JoinTheSystemPromptInOrder_AndSameRoleMessagesMerge()
    {
        var (json, _) = Translate("""
            {"model":"m","messages":[
              {"role":"system","content":"Be brief."},
              {"role":"user","content":"q1"},
              {"role":"developer","content":[{"type":"text","text":"Answer in French."}]},
              {"role":"user","content":[{"type":"text","text":"q2"}]},
              {"role":"assistant","content":"a1"},
              {"role":"assistant","content":[{"type":"text","text":"a2"},{"type":"refusal","refusal":"no"}]},
              {"role":"assistant","content":""},
              {"role":"user","content":"q3"}]}
            """);

        Assert.Equal(Min("""
            {"model":"m","max_tokens":8192,"system":[{"type":"text","text":"Be brief."},{"type":"text","text":"Answer in French."}],"messages":[
              {"role":"user","content":[{"type":"text","text":"q1"},{"type":"text","text":"q2"}]},
              {"role":"assistant","content":[{"type":"text","text":"a1"},{"type":"text","text":"a2"},{"type":"text","text":"no"}]},
              {"role":"user","content":"q3"}],"stream":false}
            """), json);
    }

    [Fact]
    public void UserParts_ImagesFilesAndCacheControl()
    {
        var (json, _) = Translate("""
            {"model":"m","messages":[{"role":"user","content":[
              {"type":"text","text":"Long document","cache_control":{"type":"ephemeral"}},
              {"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo=","detail":"high"}},
              {"type":"image_url","image_url":{"url":"https://example.com/cat.jpg"}},
              {"type":"image_url","image_url":"http://example.com/dog.jpg"},
              {"type":"file","file":{"filename":"a.pdf","file_data":"data:application/pdf;base64,JVBERi0x"}},
              {"type":"text","text":""},
              {"type":"text","text":"What is this?"}]}]}
            """);

        Assert.Equal(Min("""
            {"model":"m","max_tokens":8192,"messages":[{"role":"user","content":[
              {"type":"text","text":"Long document","cache_control":{"type":"ephemeral"}},
              {"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBORw0KGgo="}},
              {"type":"image","source":{"type":"url","url":"https://example.com/cat.jpg"}},
              {"type":"image","source":{"type":"url","url":"http://example.com/dog.jpg"}},
              {"type":"document","source":{"type":"base64","media_type":"application/pdf","data":"JVBERi0x"}},
              {"type":"text","text":"What is this?"}]}],"stream":false}
            """), json);
    }

    [Theory]
    [InlineData("\"none\"", """{"type":"none"}""")]
    [InlineData("\"auto\"", """{"type":"auto"}""")]
    [InlineData("\"required\"", """{"type":"any"}""")]
    [InlineData("""{"type":"function","function":{"name":"lookup"}}""", """{"type":"tool","name":"lookup"}""")]
    public void ToolChoice_MapsToAnthropics(string choice, string expected)
    {
        var messages = TranslateToNode($$$"""{"model":"m","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"lookup"}}],"tool_choice":{{{choice}}}}""");

        Assert.Equal(expected, messages["tool_choice"]!.ToJsonString());
    }

    [Theory]
    [InlineData("", """{"type":"auto","disable_parallel_tool_use":true}""")]
    [InlineData(""","tool_choice":"required" """, """{"type":"any","disable_parallel_tool_use":true}""")]
    [InlineData(""","tool_choice":"none" """, """{"type":"none"}""")]
    public void ParallelToolCallsFalse_DisablesParallelToolUse(string choice, string expected)
    {
        var messages = TranslateToNode($$$"""{"model":"m","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"f"}}],"parallel_tool_calls":false{{{choice}}}}""");

        Assert.Equal(expected, messages["tool_choice"]!.ToJsonString());
    }

    [Fact]
    public void ToolChoiceWithoutTools_IsLeftOut()
    {
        var messages = TranslateToNode("""{"model":"m","messages":[{"role":"user","content":"x"}],"tools":[],"tool_choice":"required","parallel_tool_calls":false}""");

        Assert.False(messages.ContainsKey("tool_choice"));
        Assert.False(messages.ContainsKey("tools"));
    }

    [Fact]
    public void ToolSchemas_MissingOrWithoutType_BecomeObjects()
    {
        var (json, _) = Translate("""
            {"model":"m","messages":[{"role":"user","content":"x"}],"tools":[
              {"type":"function","function":{"name":"now"}},
              {"type":"function","function":{"name":"echo","description":"","parameters":{"properties":{"s":{"type":"string"}}}}}]}
            """);

        Assert.Equal(Min("""
            {"model":"m","max_tokens":8192,"messages":[{"role":"user","content":"x"}],"tools":[
              {"name":"now","input_schema":{"type":"object"}},
              {"name":"echo","input_schema":{"type":"object","properties":{"s":{"type":"string"}}}}],"stream":false}
            """), json);
    }

    [Fact]
    public void ToolNamesAnthropicRejects_AreShortened_AndTheMapComesBack()
    {
        var longName = "mcp__filesystem__" + new string('x', 60);
        var (json, request) = Translate($$$"""
            {"model":"m","messages":[
              {"role":"user","content":"x"},
              {"role":"assistant","tool_calls":[{"id":"call_1","type":"function","function":{"name":"{{{longName}}}","arguments":"{}"}},{"id":"call_2","type":"function","function":{"name":"fs.read","arguments":"{}"}}]},
              {"role":"tool","tool_call_id":"call_1","content":"ok"},{"role":"tool","tool_call_id":"call_2","content":"ok"}],
             "tools":[{"type":"function","function":{"name":"{{{longName}}}"}},{"type":"function","function":{"name":"fs.read"}}],
             "tool_choice":{"type":"function","function":{"name":"fs.read"}} }
            """);

        var sentLong = ToolNames.ToUpstream(longName);
        var sentDotted = ToolNames.ToUpstream("fs.read");
        Assert.NotEqual(longName, sentLong);
        Assert.Equal(new Dictionary<string, string> { [sentLong] = longName, [sentDotted] = "fs.read" }, request.ToolNames);
        var messages = JsonNode.Parse(json)!;
        Assert.Equal(sentLong, (string?)messages["tools"]![0]!["name"]);
        Assert.Equal(sentDotted, (string?)messages["tools"]![1]!["name"]);
        Assert.Equal(sentLong, (string?)messages["messages"]![1]!["content"]![0]!["name"]);
        Assert.Equal(sentDotted, (string?)messages["tool_choice"]!["name"]);
    }

    [Theory]
    [InlineData("\"{\\\"a\\\":1}\"", """{"a":1}""")]                   // the normal case
    [InlineData("{\"a\":1}", """{"a":1}""")]                           // the object itself
    [InlineData("\"\\\"{\\\\\\\"a\\\\\\\":1}\\\"\"", """{"a":1}""")]   // double-encoded
    [InlineData("\"\"", "{}")]
    [InlineData("\"{\\\"a\\\":\"", "{}")]                             // cut off
    [InlineData("\"[1,2]\"", "{}")]                                   // not an object
    [InlineData("null", "{}")]
    public void ToolCallArguments_BecomeAnObjectInput(string arguments, string expectedInput)
    {
        var messages = TranslateToNode($$$"""
            {"model":"m","messages":[{"role":"user","content":"x"},
              {"role":"assistant","tool_calls":[{"id":"call_1","type":"function","function":{"name":"f","arguments":{{{arguments}}}}}]},
              {"role":"tool","tool_call_id":"call_1","content":"done"}]}
            """);

        Assert.Equal(expectedInput, messages["messages"]![1]!["content"]![0]!["input"]!.ToJsonString());
    }

    [Fact]
    public void ToolCallIds_AnthropicRejects_AreEncoded_AndRoundTripThroughTheClient()
    {
        var messages = TranslateToNode("""
            {"model":"m","messages":[{"role":"user","content":"x"},
              {"role":"assistant","tool_calls":[{"id":"functions.Bash:0","type":"function","function":{"name":"Bash","arguments":"{}"}}]},
              {"role":"tool","tool_call_id":"functions.Bash:0","content":"done"}]}
            """);

        var useId = (string)messages["messages"]![1]!["content"]![0]!["id"]!;
        var resultId = (string)messages["messages"]![2]!["content"]![0]!["tool_use_id"]!;
        Assert.StartsWith("toolu_relay_", useId, StringComparison.Ordinal);
        Assert.Equal(useId, resultId);
        Assert.Equal("functions.Bash:0", ToolIds.ToUpstream(useId));     // what an openai provider gets back
        Assert.Equal("functions.Bash:0", ToolIds.ToChatClient(useId));   // what a chat client sees
        Assert.Equal(useId, ToolIds.FromChatClient(ToolIds.ToChatClient(useId)));
    }

    [Fact]
    public void ToolCallIdsCarryingASignature_ReachTheClientEncoded_AndComeBackUnchanged()
    {
        var anthropicId = ToolIds.ToAnthropic("call_9", "sig-bytes");

        Assert.Equal(anthropicId, ToolIds.ToChatClient(anthropicId));
        Assert.Equal(anthropicId, ToolIds.FromChatClient(anthropicId));
        Assert.Equal("call_9", ToolIds.ToUpstream(ToolIds.FromChatClient(anthropicId), out var signature));
        Assert.Equal("sig-bytes", signature);
    }

    [Fact]
    public void ToolResults_GoFirstInTheirUserTurn_MissingOnesAreFilled_OrphansBecomeText()
    {
        var (json, _) = Translate("""
            {"model":"m","messages":[
              {"role":"tool","tool_call_id":"call_old","content":"stale"},
              {"role":"user","content":"go"},
              {"role":"assistant","content":"Checking.","tool_calls":[{"id":"call_1","type":"function","function":{"name":"a","arguments":"{}"}},{"id":"call_2","type":"function","function":{"name":"b","arguments":"{}"}}]},
              {"role":"user","content":"also this"},
              {"role":"tool","tool_call_id":"call_2","content":"two"},
              {"role":"assistant","tool_calls":[{"id":"call_3","type":"function","function":{"name":"a","arguments":"{}"}}]}]}
            """);

        Assert.Equal(Min($$$"""
            {"model":"m","max_tokens":8192,"messages":[
              {"role":"user","content":[{"type":"text","text":"[result of tool call call_old]\nstale"},{"type":"text","text":"go"}]},
              {"role":"assistant","content":[{"type":"text","text":"Checking."},{"type":"tool_use","id":"call_1","name":"a","input":{}},{"type":"tool_use","id":"call_2","name":"b","input":{}}]},
              {"role":"user","content":[
                {"type":"tool_result","tool_use_id":"call_2","content":"two"},
                {"type":"tool_result","tool_use_id":"call_1","content":"{{{ChatRequestTranslator.InterruptedToolResult}}}"},
                {"type":"text","text":"also this"}]},
              {"role":"assistant","content":[{"type":"tool_use","id":"call_3","name":"a","input":{}}]},
              {"role":"user","content":[{"type":"tool_result","tool_use_id":"call_3","content":"{{{ChatRequestTranslator.InterruptedToolResult}}}"}]}],"stream":false}
            """), json);
    }

    [Fact]
    public void ALastAssistantMessage_IsAPrefillWithoutTrailingWhitespace_AndWithoutThinking()
    {
        var (json, _) = Translate("""{"model":"m","reasoning_effort":"high","messages":[{"role":"user","content":"Name a colour."},{"role":"assistant","content":"The colour is "}]}""");

        Assert.Equal("""{"model":"m","max_tokens":8192,"messages":[{"role":"user","content":"Name a colour."},{"role":"assistant","content":"The colour is"}],"stream":false}""", json);
    }

    [Fact]
    public void MaxCompletionTokens_WinsOverMaxTokens()
    {
        Assert.Equal(300, Translate("""{"model":"m","max_tokens":100,"max_completion_tokens":300,"messages":[{"role":"user","content":"x"}]}""").Request.MaxTokens);
        Assert.Equal(100, Translate("""{"model":"m","max_tokens":100,"max_completion_tokens":null,"messages":[{"role":"user","content":"x"}]}""").Request.MaxTokens);
    }

    [Theory]
    [InlineData("minimal", null, 8192, 1024)]
    [InlineData("low", null, 8192, 2048)]
    [InlineData("medium", null, 16384, 8192)]
    [InlineData("high", null, 32768, 16384)]
    [InlineData("xhigh", null, 65536, 32768)]
    [InlineData("high", 10000, 10000, 5000)]   // half of the client's limit at most
    [InlineData("low", 2000, 2000, null)]      // half is below Anthropic's 1024 minimum: no thinking
    [InlineData("none", null, 8192, null)]
    public void ReasoningEffort_BecomesAThinkingBudget(string effort, int? maxTokens, int expectedMax, int? expectedBudget)
    {
        var limit = maxTokens is { } m ? $",\"max_completion_tokens\":{m}" : "";
        var messages = TranslateToNode($$$"""{"model":"m","reasoning_effort":"{{{effort}}}","temperature":0.5,"top_p":0.9{{{limit}}},"messages":[{"role":"user","content":"x"}]}""");

        Assert.Equal(expectedMax, (int)messages["max_tokens"]!);
        if (expectedBudget is { } budget)
        {
            Assert.Equal($$$"""{"type":"enabled","budget_tokens":{{{budget}}}}""", messages["thinking"]!.ToJsonString());
            Assert.False(messages.ContainsKey("temperature")); // Anthropic refuses sampling changes with thinking
            Assert.False(messages.ContainsKey("top_p"));
        }
        else
        {
            Assert.False(messages.ContainsKey("thinking"));
            Assert.Equal(0.5, (double)messages["temperature"]!);
        }
    }

    [Fact]
    public void ReasoningEffort_StaysOff_WhenAToolIsForced_OrAToolLoopContinues()
    {
        const string tools = "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\"}}]";
        var forced = TranslateToNode($$$"""{"model":"m","reasoning_effort":"high",{{{tools}}},"tool_choice":"required","messages":[{"role":"user","content":"x"}]}""");
        var loop = TranslateToNode($$$"""
            {"model":"m","reasoning_effort":"high",{{{tools}}},"messages":[{"role":"user","content":"x"},
              {"role":"assistant","tool_calls":[{"id":"call_1","type":"function","function":{"name":"f","arguments":"{}"}}]},
              {"role":"tool","tool_call_id":"call_1","content":"r"}]}
            """);
        var fresh = TranslateToNode($$$"""{"model":"m","reasoning_effort":"high",{{{tools}}},"messages":[{"role":"user","content":"x"}]}""");

        Assert.False(forced.ContainsKey("thinking"));
        Assert.False(loop.ContainsKey("thinking"));
        Assert.True(fresh.ContainsKey("thinking"));
    }

    [Theory]
    [InlineData("\"temperature\":1.6", "\"temperature\":1")]
    [InlineData("\"temperature\":0.7,\"top_p\":0.9", "\"temperature\":0.7")]
    [InlineData("\"top_p\":0.9,\"top_k\":40", "\"top_p\":0.9,\"top_k\":40")]
    [InlineData("\"stop\":\"END\"", "\"stop_sequences\":[\"END\"]")]
    [InlineData("\"stop\":[\"a\",\"\",\"b\"]", "\"stop_sequences\":[\"a\",\"b\"]")]
    [InlineData("\"stop\":null", "")]
    [InlineData("\"user\":\"u1\"", "\"metadata\":{\"user_id\":\"u1\"}")]
    [InlineData("\"safety_identifier\":\"s1\"", "\"metadata\":{\"user_id\":\"s1\"}")]
    [InlineData("\"response_format\":{\"type\":\"text\"}", "")]
    [InlineData("\"presence_penalty\":1,\"frequency_penalty\":1,\"seed\":1,\"logit_bias\":{\"1\":2},\"metadata\":{\"k\":\"v\"},\"service_tier\":\"auto\",\"store\":true,\"n\":1,\"logprobs\":false,\"prompt_cache_key\":\"k\",\"verbosity\":\"low\",\"modalities\":[\"text\"],\"audio\":null,\"future_field\":{}", "")]
    public void Parameters_MapOrAreIgnored(string fields, string expected)
    {
        var (json, _) = Translate($$$"""{"model":"m","messages":[{"role":"user","content":"x"}],{{{fields}}}}""");

        var tail = expected.Length == 0 ? "" : expected + ",";
        Assert.Equal($$$"""{"model":"m","max_tokens":8192,"messages":[{"role":"user","content":"x"}],{{{tail}}}"stream":false}""", json);
    }

    [Fact]
    public void ResponseFormat_BecomesAnInstructionAtTheEndOfTheSystemPrompt()
    {
        var jsonObject = TranslateToNode("""{"model":"m","messages":[{"role":"system","content":"S"},{"role":"user","content":"x"}],"response_format":{"type":"json_object"}}""");
        var jsonSchema = TranslateToNode("""{"model":"m","messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_schema","json_schema":{"name":"r","strict":true,"schema":{"type":"object","properties":{"a":{"type":"integer"}}}}}}""");

        Assert.Equal(Min($$$"""[{"type":"text","text":"S"},{"type":"text","text":"{{{ChatToMessagesTranslator.JsonObjectInstruction}}}"}]"""), jsonObject["system"]!.ToJsonString());
        Assert.Equal(ChatToMessagesTranslator.JsonSchemaInstruction + """{"type":"object","properties":{"a":{"type":"integer"}}}""", (string?)jsonSchema["system"]);
    }

    [Theory]
    [InlineData("""{"messages":[{"role":"user","content":"x"}]}""", "model")]
    [InlineData("""{"model":"m"}""", "messages")]
    [InlineData("""{"model":"m","messages":[{"role":"system","content":"only a system prompt"}]}""", "messages")]
    [InlineData("""{"model":"m","n":2,"messages":[{"role":"user","content":"x"}]}""", "n")]
    [InlineData("""{"model":"m","n":"1","messages":[{"role":"user","content":"x"}]}""", "n")]
    [InlineData("""{"model":"m","logprobs":true,"messages":[{"role":"user","content":"x"}]}""", "logprobs")]
    [InlineData("""{"model":"m","top_logprobs":3,"messages":[{"role":"user","content":"x"}]}""", "logprobs")]
    [InlineData("""{"model":"m","audio":{"voice":"alloy"},"messages":[{"role":"user","content":"x"}]}""", "audio")]
    [InlineData("""{"model":"m","modalities":["text","audio"],"messages":[{"role":"user","content":"x"}]}""", "modalities")]
    [InlineData("""{"model":"m","functions":[{"name":"f"}],"messages":[{"role":"user","content":"x"}]}""", "functions")]
    [InlineData("""{"model":"m","max_tokens":0,"messages":[{"role":"user","content":"x"}]}""", "max_tokens")]
    [InlineData("""{"model":"m","max_completion_tokens":"many","messages":[{"role":"user","content":"x"}]}""", "max_completion_tokens")]
    [InlineData("""{"model":"m","reasoning_effort":"extreme","messages":[{"role":"user","content":"x"}]}""", "reasoning_effort")]
    [InlineData("""{"model":"m","response_format":{"type":"grammar"},"messages":[{"role":"user","content":"x"}]}""", "response_format.type")]
    [InlineData("""{"model":"m","tools":[{"type":"custom","custom":{"name":"f"}}],"messages":[{"role":"user","content":"x"}]}""", "tools.0")]
    [InlineData("""{"model":"m","tools":{"type":"function"},"messages":[{"role":"user","content":"x"}]}""", "tools")]
    [InlineData("""{"model":"m","tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":"sometimes","messages":[{"role":"user","content":"x"}]}""", "tool_choice")]
    [InlineData("""{"model":"m","messages":[{"role":"function","name":"f","content":"x"}]}""", "messages.0.role")]
    [InlineData("""{"model":"m","messages":[{"role":"robot","content":"x"}]}""", "messages.0.role")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":42}]}""", "messages.0.content")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":[{"type":"input_audio","input_audio":{"data":"x","format":"wav"}}]}]}""", "messages.0.content.0.type")]
    [InlineData("""{"model":"m","messages":[{"role":"system","content":[{"type":"image_url","image_url":{"url":"https://a/b.png"}}]},{"role":"user","content":"x"}]}""", "messages.0.content.0.type")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"ftp://a/b.png"}}]}]}""", "messages.0.content.0.image_url.url")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":[{"type":"file","file":{"file_id":"file-abc"}}]}]}""", "messages.0.content.0.file")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"x"},{"role":"tool","content":"r"}]}""", "messages.1.tool_call_id")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"x"},{"role":"assistant","tool_calls":[{"type":"function","function":{"name":"f","arguments":"{}"}}]}]}""", "messages.1.tool_calls.0.id")]
    public void WhatCannotBeTranslated_IsAClientErrorNamingTheField(string body, string param)
    {
        var ex = Assert.Throws<TranslationException>(() => Translate(body));

        Assert.Equal(param, ex.Param);
        Assert.StartsWith(param.Split('.')[0], ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new byte[] { 0xC3, 0x28 })]               // invalid UTF-8
    [InlineData(new byte[] { 0x5C, 0x75, 0x44, 0x38, 0x30, 0x30 })] // \uD800 alone
    public void TextThatIsNotText_IsAClientError(byte[] inside)
    {
        var body = Encoding.UTF8.GetBytes("""{"model":"m","messages":[{"role":"user","content":"a""").Concat(inside).Concat(Encoding.UTF8.GetBytes("\"}]}")).ToArray();

        var ex = Assert.Throws<TranslationException>(() => ChatToMessagesTranslator.Write(body, new System.Buffers.ArrayBufferWriter<byte>()));
        Assert.Contains("UTF-8", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("[1]")]
    public void BodiesThatAreNotObjects_AreClientErrors(string body) =>
        Assert.Throws<TranslationException>(() => Translate(body));
}
