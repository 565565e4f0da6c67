using System.Buffers;
using System.Text.Json;
using System.Text.Json.Nodes;
using Relay.Protocol.OpenAI;
using Relay.Protocol.Translation;

namespace Relay.Protocol.Tests;

/// <summary>Non-streaming responses, tool-argument repair, ids and error mapping.</summary>
public sealed class ResponseAndHelperTests
{
    private static JsonObject Translate(string completionJson, TranslationContext? context = null)
    {
        var completion = JsonSerializer.Deserialize(completionJson, OpenAIJsonContext.Default.ChatCompletionChunk)!;
        var output = new ArrayBufferWriter<byte>();
        ChatResponseTranslator.Write(completion, context ?? new TranslationContext("claude-sonnet-4-6", null), output);
        return JsonNode.Parse(output.WrittenSpan)!.AsObject();
    }

    [Fact]
    public void NonStreaming_BlocksInOrderThinkingTextToolUse_ModelEchoed()
    {
        var message = Translate("""
            {"id":"chatcmpl-9","model":"deepseek-chat","choices":[{"index":0,"message":{"role":"assistant","content":"Let me look.","reasoning_content":"Check files.","tool_calls":[{"id":"call_1","type":"function","function":{"name":"Bash","arguments":"{\"command\":\"ls\"}"}}]},"finish_reason":"tool_calls"}],
             "usage":{"prompt_tokens":30,"completion_tokens":12,"prompt_cache_hit_tokens":20}}
            """);

        Assert.Equal("claude-sonnet-4-6", (string?)message["model"]);
        Assert.StartsWith("msg_", (string?)message["id"], StringComparison.Ordinal);
        var content = message["content"]!.AsArray();
        Assert.Equal(["thinking", "text", "tool_use"], content.Select(c => (string?)c!["type"]).ToArray());
        Assert.Equal(ThinkingSignature.Value, (string?)content[0]!["signature"]);
        Assert.Equal("ls", (string?)content[2]!["input"]!["command"]);
        Assert.Equal("tool_use", (string?)message["stop_reason"]);
        Assert.Equal((10, 20, 12), ((int)message["usage"]!["input_tokens"]!, (int)message["usage"]!["cache_read_input_tokens"]!, (int)message["usage"]!["output_tokens"]!));
    }

    [Fact]
    public void NonStreaming_ThinkTagsInContent_AndStopWithToolCalls()
    {
        var message = Translate("""
            {"choices":[{"index":0,"message":{"role":"assistant","content":"<think>hmm</think>\n\nok","tool_calls":[{"id":"c","function":{"name":"A","arguments":""}}]},"finish_reason":"stop"}]}
            """);

        var content = message["content"]!.AsArray();
        Assert.Equal(("hmm", "ok"), ((string?)content[0]!["thinking"], (string?)content[1]!["text"]));
        Assert.Equal("{}", content[2]!["input"]!.ToJsonString());
        Assert.Equal("tool_use", (string?)message["stop_reason"]);
        Assert.Equal(0, (int)message["usage"]!["input_tokens"]!);
    }

    [Theory]
    [InlineData("stop", "end_turn")]
    [InlineData("length", "max_tokens")]
    [InlineData("content_filter", "refusal")]
    [InlineData(null, "end_turn")]
    public void FinishReasons_MapToStopReasons(string? finish, string expected) =>
        Assert.Equal(expected, StopReasons.FromFinishReason(finish, emittedToolUse: false));

    [Theory]
    [InlineData("{\"a\":1}", "{\"a\":1}", ToolArgumentsOutcome.Valid)]
    [InlineData("", "{}", ToolArgumentsOutcome.Valid)]
    [InlineData("\"{\\\"a\\\":1}\"", "{\"a\":1}", ToolArgumentsOutcome.Repaired)]
    [InlineData("```json\n{\"a\":1}\n```", "{\"a\":1}", ToolArgumentsOutcome.Repaired)]
    [InlineData("{\"a\":1}{\"a\":1}", "{\"a\":1}", ToolArgumentsOutcome.Repaired)]
    [InlineData("{\"a\":[1,2", "{\"a\":[1,2]}", ToolArgumentsOutcome.Repaired)]
    [InlineData("{\"a\":\"unterminated", "{\"a\":\"unterminated\"}", ToolArgumentsOutcome.Repaired)]
    [InlineData("{\"a\":1,", "{\"a\":1}", ToolArgumentsOutcome.Repaired)]
    [InlineData("{\"a\":1,\"b\":", "{\"a\":1}", ToolArgumentsOutcome.Repaired)]
    [InlineData("Sure! {\"a\":1} done", "{\"a\":1}", ToolArgumentsOutcome.Repaired)]
    [InlineData("[1,2]", "{\"_relay_invalid_arguments\":\"[1,2]\"}", ToolArgumentsOutcome.Invalid)]
    [InlineData("nonsense", "{\"_relay_invalid_arguments\":\"nonsense\"}", ToolArgumentsOutcome.Invalid)]
    public void ToolArguments_AreRepairedOrReported_NeverInvalid(string raw, string expected, ToolArgumentsOutcome outcome)
    {
        var result = ToolArguments.Normalize(raw, out var actual);

        Assert.Equal(expected, result);
        Assert.Equal(outcome, actual);
        Assert.Equal(JsonValueKind.Object, JsonDocument.Parse(result).RootElement.ValueKind);
    }

    [Theory]
    [InlineData("call_abc123")]
    [InlineData("functions.Bash:0")]
    [InlineData("weather_0")]
    [InlineData("tool:1/ü")]
    [InlineData("toolu_relay_looks_like_ours")]
    public void ToolIds_RoundTrip(string upstreamId)
    {
        var anthropic = ToolIds.ToAnthropic(upstreamId);

        Assert.Matches("^[a-zA-Z0-9_-]+$", anthropic);
        Assert.Equal(upstreamId, ToolIds.ToUpstream(anthropic));
    }

    [Theory]
    [InlineData(429, null, 429, "rate_limit_error")]
    [InlineData(401, null, 401, "authentication_error")]
    [InlineData(422, null, 400, "invalid_request_error")]
    [InlineData(503, null, 503, "overloaded_error")]
    [InlineData(500, null, 500, "api_error")]
    [InlineData(400, "context_length_exceeded", 400, "invalid_request_error")]
    public void HttpErrors_MapToAnthropicStatusAndType(int upstream, string? code, int status, string type)
    {
        var error = new ChatErrorInfo(code is null ? "Something failed." : "This model's maximum context length is 128000 tokens.", null, code);

        Assert.Equal((status, type), ChatErrorMapper.ForStatus(upstream, error));
    }

    [Fact]
    public void ContextOverflow_MessageCarriesTheWordingClaudeCodeCompactsOn()
    {
        Assert.True(ChatErrorReader.TryRead("""{"error":{"message":"This model's maximum context length is 128000 tokens.","type":"invalid_request_error","code":"context_length_exceeded"}}"""u8, out var error));

        Assert.StartsWith("prompt is too long: ", ChatErrorMapper.Describe("openai", error), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"error":"model 'x' not found"}""", "model 'x' not found")]
    [InlineData("""[{"error":{"code":400,"message":"Invalid JSON payload","status":"INVALID_ARGUMENT"}}]""", "Invalid JSON payload")]
    [InlineData("""{"message":"Not Found"}""", "Not Found")]
    public void ErrorBodies_InEveryVendorShapeAreRead(string body, string message)
    {
        Assert.True(ChatErrorReader.TryRead(System.Text.Encoding.UTF8.GetBytes(body), out var error));
        Assert.Equal(message, error.Message);
    }
}
