using System.Text;
using Relay.Protocol.Corrections;

namespace Relay.Protocol.Tests.Corrections;

/// <summary>Each provider's real refusal wording, as its server sends it, read into the correction Relay applies.</summary>
public sealed class ProviderRejectionReaderTests
{
    public static TheoryData<string, string, CorrectionKind, long, string?, long?> Refusals => new()
    {
        // DeepSeek (deepseek-chat), also behind Claude Code routers.
        { "deepseek", """{"error":{"message":"Invalid max_tokens value, the valid range of max_tokens is [1, 8192]","type":"invalid_request_error","param":null,"code":"invalid_request_error"}}""", CorrectionKind.MaxOutputTokens, 8192, null, null },
        // OpenAI.
        { "openai", """{"error":{"message":"max_tokens is too large: 128000. This model supports at most 16384 completion tokens, whereas you provided 128000.","type":"invalid_request_error","param":"max_tokens","code":null}}""", CorrectionKind.MaxOutputTokens, 16384, null, null },
        { "openai context", """{"error":{"message":"This model's maximum context length is 4097 tokens. However, you requested 4120 tokens (3120 in the messages, 1000 in the completion). Please reduce the length of the messages or completion.","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}}""", CorrectionKind.ContextWindow, 4097, null, 3120 },
        { "openai rename", """{"error":{"message":"Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.","type":"invalid_request_error","param":"max_tokens","code":"unsupported_parameter"}}""", CorrectionKind.UseMaxCompletionTokens, 0, null, null },
        { "openai sampling", """{"error":{"message":"Unsupported value: 'temperature' does not support 0.2 with this model. Only the default (1) value is supported.","type":"invalid_request_error","param":"temperature","code":"unsupported_value"}}""", CorrectionKind.DropParameter, 0, "temperature", null },
        { "azure", """{"error":{"message":"Unrecognized request argument supplied: stream_options","type":"invalid_request_error","param":null,"code":null}}""", CorrectionKind.DropParameter, 0, "stream_options", null },
        // vLLM, old and new wordings (with the trailing " None" some versions leak).
        { "vllm old", """{"object":"error","message":"This model's maximum context length is 16384 tokens. However, you requested 19591 tokens (9591 in the messages, 10000 in the completion). Please reduce the length of the messages or completion. None","type":"BadRequestError","param":null,"code":400}""", CorrectionKind.ContextWindow, 16384, null, 9591 },
        { "vllm new", """{"object":"error","message":"'max_tokens' or 'max_completion_tokens' is too large: 64000. This model's maximum context length is 64001 tokens and your request has 24235 input tokens (64000 > 64001 - 24235). (parameter=max_tokens, value=64000)","type":"BadRequestError","param":null,"code":400}""", CorrectionKind.ContextWindow, 64001, null, 24235 },
        { "vllm extra", """{"object":"error","message":"[{'type': 'extra_forbidden', 'loc': ('body', 'metadata'), 'msg': 'Extra inputs are not permitted', 'input': {}}]","type":"BadRequestError","param":null,"code":400}""", CorrectionKind.DropParameter, 0, "metadata", null },
        { "vllm tool choice", """{"object":"error","message":"\"auto\" tool choice requires --enable-auto-tool-choice and --tool-call-parser to be set","type":"BadRequestError","param":null,"code":400}""", CorrectionKind.DropParameter, 0, "tool_choice", null },
        // Qwen on DashScope.
        { "qwen", """{"error":{"message":"<400> InternalError.Algo.InvalidParameter: Range of max_tokens should be [1, 8192]","type":"invalid_request_error","param":null,"code":"invalid_parameter_error"}}""", CorrectionKind.MaxOutputTokens, 8192, null, null },
        { "qwen tool choice", """{"error":{"message":"<400> InternalError.Algo.InvalidParameter: The tool_choice parameter does not support being set to required or object in thinking mode","type":"invalid_request_error","param":null,"code":"invalid_parameter_error"}}""", CorrectionKind.DropParameter, 0, "tool_choice", null },
        // Kimi: window and requested total only.
        { "kimi", """{"error":{"message":"Invalid request: Your request exceeded model token limit: 262144 (requested: 269030)","type":"invalid_request_error"}}""", CorrectionKind.ContextWindow, 262144, null, null },
        { "kimi tool choice", """{"error":{"message":"tool_choice 'required' is incompatible with thinking enabled","type":"invalid_request_error"}}""", CorrectionKind.DropParameter, 0, "tool_choice", null },
        // Groq.
        { "groq", """{"error":{"message":"`max_completion_tokens` must be less than or equal to `16384`, the maximum value for `max_completion_tokens` is less than the `context_window` for this model","type":"invalid_request_error","param":"max_completion_tokens"}}""", CorrectionKind.MaxOutputTokens, 16384, null, null },
        { "groq unknown", """{"error":{"message":"property 'store' is unsupported, did you mean 'stop'?","type":"invalid_request_error"}}""", CorrectionKind.DropParameter, 0, "store", null },
        // Gemini's OpenAI-compatible endpoint (an array around the error).
        { "gemini schema", """[{"error":{"code":400,"message":"Invalid JSON payload received. Unknown name \"exclusiveMinimum\" at 'tools[0].function_declarations[0].parameters.properties[0].value': Cannot find field.","status":"INVALID_ARGUMENT"}}]""", CorrectionKind.DropSchemaKeyword, 0, "exclusiveMinimum", null },
        { "gemini field", """[{"error":{"code":400,"message":"Invalid JSON payload received. Unknown name \"top_k\": Cannot find field.","status":"INVALID_ARGUMENT"}}]""", CorrectionKind.DropParameter, 0, "top_k", null },
        { "gemini limit", """{"error":{"code":400,"message":"Unable to submit request because it has a maxOutputTokens value of 65536 but the supported range is from 1 (inclusive) to 65536 (exclusive). Update the value and try again.","status":"INVALID_ARGUMENT"}}""", CorrectionKind.MaxOutputTokens, 65535, null, null },
        // OpenRouter: text and tool input counted apart.
        { "openrouter", """{"error":{"message":"This endpoint's maximum context length is 524288 tokens. However, you requested about 538487 tokens (14474 of text input, 12013 of tool input, 512000 in the output). Please reduce the length of either one.","code":400}}""", CorrectionKind.ContextWindow, 524288, null, 26487 },
        // Together / TGI.
        { "together", """{"error":{"message":"Input validation error: `inputs` tokens + `max_new_tokens` must be <= 4097. Given: 1200 `inputs` tokens and 4096 `max_new_tokens`","type":"invalid_request_error","param":"max_tokens","code":null}}""", CorrectionKind.ContextWindow, 4097, null, 1200 },
        // Volcengine Ark behind Claude Code coding plans.
        { "ark", """{"error":{"code":"InvalidParameter","message":"The parameter max_tokens specified in the request is not valid: integer above maximum value, expected a value <= 32768, but got 64000 instead.","param":"max_tokens","type":"BadRequest"}}""", CorrectionKind.MaxOutputTokens, 32768, null, null },
        // Anthropic and Anthropic-compatible endpoints.
        { "anthropic", """{"type":"error","error":{"type":"invalid_request_error","message":"max_tokens: 128000 > 64000, which is the maximum allowed number of output tokens for claude-sonnet-4-5-20250929"},"request_id":"req_011"}""", CorrectionKind.MaxOutputTokens, 64000, null, null },
        { "anthropic context", """{"type":"error","error":{"type":"invalid_request_error","message":"input length and `max_tokens` exceed context limit: 178959 + 64000 > 200000, decrease input length or `max_tokens` and try again"}}""", CorrectionKind.ContextWindow, 200000, null, 178959 },
        { "anthropic extra", """{"type":"error","error":{"type":"invalid_request_error","message":"context_management: Extra inputs are not permitted"}}""", CorrectionKind.DropParameter, 0, "context_management", null },
        // Bedrock access gateway.
        { "bedrock", """{"detail":"An error occurred (ValidationException) when calling the ConverseStream operation: The maximum tokens you requested exceeds the model limit of 2048. Try again with a maximum tokens value that is lower than 2048."}""", CorrectionKind.MaxOutputTokens, 2048, null, null },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public void ReadsTheProvidersWording(string provider, string body, CorrectionKind kind, long value, string? name, long? input)
    {
        Assert.True(ProviderRejectionReader.TryRead(400, Encoding.UTF8.GetBytes(body), out var correction), provider);

        Assert.Equal(kind, correction.Kind);
        Assert.Equal(value, correction.Value);
        Assert.Equal(name, correction.Name);
        Assert.Equal(input, correction.InputTokens);
    }

    [Fact]
    public void Kimi_InputIsTheTotalLessWhatWasSent()
    {
        ProviderRejectionReader.TryReadMessage("Invalid request: Your request exceeded model token limit: 262144 (requested: 269030)", out var correction);

        Assert.Equal(269030 - 32000, correction.InputGiven(32000));
    }

    public static TheoryData<string> NotCorrectable => new()
    {
        // The prompt alone is too long: a real context overflow that the client answers by compacting.
        """{"error":{"message":"This model's maximum context length is 8192 tokens. However, your messages resulted in 9000 tokens. Please reduce the length of the messages.","type":"invalid_request_error","code":"context_length_exceeded"}}""",
        """{"type":"error","error":{"type":"invalid_request_error","message":"prompt is too long: 208310 tokens > 200000 maximum"}}""",
        // Limits on other parameters are not output limits.
        """{"error":{"message":"top_k must be less than or equal to 100","type":"invalid_request_error"}}""",
        // What the user asked for is never dropped.
        """{"error":{"message":"Unrecognized request argument supplied: messages","type":"invalid_request_error"}}""",
        """{"type":"error","error":{"type":"invalid_request_error","message":"messages.65.content.1.tool_use.text: Extra inputs are not permitted"}}""",
        // No number to learn from (GLM), and plain invalid requests.
        """{"error":{"code":"1210","message":"API 调用参数有误，请检查文档。"}}""",
        """{"type":"error","error":{"type":"invalid_request_error","message":"messages: roles must alternate between \"user\" and \"assistant\""}}""",
        // MiniMax's "(2013)" is an error code, not a limit.
        """{"base_resp":{"status_code":2013,"status_msg":"invalid params, context window exceeds limit (2013)"}}""",
        "<html><body>Bad Request</body></html>",
    };

    [Theory]
    [MemberData(nameof(NotCorrectable))]
    public void LeavesOtherRefusalsAlone(string body) =>
        Assert.False(ProviderRejectionReader.TryRead(400, Encoding.UTF8.GetBytes(body), out _));

    [Fact]
    public void OnlyRefusalStatusesAreRead() =>
        Assert.False(ProviderRejectionReader.TryRead(500, """{"error":{"message":"Invalid max_tokens value, the valid range of max_tokens is [1, 8192]"}}"""u8, out _));
}
