using System.Buffers;
using System.Text;
using System.Text.Json.Nodes;
using Relay.Protocol.Anthropic;
using Relay.Protocol.Events;
using Relay.Protocol.Tests.Infrastructure;
using static Relay.Protocol.Tests.Responses.ResponsesHarness;

namespace Relay.Protocol.Tests.Responses;

/// <summary>Message events → the Responses API stream and response object a Responses client (Codex) reads.</summary>
public sealed class ResponsesEventsTests
{
    private static readonly TokenUsage Final = new(InputTokens: 20, OutputTokens: 35, CacheCreationInputTokens: 5, CacheReadInputTokens: 1000);

    private static readonly HashSet<string> CustomTools = ["apply_patch"];

    /// <summary>Thinking, text, a function call and a free-form call, as a Claude answer arrives.</summary>
    private static void ClaudeAnswer(IMessageEvents e)
    {
        e.MessageStart("msg_abc", "claude-sonnet-4-5", new TokenUsage { InputTokens = 900 });
        e.ThinkingStart(0);
        e.ThinkingDelta(0, "Read the ");
        e.ThinkingDelta(0, "file.");
        e.SignatureDelta(0, "sig-1");
        e.BlockStop(0);
        e.TextStart(1);
        e.TextDelta(1, "Reading");
        e.TextDelta(1, " it.");
        e.BlockStop(1);
        e.ToolUseStart(2, "toolu_01", "shell_command");
        e.ToolInputDelta(2, "{\"command\":");
        e.ToolInputDelta(2, "\"ls\"}");
        e.BlockStop(2);
        e.ToolUseStart(3, "toolu_02", "apply_patch");
        e.ToolInputDelta(3, "{\"input\":\"*** Begin");
        e.ToolInputDelta(3, " Patch\\n\"}");
        e.BlockStop(3);
        e.MessageDelta("tool_use", null, Final);
        e.MessageStop();
    }

    [Fact]
    public void Stream_TextReasoningAndTwoCalls_IsTheExactResponsesTranscript()
    {
        var text = Stream(ClaudeAnswer, CustomTools);

        AnthropicStream.AssertTranscript("""
            response.created {"type":"response.created","sequence_number":0,"response":{"id":"resp_abc","object":"response","created_at":1760000000,"status":"in_progress","error":null,"incomplete_details":null,"model":"claude-sonnet-4-5","output":[],"usage":null}}
            response.in_progress {"type":"response.in_progress","sequence_number":1,"response":{"id":"resp_abc","object":"response","created_at":1760000000,"status":"in_progress","error":null,"incomplete_details":null,"model":"claude-sonnet-4-5","output":[],"usage":null}}
            response.output_item.added {"type":"response.output_item.added","sequence_number":2,"output_index":0,"item":{"id":"rs_abc_0","type":"reasoning","summary":[]}}
            response.reasoning_summary_part.added {"type":"response.reasoning_summary_part.added","sequence_number":3,"item_id":"rs_abc_0","output_index":0,"summary_index":0,"part":{"type":"summary_text","text":""}}
            response.reasoning_summary_text.delta {"type":"response.reasoning_summary_text.delta","sequence_number":4,"item_id":"rs_abc_0","output_index":0,"summary_index":0,"delta":"Read the "}
            response.reasoning_summary_text.delta {"type":"response.reasoning_summary_text.delta","sequence_number":5,"item_id":"rs_abc_0","output_index":0,"summary_index":0,"delta":"file."}
            response.reasoning_summary_text.done {"type":"response.reasoning_summary_text.done","sequence_number":6,"item_id":"rs_abc_0","output_index":0,"summary_index":0,"text":"Read the file."}
            response.reasoning_summary_part.done {"type":"response.reasoning_summary_part.done","sequence_number":7,"item_id":"rs_abc_0","output_index":0,"summary_index":0,"part":{"type":"summary_text","text":"Read the file."}}
            response.output_item.done {"type":"response.output_item.done","sequence_number":8,"output_index":0,"item":{"id":"rs_abc_0","type":"reasoning","summary":[{"type":"summary_text","text":"Read the file."}],"encrypted_content":"relay-thinking-v1:sig-1"}}
            response.output_item.added {"type":"response.output_item.added","sequence_number":9,"output_index":1,"item":{"id":"msg_abc_1","type":"message","status":"in_progress","role":"assistant","content":[]}}
            response.content_part.added {"type":"response.content_part.added","sequence_number":10,"item_id":"msg_abc_1","output_index":1,"content_index":0,"part":{"type":"output_text","annotations":[],"text":""}}
            response.output_text.delta {"type":"response.output_text.delta","sequence_number":11,"item_id":"msg_abc_1","output_index":1,"content_index":0,"delta":"Reading","logprobs":[]}
            response.output_text.delta {"type":"response.output_text.delta","sequence_number":12,"item_id":"msg_abc_1","output_index":1,"content_index":0,"delta":" it.","logprobs":[]}
            response.output_text.done {"type":"response.output_text.done","sequence_number":13,"item_id":"msg_abc_1","output_index":1,"content_index":0,"text":"Reading it.","logprobs":[]}
            response.content_part.done {"type":"response.content_part.done","sequence_number":14,"item_id":"msg_abc_1","output_index":1,"content_index":0,"part":{"type":"output_text","annotations":[],"text":"Reading it."}}
            response.output_item.done {"type":"response.output_item.done","sequence_number":15,"output_index":1,"item":{"id":"msg_abc_1","type":"message","status":"completed","role":"assistant","content":[{"type":"output_text","annotations":[],"text":"Reading it."}]}}
            response.output_item.added {"type":"response.output_item.added","sequence_number":16,"output_index":2,"item":{"id":"fc_abc_2","type":"function_call","status":"in_progress","arguments":"","call_id":"toolu_01","name":"shell_command"}}
            response.function_call_arguments.delta {"type":"response.function_call_arguments.delta","sequence_number":17,"item_id":"fc_abc_2","output_index":2,"delta":"{\"command\":"}
            response.function_call_arguments.delta {"type":"response.function_call_arguments.delta","sequence_number":18,"item_id":"fc_abc_2","output_index":2,"delta":"\"ls\"}"}
            response.function_call_arguments.done {"type":"response.function_call_arguments.done","sequence_number":19,"item_id":"fc_abc_2","output_index":2,"name":"shell_command","arguments":"{\"command\":\"ls\"}"}
            response.output_item.done {"type":"response.output_item.done","sequence_number":20,"output_index":2,"item":{"id":"fc_abc_2","type":"function_call","status":"completed","arguments":"{\"command\":\"ls\"}","call_id":"toolu_01","name":"shell_command"}}
            response.output_item.added {"type":"response.output_item.added","sequence_number":21,"output_index":3,"item":{"id":"ctc_abc_3","type":"custom_tool_call","status":"in_progress","call_id":"toolu_02","name":"apply_patch","input":""}}
            response.custom_tool_call_input.delta {"type":"response.custom_tool_call_input.delta","sequence_number":22,"item_id":"ctc_abc_3","output_index":3,"delta":"*** Begin Patch\n"}
            response.custom_tool_call_input.done {"type":"response.custom_tool_call_input.done","sequence_number":23,"item_id":"ctc_abc_3","output_index":3,"input":"*** Begin Patch\n"}
            response.output_item.done {"type":"response.output_item.done","sequence_number":24,"output_index":3,"item":{"id":"ctc_abc_3","type":"custom_tool_call","status":"completed","call_id":"toolu_02","name":"apply_patch","input":"*** Begin Patch\n"}}
            response.completed {"type":"response.completed","sequence_number":25,"response":{"id":"resp_abc","object":"response","created_at":1760000000,"status":"completed","error":null,"incomplete_details":null,"model":"claude-sonnet-4-5","output":[
              {"id":"rs_abc_0","type":"reasoning","summary":[{"type":"summary_text","text":"Read the file."}],"encrypted_content":"relay-thinking-v1:sig-1"},
              {"id":"msg_abc_1","type":"message","status":"completed","role":"assistant","content":[{"type":"output_text","annotations":[],"text":"Reading it."}]},
              {"id":"fc_abc_2","type":"function_call","status":"completed","arguments":"{\"command\":\"ls\"}","call_id":"toolu_01","name":"shell_command"},
              {"id":"ctc_abc_3","type":"custom_tool_call","status":"completed","call_id":"toolu_02","name":"apply_patch","input":"*** Begin Patch\n"}],
              "usage":{"input_tokens":1025,"input_tokens_details":{"cached_tokens":1000},"output_tokens":35,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":1060}}}
            """.Replace("[\n", "[").Replace("},\n", "},").Replace("}],\n", "}],"), AnthropicStream.Parse(text));
        Assert.Contains("event: response.completed\ndata: {\"type\":\"response.completed\",\"sequence_number\":25,", text, StringComparison.Ordinal);
    }

    [Fact]
    public void MaxTokens_EndsWithResponseIncomplete_ReasonMaxOutputTokens()
    {
        var events = AnthropicStream.Parse(Stream(e =>
        {
            e.MessageStart("msg_x", "m", default);
            e.TextStart(0);
            e.TextDelta(0, "cut");
            e.BlockStop(0);
            e.MessageDelta("max_tokens", null, new TokenUsage(10, 4, 0, 0));
            e.MessageStop();
        }));

        var last = events[^1];
        Assert.Equal("response.incomplete", last.Name);
        Assert.Equal("incomplete", (string?)last.Data["response"]!["status"]);
        Assert.Equal("""{"reason":"max_output_tokens"}""", last.Data["response"]!["incomplete_details"]!.ToJsonString());
        Assert.Equal(14, (int)last.Data["response"]!["usage"]!["total_tokens"]!);
    }

    [Theory]
    [InlineData("overloaded_error", "Overloaded", "server_is_overloaded")]
    [InlineData("rate_limit_error", "slow down", "rate_limit_exceeded")]
    [InlineData("invalid_request_error", "prompt is too long: 210000 tokens > 200000 maximum", "context_length_exceeded")]
    [InlineData("api_error", "The provider's stream ended before the answer was finished.", "server_error")]
    public void Error_IsResponseFailed_WithACodeCodexReads_AndNothingFollows(string type, string message, string code)
    {
        var events = AnthropicStream.Parse(Stream(e =>
        {
            e.MessageStart("msg_x", "m", default);
            e.TextStart(0);
            e.TextDelta(0, "part");
            e.Error(type, message);
            e.BlockStop(0);
            e.MessageDelta("end_turn", null, default);
            e.MessageStop();
        }));

        var last = events[^1];
        Assert.Equal("response.failed", last.Name);
        var expected = new JsonObject { ["code"] = code, ["message"] = message };
        Assert.True(JsonNode.DeepEquals(expected, last.Data["response"]!["error"]), last.ToString());
        Assert.Equal("failed", (string?)last.Data["response"]!["status"]);
        Assert.Single(events, e => e.Name == "response.failed");
    }

    [Fact]
    public void Ping_IsAnSseComment_AndSequenceNumbersStayConsecutive()
    {
        var text = Stream(e =>
        {
            e.MessageStart("msg_x", "m", default);
            e.Ping();
            e.TextStart(0);
            e.BlockStop(0);
            e.MessageDelta("end_turn", null, default);
            e.MessageStop();
            e.Ping(); // after the end: nothing
        });

        Assert.Contains("\n\n: keep-alive\n\nevent: response.output_item.added", text, StringComparison.Ordinal);
        var events = AnthropicStream.Parse(text.Replace(": keep-alive\n\n", "", StringComparison.Ordinal));
        Assert.Equal(Enumerable.Range(0, events.Count), events.Select(e => (int)e.Data["sequence_number"]!));
        Assert.EndsWith("}\n\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public void EmptyThinking_IsAReasoningItemWithoutSummaryEvents()
    {
        var events = AnthropicStream.Parse(Stream(e =>
        {
            e.MessageStart("msg_x", "m", default);
            e.ThinkingStart(0);
            e.SignatureDelta(0, "sig");
            e.BlockStop(0);
            e.MessageDelta("end_turn", null, default);
            e.MessageStop();
        }));

        Assert.Equal(["response.created", "response.in_progress", "response.output_item.added", "response.output_item.done", "response.completed"], events.Select(e => e.Name));
        Assert.Equal("""{"id":"rs_x_0","type":"reasoning","summary":[],"encrypted_content":"relay-thinking-v1:sig"}""", events[3].Data["item"]!.ToJsonString());
    }

    [Fact]
    public void FreeFormCall_WithOtherJson_PassesTheJsonAsItsInput()
    {
        var events = AnthropicStream.Parse(Stream(e =>
        {
            e.MessageStart("msg_x", "m", default);
            e.ToolUseStart(0, "toolu_9", "apply_patch");
            e.ToolInputDelta(0, "{\"patch\":\"x\",\"other\":1}");
            e.BlockStop(0);
            e.MessageDelta("tool_use", null, default);
            e.MessageStop();
        }, CustomTools));

        Assert.Equal("{\"patch\":\"x\",\"other\":1}", (string?)events.Single(e => e.Name == "response.custom_tool_call_input.done").Data["input"]);
    }

    [Fact]
    public void ObjectEvents_WriteTheSameResponseObjectAsTheStreamsFinalEvent()
    {
        var stream = AnthropicStream.Parse(Stream(ClaudeAnswer, CustomTools));
        var collector = new ResponsesObjectEvents(CustomTools, CreatedAt);
        ClaudeAnswer(collector);
        var output = new ArrayBufferWriter<byte>();
        collector.WriteTo(output);

        var written = JsonNode.Parse(Encoding.UTF8.GetString(output.WrittenSpan));
        Assert.True(JsonNode.DeepEquals(stream[^1].Data["response"], written), written!.ToJsonString());
        Assert.True(collector.Completed);
        Assert.Equal("resp_abc", collector.ResponseId);
    }

    [Fact]
    public void ObjectEvents_AfterAnError_ReportFailed()
    {
        var collector = new ResponsesObjectEvents(null, CreatedAt);
        collector.MessageStart("msg_q", "m", default);
        collector.Error("overloaded_error", "busy");
        var output = new ArrayBufferWriter<byte>();
        collector.WriteTo(output);

        Assert.True(collector.Failed);
        Assert.Equal(("overloaded_error", "busy"), (collector.ErrorType, collector.ErrorMessage));
        Assert.Equal("""{"id":"resp_q","object":"response","created_at":1760000000,"status":"failed","error":{"code":"server_is_overloaded","message":"busy"},"incomplete_details":null,"model":"m","output":[],"usage":null}""",
            Encoding.UTF8.GetString(output.WrittenSpan));
    }

    [Fact]
    public void FailedEvent_EndsAStreamWithResponseFailed_CarryingTheCodeAndMessage()
    {
        var text = Encoding.UTF8.GetString(ResponsesEvents.FailedEvent(ErrorTypes.Overloaded, "Relay is shutting down."));

        Assert.StartsWith("event: response.failed\ndata: ", text, StringComparison.Ordinal);
        Assert.EndsWith("\n\n", text, StringComparison.Ordinal);
        var data = JsonNode.Parse(text.Split('\n')[1]["data: ".Length..])!;
        Assert.Equal("response.failed", (string?)data["type"]);
        var response = data["response"]!;
        Assert.Equal("failed", (string?)response["status"]);
        Assert.StartsWith("resp_", (string?)response["id"], StringComparison.Ordinal);
        Assert.Equal(("server_is_overloaded", "Relay is shutting down."), ((string?)response["error"]!["code"], (string?)response["error"]!["message"]));
    }
}
