using System.Text.Json;
using System.Text.Json.Nodes;
using Relay.Protocol.Tests.Infrastructure;
using Relay.Protocol.Translation;

namespace Relay.Protocol.Tests;

/// <summary>Anthropic request → Chat Completions request, field by field.</summary>
public sealed class RequestTranslationTests
{
    private static string Fixture(string name) => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", name));

    [Fact]
    public void SystemBlocks_AreJoinedIntoOneLeadingSystemMessage_BillingHeaderRemoved()
    {
        var (request, _) = Translate.Request("""
            {"model":"m","max_tokens":10,"system":[{"type":"text","text":"x-anthropic-billing-header: cc_version=2.1.330.440; cc_entrypoint=sdk-cli;"},{"type":"text","text":"You are a Claude agent.","cache_control":{"type":"ephemeral"}},{"type":"text","text":"Main prompt."}],
             "messages":[{"role":"user","content":"hi"}]}
            """);

        var messages = Translate.Messages(request);
        Assert.Equal("system", (string?)messages[0]!["role"]);
        Assert.Equal("You are a Claude agent.\n\nMain prompt.", (string?)messages[0]!["content"]);
        Assert.Equal("""{"role":"user","content":"hi"}""", messages[1]!.ToJsonString());
        Assert.DoesNotContain("cache_control", request.ToJsonString(), StringComparison.Ordinal);
    }

    [Fact]
    public void UserImageAndText_BecomeParts_WithDataUrl()
    {
        var (request, _) = Translate.Request("""
            {"model":"m","max_tokens":10,"messages":[{"role":"user","content":[{"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBOR"}},{"type":"image","source":{"type":"url","url":"https://example.com/a.png"}},{"type":"text","text":""},{"type":"text","text":"What is this?"}]}]}
            """);

        var content = Translate.Messages(request)[0]!["content"]!.AsArray();
        Assert.Equal(3, content.Count); // the empty text block is dropped
        Assert.Equal("data:image/png;base64,iVBOR", (string?)content[0]!["image_url"]!["url"]);
        Assert.Equal("https://example.com/a.png", (string?)content[1]!["image_url"]!["url"]);
        Assert.Equal("What is this?", (string?)content[2]!["text"]);
    }

    [Fact]
    public void Documents_AreFilePartsWhereSupported_TextOrPlaceholderElsewhere()
    {
        const string body = """
            {"model":"m","max_tokens":10,"messages":[{"role":"user","content":[{"type":"document","title":"r.pdf","source":{"type":"base64","media_type":"application/pdf","data":"JVBER"}},{"type":"document","source":{"type":"text","media_type":"text/plain","data":"plain words"}}]}]}
            """;

        var openai = Translate.Messages(Translate.Request(body).Request)[0]!["content"]!.AsArray();
        Assert.Equal("file", (string?)openai[0]!["type"]);
        Assert.Equal("data:application/pdf;base64,JVBER", (string?)openai[0]!["file"]!["file_data"]);
        Assert.Equal("plain words", (string?)openai[1]!["text"]);

        var deepseek = Translate.Messages(Translate.Request(body, ChatPresets.DeepSeek, "deepseek-chat").Request)[0]!["content"]!.AsArray();
        Assert.Equal(ChatRequestTranslator.DocumentPlaceholder, (string?)deepseek[0]!["text"]);
    }

    [Fact]
    public void AssistantToolUse_AndToolResults_MapToToolCallsAndToolMessagesFirst()
    {
        var (request, _) = Translate.Request("""
            {"model":"m","max_tokens":10,"messages":[
              {"role":"user","content":"list files"},
              {"role":"assistant","content":[{"type":"text","text":"Running."},{"type":"tool_use","id":"toolu_1","name":"Bash","input":{"command":"ls"}},{"type":"tool_use","id":"toolu_2","name":"Read","input":{"file_path":"a"}}]},
              {"role":"user","content":[{"type":"text","text":"<system-reminder>x</system-reminder>"},{"type":"tool_result","tool_use_id":"toolu_2","content":[{"type":"text","text":"line1"},{"type":"text","text":"line2"}]},{"type":"tool_result","tool_use_id":"toolu_1","content":"a.txt","is_error":false}]}]}
            """);

        var messages = Translate.Messages(request);
        var assistant = messages[1]!;
        Assert.Equal("Running.", (string?)assistant["content"]);
        Assert.Equal("""{"command":"ls"}""", (string?)assistant["tool_calls"]![0]!["function"]!["arguments"]);
        Assert.Equal(("toolu_1", "function", "Bash"), ((string?)assistant["tool_calls"]![0]!["id"], (string?)assistant["tool_calls"]![0]!["type"], (string?)assistant["tool_calls"]![0]!["function"]!["name"]));
        // Tool messages come straight after the assistant, in call order, before the user's own text.
        Assert.Equal("""{"role":"tool","tool_call_id":"toolu_1","content":"a.txt"}""", messages[2]!.ToJsonString());
        Assert.Equal("""{"role":"tool","tool_call_id":"toolu_2","content":"line1\nline2"}""", messages[3]!.ToJsonString());
        Assert.Equal(("user", "<system-reminder>x</system-reminder>"), ((string?)messages[4]!["role"], (string?)messages[4]!["content"]));
        Assert.Equal(5, messages.Count);
    }

    [Fact]
    public void ToolResultIsError_IsMadeExplicit()
    {
        var (request, _) = Translate.Request(ToolTurn("""{"type":"tool_result","tool_use_id":"toolu_1","content":"No such file","is_error":true}"""));

        Assert.Equal(ChatRequestTranslator.ToolErrorPrefix + "No such file", (string?)Translate.Messages(request)[2]!["content"]);
    }

    [Fact]
    public void ToolResultWithImage_ImageMovesToAFollowingUserMessage()
    {
        var (request, _) = Translate.Request(ToolTurn("""{"type":"tool_result","tool_use_id":"toolu_1","content":[{"type":"text","text":"screenshot:"},{"type":"image","source":{"type":"base64","media_type":"image/png","data":"AAAA"}}]}"""));

        var messages = Translate.Messages(request);
        Assert.Equal("tool", (string?)messages[2]!["role"]);
        Assert.DoesNotContain("image_url", messages[2]!.ToJsonString(), StringComparison.Ordinal);
        Assert.Equal("user", (string?)messages[3]!["role"]);
        Assert.Equal("data:image/png;base64,AAAA", (string?)messages[3]!["content"]![1]!["image_url"]!["url"]);
    }

    [Fact]
    public void ThinkingFromEarlierTurns_IsDroppedForProvidersThatDoNotNeedIt()
    {
        var body = """
            {"model":"m","max_tokens":10,"messages":[{"role":"user","content":"q"},{"role":"assistant","content":[{"type":"thinking","thinking":"hmm","signature":"relay-translated-thinking-v1"},{"type":"redacted_thinking","data":"xx"},{"type":"text","text":"a"}]},{"role":"user","content":"q2"}]}
            """;

        var (request, _) = Translate.Request(body);

        Assert.Equal("""{"role":"assistant","content":"a"}""", Translate.Messages(request)[1]!.ToJsonString());
    }

    [Fact]
    public void ToolsAndSchemas_DraftKeywordsKeptExceptDollarSchema_ServerAndDeferredToolsDropped()
    {
        var (request, _) = Translate.Request("""
            {"model":"m","max_tokens":10,"messages":[{"role":"user","content":"hi"}],"tools":[
              {"name":"Read","description":"Reads","input_schema":{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object","properties":{"limit":{"type":"integer","exclusiveMinimum":0}},"required":["limit"],"additionalProperties":false}},
              {"type":"custom","name":"Custom","input_schema":{"type":"object","properties":{}}},
              {"name":"DeferredToolPlaceholder","input_schema":{"type":"object","properties":{}},"defer_loading":true},
              {"type":"web_search_20250305","name":"web_search","max_uses":5}]}
            """);

        var tools = request["tools"]!.AsArray();
        Assert.Equal(2, tools.Count);
        Assert.Equal("""{"type":"function","function":{"name":"Read","description":"Reads","parameters":{"type":"object","properties":{"limit":{"type":"integer","exclusiveMinimum":0}},"required":["limit"],"additionalProperties":false}}}""", tools[0]!.ToJsonString());
        Assert.Equal("object", (string?)tools[1]!["function"]!["parameters"]!["type"]); // Anthropic's tool type never leaks into parameters
        Assert.Null(tools[1]!["function"]!["parameters"]!["custom"]);
    }

    [Theory]
    [InlineData("""{"type":"auto"}""", "\"auto\"", null)]
    [InlineData("""{"type":"any"}""", "\"required\"", null)]
    [InlineData("""{"type":"none"}""", "\"none\"", null)]
    [InlineData("""{"type":"tool","name":"Read"}""", """{"type":"function","function":{"name":"Read"}}""", null)]
    [InlineData("""{"type":"auto","disable_parallel_tool_use":true}""", "\"auto\"", false)]
    public void ToolChoice_IsMapped(string choice, string expected, bool? parallel)
    {
        var (request, _) = Translate.Request("""
            {"model":"m","max_tokens":10,"messages":[{"role":"user","content":"hi"}],"tools":[{"name":"Read","input_schema":{"type":"object","properties":{}}}],"tool_choice":@@0@@}
            """.Replace("@@0@@", choice, StringComparison.Ordinal));

        Assert.Equal(expected, request["tool_choice"]!.ToJsonString());
        Assert.Equal(parallel, (bool?)request["parallel_tool_calls"]);
    }

    [Fact]
    public void ToolChoiceWithoutTools_IsNotSent()
    {
        var (request, _) = Translate.Request("""{"model":"m","max_tokens":10,"messages":[{"role":"user","content":"hi"}],"tools":[],"tool_choice":{"type":"any"}}""");

        Assert.Null(request["tools"]);
        Assert.Null(request["tool_choice"]);
    }

    [Fact]
    public void StopSequencesSamplingAndUser_AreMappedWhereAccepted()
    {
        const string body = """
            {"model":"m","max_tokens":10,"messages":[{"role":"user","content":"hi"}],"stop_sequences":["a","b","c","d","e"],"temperature":0.2,"top_p":0.9,"top_k":40,
             "metadata":{"user_id":"{\"device_id\":\"d59f\",\"account_uuid\":\"\",\"session_id\":\"4bbd\"}"}}
            """;

        var (openai, _) = Translate.Request(body);
        Assert.Equal("""["a","b","c","d"]""", openai["stop"]!.ToJsonString());
        Assert.Equal((0.2, 0.9), ((double)openai["temperature"]!, (double)openai["top_p"]!));
        Assert.Null(openai["top_k"]);
        Assert.Equal(64, ((string?)openai["user"])!.Length);

        var (vllm, _) = Translate.Request(body, ChatPresets.Vllm, "qwen");
        Assert.Equal(40, (int)vllm["top_k"]!);
        Assert.Equal(5, vllm["stop"]!.AsArray().Count);
        Assert.Null(vllm["user"]);
    }

    [Fact]
    public void Stream_RequestsUsageInTheStream()
    {
        var (request, result) = Translate.Request("""{"model":"m","max_tokens":10,"stream":true,"messages":[{"role":"user","content":"hi"}]}""");

        Assert.True(result.Stream);
        Assert.True((bool)request["stream"]!);
        Assert.True((bool)request["stream_options"]!["include_usage"]!);
    }

    [Theory]
    [InlineData(ChatPresets.OpenAI, "o3", """{"type":"enabled","budget_tokens":2000}""", null, "reasoning_effort", "\"low\"")]
    [InlineData(ChatPresets.OpenAI, "gpt-5", """{"type":"enabled","budget_tokens":10000}""", null, "reasoning_effort", "\"medium\"")]
    [InlineData(ChatPresets.OpenAI, "gpt-5", """{"type":"adaptive"}""", "max", "reasoning_effort", "\"high\"")]
    [InlineData(ChatPresets.OpenRouter, "x/y", """{"type":"enabled","budget_tokens":31999}""", null, "reasoning", """{"max_tokens":31999}""")]
    [InlineData(ChatPresets.OpenRouter, "x/y", """{"type":"adaptive"}""", "low", "reasoning", """{"effort":"low"}""")]
    [InlineData(ChatPresets.OpenRouter, "x/y", """{"type":"disabled"}""", null, "reasoning", """{"enabled":false}""")]
    [InlineData(ChatPresets.DeepSeek, "deepseek-chat", """{"type":"adaptive","display":"omitted"}""", "high", "thinking", """{"type":"enabled"}""")]
    [InlineData(ChatPresets.Glm, "glm-4.6", """{"type":"disabled"}""", null, "thinking", """{"type":"disabled"}""")]
    [InlineData(ChatPresets.Qwen, "qwen3-max", """{"type":"enabled","budget_tokens":5000}""", null, "thinking_budget", "5000")]
    public void Thinking_MapsToEachProvidersReasoningParameter(string preset, string model, string thinking, string? effort, string field, string expected)
    {
        var outputConfig = effort is null ? "" : ""","output_config":{"effort":"@@0@@"}""".Replace("@@0@@", effort, StringComparison.Ordinal);
        var (request, _) = Translate.Request("""
            {"model":"m","max_tokens":100,"stream":true,"temperature":1,"messages":[{"role":"user","content":"hi"}],"thinking":@@0@@@@1@@}
            """.Replace("@@0@@", thinking, StringComparison.Ordinal).Replace("@@1@@", outputConfig, StringComparison.Ordinal), preset, model);

        Assert.Equal(expected, request[field]!.ToJsonString());
        if (preset == ChatPresets.OpenAI)
        {
            Assert.Null(request["temperature"]); // reasoning models reject sampling parameters
        }
    }

    [Fact]
    public void Qwen_ThinkingOnANonStreamingCall_IsTurnedOff()
    {
        var (request, _) = Translate.Request("""{"model":"m","max_tokens":100,"messages":[{"role":"user","content":"hi"}],"thinking":{"type":"adaptive"}}""", ChatPresets.Qwen, "qwen3-max");

        Assert.False((bool)request["enable_thinking"]!);
    }

    [Fact]
    public void ContextManagementSafeguardsAndOtherAnthropicOnlyFields_AreNotForwarded()
    {
        var (request, _) = Translate.Request(Fixture("claude-code-2.1.330-interactive-automode.json"), ChatPresets.Generic, "some-model");

        foreach (var field in new[] { "context_management", "safeguards", "output_config", "thinking", "metadata", "system" })
        {
            Assert.Null(request[field]);
        }
    }

    [Fact]
    public void OutputConfigFormat_BecomesResponseFormatOrAnInstruction()
    {
        var body = Fixture("claude-code-2.1.330-title-smallfast.json");

        var (openai, _) = Translate.Request(body);
        Assert.Equal("json_schema", (string?)openai["response_format"]!["type"]);
        Assert.Equal("object", (string?)openai["response_format"]!["json_schema"]!["schema"]!["type"]);

        var (deepseek, _) = Translate.Request(body, ChatPresets.DeepSeek, "deepseek-chat");
        Assert.Equal("""{"type":"json_object"}""", deepseek["response_format"]!.ToJsonString());
        Assert.Contains("JSON Schema", (string?)Translate.Messages(deepseek)[0]!["content"], StringComparison.Ordinal);

        var (generic, _) = Translate.Request(body, ChatPresets.Generic, "x");
        Assert.Null(generic["response_format"]);
        Assert.Contains("\"title\"", (string?)Translate.Messages(generic)[0]!["content"], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(ChatPresets.OpenAI, "gpt-4o")]
    [InlineData(ChatPresets.OpenRouter, "anthropic/claude-sonnet-4.5")]
    [InlineData(ChatPresets.DeepSeek, "deepseek-chat")]
    [InlineData(ChatPresets.Kimi, "kimi-k2-turbo-preview")]
    [InlineData(ChatPresets.Glm, "glm-4.6")]
    [InlineData(ChatPresets.Qwen, "qwen3-coder-plus")]
    [InlineData(ChatPresets.Groq, "openai/gpt-oss-120b")]
    [InlineData(ChatPresets.Together, "Qwen/Qwen3-Coder")]
    [InlineData(ChatPresets.Ollama, "qwen3:8b")]
    [InlineData(ChatPresets.Vllm, "qwen3")]
    [InlineData(ChatPresets.Gemini, "gemini-2.5-pro")]
    [InlineData(ChatPresets.Generic, "anything")]
    public void RealClaudeCodeRequest_TranslatesToAWellFormedRequestForEveryPreset(string preset, string model)
    {
        var (request, result) = Translate.Request(Fixture("claude-code-2.1.330-tool-followup.json"), preset, model);

        var messages = Translate.Messages(request);
        Assert.Equal("system", (string?)messages[0]!["role"]);
        Assert.Single(messages, m => (string?)m!["role"] == "system"); // the mid-conversation system message was hoisted
        Assert.Contains("# Environment", request.ToJsonString(), StringComparison.Ordinal);
        Assert.DoesNotContain("x-anthropic-billing-header", request.ToJsonString(), StringComparison.Ordinal);
        Assert.DoesNotContain("$schema", request.ToJsonString(), StringComparison.Ordinal);
        Assert.DoesNotContain("DeferredToolPlaceholder", request.ToJsonString(), StringComparison.Ordinal);
        var roles = messages.Select(m => (string?)m!["role"]).ToArray();
        Assert.Equal(["system", "user", "assistant", "tool"], roles);
        Assert.True(result.Stream);
        Assert.All(request["tools"]!.AsArray(), t => Assert.True(ToolNames.IsAcceptable((string)t!["function"]!["name"]!)));
    }

    [Fact]
    public void LongToolNames_AreShortenedReversibly_InToolsHistoryAndChoice()
    {
        var longName = "mcp__claude_in_chrome_extension_server__navigate_to_url_and_capture_screenshot";
        var (request, result) = Translate.Request("""
            {"model":"m","max_tokens":10,"tools":[{"name":"@@0@@","input_schema":{"type":"object","properties":{}}}],"tool_choice":{"type":"tool","name":"@@1@@"},
             "messages":[{"role":"user","content":"go"},{"role":"assistant","content":[{"type":"tool_use","id":"toolu_1","name":"@@2@@","input":{}}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":"ok"}]}]}
            """.Replace("@@0@@", longName, StringComparison.Ordinal).Replace("@@1@@", longName, StringComparison.Ordinal).Replace("@@2@@", longName, StringComparison.Ordinal));

        var shortName = (string)request["tools"]![0]!["function"]!["name"]!;
        Assert.True(shortName.Length <= 64);
        Assert.Equal(shortName, (string?)request["tool_choice"]!["function"]!["name"]);
        Assert.Equal(shortName, (string?)Translate.Messages(request)[1]!["tool_calls"]![0]!["function"]!["name"]);
        Assert.Equal(longName, result.ToolNames![shortName]);
        Assert.Equal(shortName, ToolNames.ToUpstream(longName)); // deterministic: same name every turn
    }

    [Fact]
    public void DeferredTools_AreSentOnceToolSearchLoadedThem()
    {
        var (request, _) = Translate.Request("""
            {"model":"m","max_tokens":10,"tools":[
              {"name":"ToolSearch","input_schema":{"type":"object","properties":{"query":{"type":"string"}}}},
              {"name":"DeferredToolPlaceholder","input_schema":{"type":"object","properties":{}},"defer_loading":true},
              {"name":"WebFetch","description":"Fetches","input_schema":{"type":"object","properties":{"url":{"type":"string"}}},"defer_loading":true},
              {"name":"NotebookEdit","input_schema":{"type":"object","properties":{"path":{"type":"string"}}},"defer_loading":true}],
             "messages":[{"role":"user","content":"fetch it"},
              {"role":"assistant","content":[{"type":"tool_use","id":"toolu_s","name":"ToolSearch","input":{"query":"fetch"}}]},
              {"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_s","content":[{"type":"tool_reference","tool_name":"WebFetch"}]}]}]}
            """);

        Assert.Equal(["ToolSearch", "WebFetch"], request["tools"]!.AsArray().Select(t => (string?)t!["function"]!["name"]).ToArray());
        Assert.Equal("[tool loaded: WebFetch]", (string?)Translate.Messages(request)[2]!["content"]);
    }

    [Fact]
    public void AssistantOnlyThinking_IsNotSentAsAnEmptyMessage()
    {
        var (request, _) = Translate.Request("""
            {"model":"m","max_tokens":10,"messages":[{"role":"user","content":"a"},{"role":"assistant","content":[{"type":"thinking","thinking":"x","signature":"s"}]},{"role":"user","content":"b"}]}
            """);

        Assert.Equal(2, Translate.Messages(request).Count);
    }

    [Fact]
    public void MalformedContent_IsAnInvalidRequestNamingTheField()
    {
        var error = Assert.Throws<TranslationException>(() => Translate.Request("""{"model":"m","max_tokens":1,"messages":[{"role":"user","content":5}]}"""));

        Assert.Equal("messages.0.content: Input should be a valid list", error.Message);
    }

    internal static string ToolTurn(string resultBlock, string assistantExtra = "") => """
        {"model":"m","max_tokens":10,"messages":[
          {"role":"user","content":"go"},
          {"role":"assistant","content":[@@0@@{"type":"tool_use","id":"toolu_1","name":"Read","input":{"file_path":"a.png"}}]},
          {"role":"user","content":[@@1@@]}]}
        """.Replace("@@0@@", assistantExtra, StringComparison.Ordinal).Replace("@@1@@", resultBlock, StringComparison.Ordinal);
}
