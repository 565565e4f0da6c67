using System.Buffers;
using System.Text;
using System.Text.Json.Nodes;
using Relay.Protocol.Translation;
using static Relay.Protocol.Tests.Responses.ResponsesHarness;

namespace Relay.Protocol.Tests.Responses;

/// <summary>Anthropic Messages request → Responses API request (openai-responses providers), and round trips.</summary>
public sealed class MessagesToResponsesRequestTests
{
    private static void AssertJson(string expected, JsonNode? actual) =>
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected), actual), $"expected:\n{JsonNode.Parse(expected)!.ToJsonString()}\nactual:\n{actual?.ToJsonString()}");

    [Fact]
    public void ClaudeCodeToolTurn_IsTheExactResponsesRequest()
    {
        var (request, result) = ToResponses("""
            {"model":"claude-sonnet-4-6","max_tokens":32000,"stream":true,"temperature":1,
             "system":[{"type":"text","text":"x-anthropic-billing-header: cc_version=2.1.330;"},{"type":"text","text":"You are Claude Code.","cache_control":{"type":"ephemeral"}}],
             "thinking":{"type":"enabled","budget_tokens":10000},
             "metadata":{"user_id":"user_abc_account_def_session_123"},
             "tools":[{"name":"Read","description":"Reads a file.","input_schema":{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object","properties":{"file_path":{"type":"string"}},"required":["file_path"],"additionalProperties":false}},
                      {"type":"web_search_20250305","name":"web_search","max_uses":5}],
             "tool_choice":{"type":"auto","disable_parallel_tool_use":true},
             "messages":[
               {"role":"user","content":[{"type":"text","text":"Read a.txt"},{"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBOR"}}]},
               {"role":"assistant","content":[
                 {"type":"thinking","thinking":"Plan.","signature":"relay-responses-reasoning-v1:gAAAAenc"},
                 {"type":"thinking","thinking":"Claude's own.","signature":"EqQBCkYIBx"},
                 {"type":"text","text":"Reading."},
                 {"type":"tool_use","id":"call_A","name":"Read","input":{"file_path":"a.txt"}},
                 {"type":"tool_use","id":"toolu_relay_ZnVuY3Rpb25zLnJlYWQ6Mw","name":"Read","input":{"file_path":"b.txt"}}]},
               {"role":"user","content":[
                 {"type":"tool_result","tool_use_id":"call_A","content":[{"type":"text","text":"A"},{"type":"image","source":{"type":"url","url":"https://x/y.png"}}]},
                 {"type":"text","text":"<system-reminder>ok</system-reminder>"}]}]}
            """);

        AssertJson("""
            {"model":"gpt-5.1-codex","instructions":"You are Claude Code.","input":[
              {"type":"message","role":"user","content":[{"type":"input_text","text":"Read a.txt"},{"type":"input_image","image_url":"data:image/png;base64,iVBOR"}]},
              {"type":"reasoning","summary":[{"type":"summary_text","text":"Plan."}],"encrypted_content":"gAAAAenc"},
              {"type":"message","role":"assistant","content":[{"type":"output_text","text":"Reading."}]},
              {"type":"function_call","call_id":"call_A","name":"Read","arguments":"{\"file_path\":\"a.txt\"}"},
              {"type":"function_call","call_id":"functions.read:3","name":"Read","arguments":"{\"file_path\":\"b.txt\"}"},
              {"type":"function_call_output","call_id":"call_A","output":[{"type":"input_text","text":"A"},{"type":"input_image","image_url":"https://x/y.png"}]},
              {"type":"function_call_output","call_id":"functions.read:3","output":"[no result: the tool call was interrupted before it returned]"},
              {"type":"message","role":"user","content":[{"type":"input_text","text":"<system-reminder>ok</system-reminder>"}]}],
             "tools":[{"type":"function","name":"Read","description":"Reads a file.","parameters":{"type":"object","properties":{"file_path":{"type":"string"}},"required":["file_path"],"additionalProperties":false},"strict":false}],
             "tool_choice":"auto","parallel_tool_calls":false,
             "max_output_tokens":32000,
             "reasoning":{"effort":"medium","summary":"auto"},"include":["reasoning.encrypted_content"],
             "store":false,"stream":true,"prompt_cache_key":"*"}
            """.Replace("\"*\"", JsonValue.Create((string?)request["prompt_cache_key"])!.ToJsonString(), StringComparison.Ordinal), request);
        Assert.Equal(32, ((string?)request["prompt_cache_key"])!.Length);
        Assert.True(result.Stream);
        Assert.Equal(32000, result.MaxTokens);
        Assert.Null(result.ToolNames);
    }

    [Fact]
    public void LongToolNames_AreShortened_AndReportedForTheWayBack()
    {
        var longName = new string('m', 70);
        var (request, result) = ToResponses(
            """{"model":"m","max_tokens":10,"tools":[{"name":"NAME","input_schema":{"type":"object"}}],"tool_choice":{"type":"tool","name":"NAME"},"messages":[{"role":"user","content":"hi"}]}"""
                .Replace("NAME", longName, StringComparison.Ordinal));

        var sent = (string)request["tools"]![0]!["name"]!;
        Assert.True(sent.Length <= 64);
        Assert.Equal(longName, result.ToolNames![sent]);
        AssertJson($$"""{"type":"function","name":"{{sent}}"}""", request["tool_choice"]);
    }

    [Fact]
    public void ErrorResult_IsMarked_AndNoThinking_SendsNoReasoning()
    {
        var (request, _) = ToResponses("""
            {"model":"m","max_tokens":10,"thinking":{"type":"disabled"},"messages":[
              {"role":"user","content":"go"},
              {"role":"assistant","content":[{"type":"tool_use","id":"t1","name":"Bash","input":{}}]},
              {"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","is_error":true,"content":"exit 1"}]}]}
            """);

        AssertJson("""{"type":"function_call_output","call_id":"t1","output":"[tool execution error] exit 1"}""", request["input"]![2]);
        Assert.False(request.ContainsKey("reasoning"));
        Assert.False(request.ContainsKey("include"));
    }

    [Fact]
    public void StructuredOutput_BecomesTextFormat()
    {
        var (request, _) = ToResponses("""
            {"model":"m","max_tokens":10,"output_config":{"format":{"type":"json_schema","schema":{"type":"object","properties":{"a":{"type":"string"}}}}},"messages":[{"role":"user","content":"hi"}]}
            """);

        AssertJson("""{"format":{"type":"json_schema","name":"response","schema":{"type":"object","properties":{"a":{"type":"string"}}},"strict":false}}""", request["text"]);
    }

    /// <summary>Codex → Relay → an openai-responses provider: what reaches the provider keeps the client's meaning.</summary>
    [Fact]
    public void RoundTrip_ResponsesToMessagesToResponses_KeepsTheConversation()
    {
        const string original = """
            {"model":"gpt-5.1-codex","instructions":"Be a coding agent.","store":false,"stream":true,"max_output_tokens":4000,
             "reasoning":{"effort":"high","summary":"auto"},
             "tools":[{"type":"function","name":"shell","description":"Run.","parameters":{"type":"object","properties":{"command":{"type":"array","items":{"type":"string"}}},"required":["command"]},"strict":false}],
             "tool_choice":"auto","parallel_tool_calls":true,
             "input":[
               {"type":"message","role":"user","content":[{"type":"input_text","text":"list"},{"type":"input_image","image_url":"data:image/png;base64,iVBOR"}]},
               {"type":"reasoning","summary":[{"type":"summary_text","text":"Use ls."}],"encrypted_content":"relay-thinking-v1:relay-responses-reasoning-v1:gAAAAenc"},
               {"type":"function_call","call_id":"call_1","name":"shell","arguments":"{\"command\":[\"ls\"]}"},
               {"type":"function_call_output","call_id":"call_1","output":"a.txt"},
               {"type":"message","role":"assistant","content":[{"type":"output_text","text":"One file."}]},
               {"type":"message","role":"user","content":[{"type":"input_text","text":"thanks"}]}]}
            """;

        var messages = new ArrayBufferWriter<byte>();
        var door = ResponsesToMessagesRequest.Write(Encoding.UTF8.GetBytes(original), messages);
        var upstream = new ArrayBufferWriter<byte>();
        var result = MessagesToResponsesRequest.Write(messages.WrittenMemory, "gpt-5.1-codex", upstream);
        var sent = JsonNode.Parse(upstream.WrittenSpan)!.AsObject();

        Assert.True(door.Thinking);
        AssertJson("""
            [{"type":"message","role":"user","content":[{"type":"input_text","text":"list"},{"type":"input_image","image_url":"data:image/png;base64,iVBOR"}]},
             {"type":"reasoning","summary":[{"type":"summary_text","text":"Use ls."}],"encrypted_content":"gAAAAenc"},
             {"type":"function_call","call_id":"call_1","name":"shell","arguments":"{\"command\":[\"ls\"]}"},
             {"type":"function_call_output","call_id":"call_1","output":"a.txt"},
             {"type":"message","role":"assistant","content":[{"type":"output_text","text":"One file."}]},
             {"type":"message","role":"user","content":[{"type":"input_text","text":"thanks"}]}]
            """, sent["input"]);
        Assert.Equal("Be a coding agent.", (string?)sent["instructions"]);
        AssertJson("""[{"type":"function","name":"shell","description":"Run.","parameters":{"type":"object","properties":{"command":{"type":"array","items":{"type":"string"}}},"required":["command"]},"strict":false}]""", sent["tools"]);
        Assert.Equal("auto", (string?)sent["tool_choice"]);
        Assert.Equal(4000, (long)sent["max_output_tokens"]!);
        // high with a 4000-token limit was sent to Anthropic as a 2000-token budget, which reads back as low: the limit wins
        Assert.Equal("low", (string?)sent["reasoning"]!["effort"]);
        Assert.Equal((false, true), ((bool)sent["store"]!, (bool)sent["stream"]!));
        Assert.True(result.Stream);
    }

    /// <summary>Claude Code → Relay (openai-responses) → Claude Code again: the reasoning goes back to the provider.</summary>
    [Fact]
    public void RoundTrip_ProviderReasoning_ReturnsToTheProviderNextTurn()
    {
        var (events, _) = Translate(UpstreamSse(
            """{"type":"response.output_item.done","output_index":0,"item":{"id":"rs_1","type":"reasoning","summary":[{"type":"summary_text","text":"Hmm."}],"encrypted_content":"gAAAAxyz"}}""",
            """{"type":"response.output_item.done","output_index":1,"item":{"id":"fc_1","type":"function_call","call_id":"call_7","name":"Bash","arguments":"{\"command\":\"ls\"}"}}""",
            """{"type":"response.completed","response":{"id":"r","status":"completed"}}"""));
        var assistant = Relay.Protocol.Tests.Infrastructure.AnthropicStream.Content(events);

        var next = new JsonObject
        {
            ["model"] = "m",
            ["max_tokens"] = 100,
            ["thinking"] = new JsonObject { ["type"] = "adaptive" },
            ["messages"] = new JsonArray(
                new JsonObject { ["role"] = "user", ["content"] = "go" },
                new JsonObject { ["role"] = "assistant", ["content"] = assistant.DeepClone() },
                new JsonObject { ["role"] = "user", ["content"] = new JsonArray(new JsonObject { ["type"] = "tool_result", ["tool_use_id"] = "call_7", ["content"] = "a.txt" }) }),
        };
        var (request, _) = ToResponses(next.ToJsonString());

        AssertJson("""
            [{"type":"message","role":"user","content":[{"type":"input_text","text":"go"}]},
             {"type":"reasoning","summary":[{"type":"summary_text","text":"Hmm."}],"encrypted_content":"gAAAAxyz"},
             {"type":"function_call","call_id":"call_7","name":"Bash","arguments":"{\"command\":\"ls\"}"},
             {"type":"function_call_output","call_id":"call_7","output":"a.txt"}]
            """, request["input"]);
    }

    [Fact]
    public void InvalidBodies_AreClientErrors()
    {
        Assert.StartsWith("messages: Field required", Assert.Throws<TranslationException>(() => ToResponses("""{"model":"m","max_tokens":1}""")).Message, StringComparison.Ordinal);
        Assert.StartsWith("The request body is not valid JSON", Assert.Throws<TranslationException>(() => ToResponses("{")).Message, StringComparison.Ordinal);
    }
}
