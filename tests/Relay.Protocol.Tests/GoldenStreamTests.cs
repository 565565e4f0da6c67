using Relay.Protocol.Tests.Infrastructure;
using Relay.Protocol.Translation;

namespace Relay.Protocol.Tests;

/// <summary>Hand-built upstream streams in each provider family's real shape in, exact Anthropic transcripts out.</summary>
/// <remarks>Shapes follow the providers' public fixtures (openai-python snapshots, vercel/ai provider fixtures).
/// <c>"*"</c> stands for generated ids.</remarks>
public sealed class GoldenStreamTests
{
    private const string Start = """message_start {"type":"message_start","message":{"id":"*","type":"message","role":"assistant","model":"claude-sonnet-4-6","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":0,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":0}}}""";

    [Fact]
    public async Task OpenAI_Text_UsageInTrailingChoicelessChunk_WithCachedTokens()
    {
        var upstream = Translate.Sse(
            """{"id":"chatcmpl-1","object":"chat.completion.chunk","model":"gpt-4o","choices":[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}],"usage":null}""",
            """{"id":"chatcmpl-1","object":"chat.completion.chunk","model":"gpt-4o","choices":[{"index":0,"delta":{"content":"Hello"},"finish_reason":null}],"usage":null}""",
            """{"id":"chatcmpl-1","object":"chat.completion.chunk","model":"gpt-4o","choices":[{"index":0,"delta":{"content":" world"},"finish_reason":null}],"usage":null}""",
            """{"id":"chatcmpl-1","object":"chat.completion.chunk","model":"gpt-4o","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":null}""",
            """{"id":"chatcmpl-1","object":"chat.completion.chunk","model":"gpt-4o","choices":[],"usage":{"prompt_tokens":1200,"completion_tokens":2,"total_tokens":1202,"prompt_tokens_details":{"cached_tokens":1024,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0}}}""");

        var (_, events, _) = await Translate.StreamAsync(upstream);

        AnthropicStream.AssertTranscript(Start + """

            content_block_start {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}
            content_block_delta {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello"}}
            content_block_delta {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":" world"}}
            content_block_stop {"type":"content_block_stop","index":0}
            message_delta {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"input_tokens":176,"cache_creation_input_tokens":0,"cache_read_input_tokens":1024,"output_tokens":2}}
            message_stop {"type":"message_stop"}
            """, events);
    }

    [Fact]
    public async Task OpenAI_ParallelToolCalls_InterleavedFragments()
    {
        var upstream = Translate.Sse(
            """{"id":"c","choices":[{"index":0,"delta":{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_a","type":"function","function":{"name":"get_weather","arguments":""}}]},"finish_reason":null}]}""",
            """{"id":"c","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_b","type":"function","function":{"name":"get_time","arguments":""}}]},"finish_reason":null}]}""",
            """{"id":"c","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"city\":"}}]},"finish_reason":null}]}""",
            """{"id":"c","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"function":{"arguments":"{\"tz\":\"UTC\"}"}}]},"finish_reason":null}]}""",
            """{"id":"c","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"Paris\"}"}}]},"finish_reason":null}]}""",
            """{"id":"c","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}""",
            """{"id":"c","choices":[],"usage":{"prompt_tokens":80,"completion_tokens":40,"total_tokens":120}}""");

        var (_, events, _) = await Translate.StreamAsync(upstream);

        AnthropicStream.AssertTranscript(Start + """

            content_block_start {"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"call_a","name":"get_weather","input":{}}}
            content_block_delta {"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{"}}
            content_block_delta {"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"\"city\":\"Paris\"}"}}
            content_block_stop {"type":"content_block_stop","index":0}
            content_block_start {"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"call_b","name":"get_time","input":{}}}
            content_block_delta {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"tz\":\"UTC\"}"}}
            content_block_stop {"type":"content_block_stop","index":1}
            message_delta {"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"input_tokens":80,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":40}}
            message_stop {"type":"message_stop"}
            """, events);
    }

    [Fact]
    public async Task DeepSeek_ReasoningThenTextThenToolCall_FinishAndUsageInOneChunk()
    {
        // deepseek-tool-call.chunks.txt shape: empty reasoning_content first, usage with cache hit fields on the last chunk.
        var upstream = Translate.Sse(
            """{"id":"d","object":"chat.completion.chunk","model":"deepseek-chat","choices":[{"index":0,"delta":{"role":"assistant","content":null,"reasoning_content":""},"finish_reason":null}],"usage":null}""",
            """{"id":"d","choices":[{"index":0,"delta":{"content":null,"reasoning_content":"Need the file list."},"finish_reason":null}]}""",
            """{"id":"d","choices":[{"index":0,"delta":{"content":"Listing.","reasoning_content":null},"finish_reason":null}]}""",
            """{"id":"d","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_00_abc","type":"function","function":{"name":"Bash","arguments":""}}]},"finish_reason":null}]}""",
            """{"id":"d","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"command\":\"ls\"}"}}]},"finish_reason":null}]}""",
            """{"id":"d","choices":[{"index":0,"delta":{"content":""},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":5000,"completion_tokens":30,"total_tokens":5030,"prompt_tokens_details":{"cached_tokens":4864},"prompt_cache_hit_tokens":4864,"prompt_cache_miss_tokens":136}}""");

        var (_, events, _) = await Translate.StreamAsync(upstream);

        AnthropicStream.AssertTranscript(Start + """

            content_block_start {"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":"","signature":""}}
            content_block_delta {"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"Need the file list."}}
            content_block_delta {"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"relay-translated-thinking-v1"}}
            content_block_stop {"type":"content_block_stop","index":0}
            content_block_start {"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}}
            content_block_delta {"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"Listing."}}
            content_block_stop {"type":"content_block_stop","index":1}
            content_block_start {"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"call_00_abc","name":"Bash","input":{}}}
            content_block_delta {"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"{\"command\":\"ls\"}"}}
            content_block_stop {"type":"content_block_stop","index":2}
            message_delta {"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"input_tokens":136,"cache_creation_input_tokens":0,"cache_read_input_tokens":4864,"output_tokens":30}}
            message_stop {"type":"message_stop"}
            """, events);
    }

    [Fact]
    public async Task Kimi_IndexlessParallelToolCalls_UsageInsideChoice_IdsMadeAnthropicSafe()
    {
        // moonshotai-stream-indexless-tool-calls / choice-usage shapes.
        var upstream = Translate.Sse(
            """{"id":"k","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}""",
            """{"id":"k","choices":[{"index":0,"delta":{"tool_calls":[{"id":"functions.Read:0","type":"function","function":{"name":"Read","arguments":"{\"file_path\":\"a.txt\"}"}},{"id":"functions.Read:1","type":"function","function":{"name":"Read","arguments":"{\"file_path\":\"b.txt\"}"}}]},"finish_reason":null}]}""",
            """{"id":"k","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls","usage":{"prompt_tokens":300,"completion_tokens":20,"total_tokens":320,"cached_tokens":256}}],"usage":{"prompt_tokens":300,"completion_tokens":20,"total_tokens":320,"cached_tokens":256}}""");

        var (_, events, _) = await Translate.StreamAsync(upstream);

        AnthropicStream.AssertTranscript(Start + """

            content_block_start {"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"toolu_relay_ZnVuY3Rpb25zLlJlYWQ6MA","name":"Read","input":{}}}
            content_block_delta {"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{\"file_path\":\"a.txt\"}"}}
            content_block_stop {"type":"content_block_stop","index":0}
            content_block_start {"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_relay_ZnVuY3Rpb25zLlJlYWQ6MQ","name":"Read","input":{}}}
            content_block_delta {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"file_path\":\"b.txt\"}"}}
            content_block_stop {"type":"content_block_stop","index":1}
            message_delta {"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"input_tokens":44,"cache_creation_input_tokens":0,"cache_read_input_tokens":256,"output_tokens":20}}
            message_stop {"type":"message_stop"}
            """, events);
        Assert.Equal("functions.Read:1", ToolIds.ToUpstream("toolu_relay_ZnVuY3Rpb25zLlJlYWQ6MQ"));
    }

    [Fact]
    public async Task OpenRouter_ProcessingComments_ReasoningField_StopWithToolCallsBecomesToolUse()
    {
        var upstream = ": OPENROUTER PROCESSING\n\n: OPENROUTER PROCESSING\n\n" + Translate.Sse(
            """{"id":"gen-1","provider":"Anthropic","choices":[{"index":0,"delta":{"role":"assistant","content":"","reasoning":"Think","reasoning_details":[{"type":"reasoning.text","text":"Think"}]},"finish_reason":null}]}""",
            """{"id":"gen-1","choices":[{"index":0,"delta":{"content":"","tool_calls":[{"index":0,"id":"toolu_01","type":"function","function":{"name":"Glob","arguments":"{\"pattern\":\"*.cs\"}"}}]},"finish_reason":null}]}""",
            """{"id":"gen-1","choices":[{"index":0,"delta":{"content":""},"finish_reason":"stop","native_finish_reason":"tool_use"}],"usage":{"prompt_tokens":10,"completion_tokens":5,"total_tokens":15,"prompt_tokens_details":{"cached_tokens":0,"cache_write_tokens":4}}}""");

        var (_, events, _) = await Translate.StreamAsync(upstream);

        AnthropicStream.AssertTranscript(Start + """

            content_block_start {"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":"","signature":""}}
            content_block_delta {"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"Think"}}
            content_block_delta {"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"relay-translated-thinking-v1"}}
            content_block_stop {"type":"content_block_stop","index":0}
            content_block_start {"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_01","name":"Glob","input":{}}}
            content_block_delta {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"pattern\":\"*.cs\"}"}}
            content_block_stop {"type":"content_block_stop","index":1}
            message_delta {"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"input_tokens":6,"cache_creation_input_tokens":4,"cache_read_input_tokens":0,"output_tokens":5}}
            message_stop {"type":"message_stop"}
            """, events);
    }

    [Fact]
    public async Task OpenRouter_FinishReasonErrorMidStream_BecomesErrorEventAndTheStreamEnds()
    {
        var upstream = Translate.Sse(
            """{"id":"gen-2","choices":[{"index":0,"delta":{"content":"Partial"},"finish_reason":null}]}""",
            """{"id":"gen-2","choices":[{"index":0,"delta":{"content":""},"finish_reason":"error","error":{"code":502,"message":"Upstream provider disconnected"}}]}""",
            """{"id":"gen-2","choices":[{"index":0,"delta":{"content":"never shown"},"finish_reason":null}]}""");

        var (_, events, translator) = await Translate.StreamAsync(upstream);

        AnthropicStream.AssertTranscript(Start + """

            content_block_start {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}
            content_block_delta {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Partial"}}
            error {"type":"error","error":{"type":"api_error","message":"Upstream provider disconnected"}}
            """, events);
        Assert.Equal("api_error", translator.ErrorType);
    }

    [Fact]
    public async Task Ollama_ThinkTagsInContent_SplitAcrossChunks_BecomeAThinkingBlock()
    {
        var upstream = Translate.Sse(
            """{"id":"o","model":"qwen3","choices":[{"index":0,"delta":{"role":"assistant","content":"<thi"},"finish_reason":null}]}""",
            """{"id":"o","choices":[{"index":0,"delta":{"content":"nk>Let me see"},"finish_reason":null}]}""",
            """{"id":"o","choices":[{"index":0,"delta":{"content":".</th"},"finish_reason":null}]}""",
            """{"id":"o","choices":[{"index":0,"delta":{"content":"ink>\n\nAnswer: 4"},"finish_reason":null}]}""",
            """{"id":"o","choices":[{"index":0,"delta":{"content":""},"finish_reason":"stop"}]}""",
            """{"id":"o","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":12,"total_tokens":21}}""");

        var (_, events, _) = await Translate.StreamAsync(upstream);

        AnthropicStream.AssertTranscript(Start + """

            content_block_start {"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":"","signature":""}}
            content_block_delta {"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"Let me see"}}
            content_block_delta {"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"."}}
            content_block_delta {"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"relay-translated-thinking-v1"}}
            content_block_stop {"type":"content_block_stop","index":0}
            content_block_start {"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}}
            content_block_delta {"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"Answer: 4"}}
            content_block_stop {"type":"content_block_stop","index":1}
            message_delta {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"input_tokens":9,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":12}}
            message_stop {"type":"message_stop"}
            """, events);
    }

    [Fact]
    public async Task Gemini_WholeToolCallInOneFragmentWithoutIndex_NoDone()
    {
        // Gemini's OpenAI endpoint: complete arguments at once, no index, stream ends without [DONE].
        var upstream = string.Concat(
            "data: {\"id\":\"g\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"tool_calls\":[{\"id\":\"function-call-1\",\"type\":\"function\",\"function\":{\"name\":\"Grep\",\"arguments\":\"{\\\"pattern\\\":\\\"TODO\\\"}\"}}]},\"finish_reason\":\"tool_calls\"}],\"usage\":{\"prompt_tokens\":70,\"completion_tokens\":9,\"total_tokens\":79}}\r\n\r\n");

        var (_, events, _) = await Translate.StreamAsync(upstream);

        AnthropicStream.AssertTranscript(Start + """

            content_block_start {"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"function-call-1","name":"Grep","input":{}}}
            content_block_delta {"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{\"pattern\":\"TODO\"}"}}
            content_block_stop {"type":"content_block_stop","index":0}
            message_delta {"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"input_tokens":70,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":9}}
            message_stop {"type":"message_stop"}
            """, events);
    }

    [Fact]
    public async Task Qwen_ReasoningContentThenToolCallWithLateName()
    {
        var upstream = Translate.Sse(
            """{"id":"q","choices":[{"index":0,"delta":{"role":"assistant","reasoning_content":"Plan."},"finish_reason":null}]}""",
            """{"id":"q","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_q1","type":"function","function":{"arguments":""}}]},"finish_reason":null}]}""",
            """{"id":"q","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"name":"Write","arguments":"{\"file_path\":\"x\","}}]},"finish_reason":null}]}""",
            """{"id":"q","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"content\":\"y\"}"}}]},"finish_reason":"tool_calls"}]}""",
            """{"id":"q","choices":[],"usage":{"prompt_tokens":50,"completion_tokens":25,"total_tokens":75,"prompt_tokens_details":{"cached_tokens":0}}}""");

        var (_, events, _) = await Translate.StreamAsync(upstream);

        AnthropicStream.AssertTranscript(Start + """

            content_block_start {"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":"","signature":""}}
            content_block_delta {"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"Plan."}}
            content_block_delta {"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"relay-translated-thinking-v1"}}
            content_block_stop {"type":"content_block_stop","index":0}
            content_block_start {"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"call_q1","name":"Write","input":{}}}
            content_block_delta {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"file_path\":\"x\""}}
            content_block_delta {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":",\"content\":\"y\"}"}}
            content_block_stop {"type":"content_block_stop","index":1}
            message_delta {"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"input_tokens":50,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":25}}
            message_stop {"type":"message_stop"}
            """, events);
    }

    [Fact]
    public async Task Glm_FakeStreaming_EverythingAndFinishInOneChunk()
    {
        var upstream = Translate.Sse(
            """{"id":"z","choices":[{"index":0,"delta":{"role":"assistant","reasoning_content":"Short.","content":"Done.","tool_calls":[{"index":0,"id":"call_z","type":"function","function":{"name":"TodoWrite","arguments":"{\"todos\":[]}"}}]},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":20,"completion_tokens":8,"total_tokens":28,"prompt_tokens_details":{"cached_tokens":16}}}""");

        var (_, events, _) = await Translate.StreamAsync(upstream);

        AnthropicStream.AssertTranscript(Start + """

            content_block_start {"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":"","signature":""}}
            content_block_delta {"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"Short."}}
            content_block_delta {"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"relay-translated-thinking-v1"}}
            content_block_stop {"type":"content_block_stop","index":0}
            content_block_start {"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}}
            content_block_delta {"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"Done."}}
            content_block_stop {"type":"content_block_stop","index":1}
            content_block_start {"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"call_z","name":"TodoWrite","input":{}}}
            content_block_delta {"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"{\"todos\":[]}"}}
            content_block_stop {"type":"content_block_stop","index":2}
            message_delta {"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"input_tokens":4,"cache_creation_input_tokens":0,"cache_read_input_tokens":16,"output_tokens":8}}
            message_stop {"type":"message_stop"}
            """, events);
    }

    [Fact]
    public async Task Groq_LengthFinish_BecomesMaxTokens()
    {
        var upstream = Translate.Sse(
            """{"id":"q","choices":[{"index":0,"delta":{"role":"assistant","content":"Once upon"},"finish_reason":null}]}""",
            """{"id":"q","choices":[{"index":0,"delta":{},"finish_reason":"length"}],"x_groq":{"id":"req_1"},"usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}}""");

        var (_, events, _) = await Translate.StreamAsync(upstream);

        Assert.Equal("max_tokens", (string?)AnthropicStream.Find(events, "message_delta")!["delta"]!["stop_reason"]);
        Assert.Empty(AnthropicStream.Problems(events));
    }

    [Fact]
    public async Task Gemini3_ThoughtSignatureOnAToolCall_TravelsInTheIdAndGoesBackWithTheCall()
    {
        var upstream = Translate.Sse(
            """{"id":"g","choices":[{"index":0,"delta":{"role":"assistant","tool_calls":[{"id":"function-call-7","type":"function","function":{"name":"Read","arguments":"{\"file_path\":\"a\"}"},"extra_content":{"google":{"thought_signature":"CiQB0e2Kb+sig=="}}}]},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":3,"completion_tokens":2}}""");

        var (_, events, _) = await Translate.StreamAsync(upstream);
        var id = (string)AnthropicStream.Content(events)[0]!["id"]!;

        Assert.Matches("^[a-zA-Z0-9_-]+$", id);
        var (request, _) = Translate.Request(("""
            {"model":"m","max_tokens":10,"messages":[{"role":"user","content":"go"},{"role":"assistant","content":[{"type":"tool_use","id":"@ID@","name":"Read","input":{"file_path":"a"}}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"@ID@","content":"text"}]}]}
            """).Replace("@ID@", id, StringComparison.Ordinal), ChatPresets.Gemini, "gemini-3-pro-preview");
        var call = Translate.Messages(request)[1]!["tool_calls"]![0]!;
        Assert.Equal("function-call-7", (string?)call["id"]);
        Assert.Equal("CiQB0e2Kb+sig==", (string?)call["extra_content"]!["google"]!["thought_signature"]);
        Assert.Equal("function-call-7", (string?)Translate.Messages(request)[2]!["tool_call_id"]);
    }

    [Fact]
    public async Task Vllm_EmptyToolCallsArrayOnEveryChunk_PlaceholderFirstChunk()
    {
        // openai-compatible fixtures issue-20203-empty-tool-calls and placeholder-first-chunk: an Azure-style first chunk
        // with no choices, tool_calls: [] on every chunk, content and finish_reason together.
        var upstream = Translate.Sse(
            """{"id":"","object":"","created":0,"model":"","choices":[],"prompt_filter_results":[{"prompt_index":0}]}""",
            """{"id":"v","model":"qwen3","choices":[{"index":0,"delta":{"role":"assistant","content":"","tool_calls":[]},"logprobs":null,"finish_reason":null}]}""",
            """{"id":"v","choices":[{"index":0,"delta":{"content":"Hi","tool_calls":[]},"finish_reason":null}]}""",
            """{"id":"v","choices":[{"index":0,"delta":{"content":"!","tool_calls":[]},"finish_reason":"stop","stop_reason":null}]}""",
            """{"id":"v","choices":[],"usage":{"prompt_tokens":12,"total_tokens":14,"completion_tokens":2,"prompt_tokens_details":null}}""");

        var (_, events, _) = await Translate.StreamAsync(upstream);

        AnthropicStream.AssertTranscript(Start + """

            content_block_start {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}
            content_block_delta {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}
            content_block_delta {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"!"}}
            content_block_stop {"type":"content_block_stop","index":0}
            message_delta {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"input_tokens":12,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":2}}
            message_stop {"type":"message_stop"}
            """, events);
    }

    [Fact]
    public async Task Together_ThinkSectionThenToolCall_InOneStream()
    {
        var upstream = Translate.Sse(
            """{"id":"t","choices":[{"index":0,"delta":{"role":"assistant","content":"<think>\nNeed a file.\n</think>\n\n"},"finish_reason":null}]}""",
            """{"id":"t","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_t","type":"function","function":{"name":"Read","arguments":"{\"file_path\":\"x\"}"}}]},"finish_reason":null}]}""",
            """{"id":"t","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":40,"completion_tokens":15,"total_tokens":55}}""");

        var (_, events, _) = await Translate.StreamAsync(upstream);

        AnthropicStream.AssertTranscript(Start + """

            content_block_start {"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":"","signature":""}}
            content_block_delta {"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"\nNeed a file.\n"}}
            content_block_delta {"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"relay-translated-thinking-v1"}}
            content_block_stop {"type":"content_block_stop","index":0}
            content_block_start {"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"call_t","name":"Read","input":{}}}
            content_block_delta {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"file_path\":\"x\"}"}}
            content_block_stop {"type":"content_block_stop","index":1}
            message_delta {"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"input_tokens":40,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":15}}
            message_stop {"type":"message_stop"}
            """, events);
    }
}
