using System.Text.Json.Nodes;
using Relay.Protocol.Translation;
using static Relay.Protocol.Tests.Responses.ResponsesHarness;

namespace Relay.Protocol.Tests.Responses;

/// <summary>Responses API request → Anthropic Messages request, as the Responses door does it.</summary>
public sealed class ResponsesToMessagesRequestTests
{
    private static void AssertJson(string expected, JsonNode actual) =>
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected), actual), $"expected:\n{JsonNode.Parse(expected)!.ToJsonString()}\nactual:\n{actual.ToJsonString()}");

    [Fact]
    public void CodexCliRequest_BecomesTheExpectedMessagesRequest()
    {
        var (request, result) = ToMessages(Fixture("codex-request.json"));

        AssertJson(Fixture("codex-request.messages.json"), request);
        Assert.Equal(("claude-sonnet-4-5", true, false, 32_000L, true), (result.Model, result.Stream, result.Store, result.MaxTokens, result.Thinking));
        Assert.Equal(["apply_patch"], result.CustomTools);
        Assert.Equal(["web_search"], result.DroppedTools);
    }

    [Fact]
    public void StringInput_IsOneUserMessage_WithDefaults()
    {
        var (request, result) = ToMessages("""{"model":"claude-haiku-4-5","input":"hello","instructions":"Be brief.","temperature":0.2,"top_p":0.9}""");

        AssertJson("""
            {"model":"claude-haiku-4-5","max_tokens":32000,"stream":false,
             "system":[{"type":"text","text":"Be brief.","cache_control":{"type":"ephemeral"}}],
             "messages":[{"role":"user","content":[{"type":"text","text":"hello","cache_control":{"type":"ephemeral"}}]}],
             "temperature":0.2,"top_p":0.9}
            """, request);
        Assert.False(result.Stream);
        Assert.True(result.Store); // the API's default
        Assert.False(result.Thinking);
    }

    [Fact]
    public void Messages_MergeByRole_ImagesMapToSources_LaterDeveloperTextStaysInPlace()
    {
        var (request, _) = ToMessages("""
            {"model":"m","max_output_tokens":500,"input":[
              {"role":"system","content":"sys one"},
              {"type":"message","role":"developer","content":[{"type":"input_text","text":"dev two"}]},
              {"role":"user","content":[{"type":"input_text","text":"look"},{"type":"input_image","image_url":"data:image/png;base64,iVBOR","detail":"auto"}]},
              {"role":"user","content":[{"type":"input_image","image_url":"https://example.com/a.png"}]},
              {"role":"assistant","content":[{"type":"output_text","text":"A cat."}]},
              {"role":"developer","content":"Approval policy is now never."},
              {"role":"user","content":"thanks"}]}
            """);

        AssertJson("""
            {"model":"m","max_tokens":500,"stream":false,
             "system":[{"type":"text","text":"sys one"},{"type":"text","text":"dev two","cache_control":{"type":"ephemeral"}}],
             "messages":[
               {"role":"user","content":[{"type":"text","text":"look"},{"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBOR"}},{"type":"image","source":{"type":"url","url":"https://example.com/a.png"}}]},
               {"role":"assistant","content":[{"type":"text","text":"A cat."}]},
               {"role":"user","content":[{"type":"text","text":"Approval policy is now never."},{"type":"text","text":"thanks","cache_control":{"type":"ephemeral"}}]}]}
            """, request);
    }

    [Fact]
    public void ParallelCalls_ResultsFollowInCallOrder_UnansweredCallGetsAResult_OrphanResultBecomesText()
    {
        var (request, _) = ToMessages("""
            {"model":"m","input":[
              {"role":"user","content":"go"},
              {"type":"function_call","call_id":"call_a","name":"read","arguments":"{\"path\":\"a\"}"},
              {"type":"function_call","call_id":"call_b","name":"read","arguments":"{\"path\":\"b\"}"},
              {"type":"function_call_output","call_id":"call_b","output":"B"},
              {"type":"function_call_output","call_id":"call_zz","output":"stale"},
              {"type":"function_call","call_id":"functions.read:3","name":"read","arguments":"{\"path\":\"c\""}]}
            """);

        AssertJson("""
            {"model":"m","max_tokens":32000,"stream":false,"messages":[
              {"role":"user","content":[{"type":"text","text":"go"}]},
              {"role":"assistant","content":[{"type":"tool_use","id":"call_a","name":"read","input":{"path":"a"}},{"type":"tool_use","id":"call_b","name":"read","input":{"path":"b"}}]},
              {"role":"user","content":[
                {"type":"tool_result","tool_use_id":"call_a","content":"[no result: the tool call was interrupted before it returned]"},
                {"type":"tool_result","tool_use_id":"call_b","content":"B"},
                {"type":"text","text":"[result of tool call call_zz]\nstale"}]},
              {"role":"assistant","content":[{"type":"tool_use","id":"toolu_relay_ZnVuY3Rpb25zLnJlYWQ6Mw","name":"read","input":{"path":"c"}}]},
              {"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_relay_ZnVuY3Rpb25zLnJlYWQ6Mw","content":"[no result: the tool call was interrupted before it returned]","cache_control":{"type":"ephemeral"}}]}]}
            """, request);
    }

    [Fact]
    public void ToolOutputParts_BecomeToolResultBlocks()
    {
        var (request, _) = ToMessages("""
            {"model":"m","input":[
              {"type":"function_call","call_id":"c1","name":"view_image","arguments":"{}"},
              {"type":"function_call_output","call_id":"c1","output":[{"type":"input_text","text":"here"},{"type":"input_image","image_url":"data:image/jpeg;base64,/9j/"}]}]}
            """);

        AssertJson("""
            {"role":"user","content":[{"type":"tool_result","tool_use_id":"c1","content":[{"type":"text","text":"here"},{"type":"image","source":{"type":"base64","media_type":"image/jpeg","data":"/9j/"}}],"cache_control":{"type":"ephemeral"}}]}
            """, request["messages"]![1]!);
    }

    [Fact]
    public void CustomTool_BecomesAStringInputTool_AndItsCallsCarryInputAsJson()
    {
        var (request, result) = ToMessages("""
            {"model":"m","tools":[{"type":"custom","name":"apply_patch","description":"Edit files.","format":{"type":"grammar","syntax":"lark","definition":"start: x"}}],
             "input":[{"role":"user","content":"edit"},
               {"type":"custom_tool_call","call_id":"c9","name":"apply_patch","input":"*** Begin Patch\n"},
               {"type":"custom_tool_call_output","call_id":"c9","output":"ok"}]}
            """);

        AssertJson("""
            [{"name":"apply_patch","description":"Edit files.\n\nThe `input` property holds the raw text, which must follow this lark grammar:\nstart: x",
              "input_schema":{"type":"object","properties":{"input":{"type":"string","description":"The tool's raw text input (free-form, not JSON)."}},"required":["input"]}}]
            """, request["tools"]!);
        AssertJson("""{"type":"tool_use","id":"c9","name":"apply_patch","input":{"input":"*** Begin Patch\n"}}""", request["messages"]![1]!["content"]![0]!);
        Assert.Equal(["apply_patch"], result.CustomTools);
    }

    [Theory]
    [InlineData("\"auto\"", null, """{"type":"auto","disable_parallel_tool_use":true}""")]
    [InlineData("\"required\"", null, """{"type":"any","disable_parallel_tool_use":true}""")]
    [InlineData("\"none\"", null, """{"type":"none"}""")]
    [InlineData("""{"type":"function","name":"f"}""", null, """{"type":"tool","name":"f","disable_parallel_tool_use":true}""")]
    [InlineData("""{"type":"allowed_tools","mode":"auto","tools":[]}""", null, """{"type":"auto","disable_parallel_tool_use":true}""")]
    [InlineData("\"required\"", "true", """{"type":"any"}""")]
    public void ToolChoice_Maps(string choice, string? parallel, string expected)
    {
        var (request, _) = ToMessages(
            """{"model":"m","input":"x","tools":[{"type":"function","name":"f","parameters":{"type":"object","properties":{}}}],"tool_choice":"""
            + choice + ",\"parallel_tool_calls\":" + (parallel ?? "false") + "}");

        AssertJson(expected, request["tool_choice"]!);
    }

    [Fact]
    public void NoToolChoice_AndParallelAllowed_WritesNone()
    {
        var (request, _) = ToMessages("""{"model":"m","input":"x","tools":[{"type":"function","name":"f"}]}""");

        Assert.False(request.ContainsKey("tool_choice"));
        AssertJson("""[{"name":"f","input_schema":{"type":"object","properties":{}}}]""", request["tools"]!);
    }

    [Theory]
    [InlineData("low", null, 4096L, 32000L)]
    [InlineData("medium", null, 8192L, 32000L)]
    [InlineData("high", null, 16384L, 32000L)]
    [InlineData("xhigh", null, 24576L, 32000L)]
    [InlineData("high", 10000L, 5000L, 10000L)]
    public void ReasoningEffort_SetsAThinkingBudget_AndDropsSampling(string effort, long? maxOutput, long budget, long maxTokens)
    {
        var max = maxOutput is null ? "" : $",\"max_output_tokens\":{maxOutput}";
        var (request, result) = ToMessages($$$"""{"model":"m","input":"x","temperature":0.5,"reasoning":{"effort":"{{{effort}}}","summary":"auto"}{{{max}}}}""");

        AssertJson($$"""{"type":"enabled","budget_tokens":{{budget}}}""", request["thinking"]!);
        Assert.Equal(maxTokens, (long)request["max_tokens"]!);
        Assert.False(request.ContainsKey("temperature"));
        Assert.True(result.Thinking);
    }

    [Theory]
    [InlineData("""{"effort":"minimal"}""", null)]
    [InlineData("""{"effort":"none"}""", null)]
    [InlineData("""{"effort":"high"}""", 1500L)] // a budget under 1024 is no budget
    public void Thinking_StaysOff_WhenEffortIsMinimalOrTheLimitLeavesNoRoom(string reasoning, long? maxOutput)
    {
        var max = maxOutput is null ? "" : $",\"max_output_tokens\":{maxOutput}";
        var (request, result) = ToMessages($$$"""{"model":"m","input":"x","reasoning":{{{reasoning}}}{{{max}}}}""");

        Assert.False(request.ContainsKey("thinking"));
        Assert.False(result.Thinking);
    }

    [Fact]
    public void Thinking_TurnsOff_WhenTheToolLoopsAssistantTurnHasNoThinkingBlock()
    {
        // History from an OpenAI session: its reasoning item cannot be read by Anthropic, so it is dropped, and the
        // assistant turn that called the tool starts without thinking.
        var (request, result) = ToMessages("""
            {"model":"m","reasoning":{"effort":"medium"},"input":[
              {"role":"user","content":"go"},
              {"type":"reasoning","summary":[{"type":"summary_text","text":"plan"}],"encrypted_content":"gAAAAABo-openai"},
              {"type":"function_call","call_id":"c1","name":"f","arguments":"{}"},
              {"type":"function_call_output","call_id":"c1","output":"done"}]}
            """);

        Assert.False(result.Thinking);
        Assert.False(request.ContainsKey("thinking"));
        AssertJson("""[{"type":"tool_use","id":"c1","name":"f","input":{}}]""", request["messages"]![1]!["content"]!);
    }

    [Fact]
    public void RelayReasoningItem_BecomesTheThinkingBlockItCameFrom()
    {
        var (request, result) = ToMessages("""
            {"model":"m","reasoning":{"effort":"low"},"input":[
              {"role":"user","content":"go"},
              {"type":"reasoning","summary":[{"type":"summary_text","text":"Let me check."}],"encrypted_content":"relay-thinking-v1:sig-abc"},
              {"type":"function_call","call_id":"c1","name":"f","arguments":"{}"},
              {"type":"function_call_output","call_id":"c1","output":"done"}]}
            """);

        Assert.True(result.Thinking);
        AssertJson("""[{"type":"thinking","thinking":"Let me check.","signature":"sig-abc"},{"type":"tool_use","id":"c1","name":"f","input":{}}]""", request["messages"]![1]!["content"]!);
    }

    [Fact]
    public void ForcedTool_TurnsThinkingOff()
    {
        var (request, result) = ToMessages("""
            {"model":"m","input":"x","reasoning":{"effort":"high"},"tools":[{"type":"function","name":"f"}],"tool_choice":"required"}
            """);

        Assert.False(result.Thinking);
        Assert.False(request.ContainsKey("thinking"));
    }

    [Fact]
    public void JsonSchemaTextFormat_BecomesOutputConfigFormat()
    {
        var (request, _) = ToMessages("""
            {"model":"m","input":"x","text":{"verbosity":"low","format":{"type":"json_schema","name":"codex_output_schema","strict":true,"schema":{"type":"object","properties":{"a":{"type":"string"}}}}}}
            """);

        AssertJson("""{"format":{"type":"json_schema","schema":{"type":"object","properties":{"a":{"type":"string"}}}}}""", request["output_config"]!);
    }

    [Theory]
    [InlineData("""{"model":"m","input":"x","previous_response_id":"resp_1"}""", "previous_response_id: Relay does not store responses")]
    [InlineData("""{"model":"m","input":"x","conversation":"conv_1"}""", "conversation: ")]
    [InlineData("""{"model":"m","input":"x","background":true}""", "background: ")]
    [InlineData("""{"model":"m","input":[{"type":"item_reference","id":"msg_1"}]}""", "input.0: Relay does not store items")]
    [InlineData("""{"model":"m","input":[{"role":"user","content":[{"type":"input_image","file_id":"file_1"}]}]}""", "input.0.content: input_image needs an image_url")]
    [InlineData("""{"input":"x"}""", "model: Field required")]
    [InlineData("""{"model":"m"}""", "input: Field required")]
    [InlineData("""{"model":"m","input":[]}""", "input: the request has no message")]
    [InlineData("""{"model":"m","input":[{"role":"tool","content":"x"}]}""", "input.0.role: ")]
    [InlineData("""{"model":"m","input":"x","max_output_tokens":0}""", "max_output_tokens: ")]
    [InlineData("""[1]""", "The request body must be a JSON object.")]
    public void StatefulOrInvalidRequests_AreClientErrors_WithTheField(string body, string messageStart)
    {
        var error = Assert.Throws<TranslationException>(() => ToMessages(body));

        Assert.StartsWith(messageStart, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void PreviousResponseIdNull_IsAccepted()
    {
        var (request, _) = ToMessages("""{"model":"m","input":"x","previous_response_id":null,"store":true}""");

        Assert.Equal("m", (string?)request["model"]);
    }
}
