using System.Buffers;
using System.Text;
using System.Text.Json;
using Relay.Protocol.Anthropic;
using Relay.Protocol.Json;
using Relay.Protocol.OpenAI;

namespace Relay.Protocol.Translation;

/// <summary>The outcome of translating a non-streaming answer.</summary>
public readonly record struct ChatResponseResult(TokenUsage Usage, bool UsageReported, int RepairedToolCalls, int InvalidToolCalls);

/// <summary>A non-streaming <c>chat.completion</c> to an Anthropic <c>message</c>: blocks in the order thinking, text,
/// tool_use; stop reason and usage mapped as in streams.</summary>
public static class ChatResponseTranslator
{
    public static ChatResponseResult Write(ChatCompletion completion, TranslationContext context, IBufferWriter<byte> output)
    {
        var choice = completion.Choices?.Find(c => (c.Index ?? 0) == 0);
        var message = choice?.Message ?? choice?.Delta;

        var thinking = new StringBuilder();
        var text = new StringBuilder();
        if (message is not null)
        {
            var reasoning = message.ReasoningContent ?? message.Reasoning;
            if (!string.IsNullOrEmpty(reasoning))
            {
                thinking.Append(reasoning);
            }
            else if (message.ReasoningDetails is { } details)
            {
                foreach (var detail in details)
                {
                    thinking.Append(detail.Text ?? detail.Summary);
                }
            }

            if (!string.IsNullOrEmpty(message.Content))
            {
                var splitter = new ThinkTagSplitter();
                void Emit(bool isThinking, string piece) => (isThinking ? thinking : text).Append(piece);
                splitter.Feed(message.Content, Emit);
                splitter.Flush(Emit);
            }

            if (!string.IsNullOrEmpty(message.Refusal))
            {
                text.Append(message.Refusal);
            }
        }

        var usage = completion.Usage ?? choice?.Usage;
        var anthropicUsage = usage is null ? default : UsageMapper.ToAnthropic(usage);
        int repaired = 0, invalid = 0, tools = 0;

        using var w = new Utf8JsonWriter(output, ProtocolJson.WriterOptions);
        w.WriteStartObject();
        w.WriteString("id"u8, context.MessageId);
        w.WriteString("type"u8, "message"u8);
        w.WriteString("role"u8, "assistant"u8);
        w.WriteString("model"u8, context.Model);
        w.WriteStartArray("content"u8);
        if (thinking.Length > 0)
        {
            w.WriteStartObject();
            w.WriteString("type"u8, "thinking"u8);
            w.WriteString("thinking"u8, thinking.ToString());
            w.WriteString("signature"u8, ThinkingSignature.Value);
            w.WriteEndObject();
        }

        if (text.Length > 0)
        {
            w.WriteStartObject();
            w.WriteString("type"u8, "text"u8);
            w.WriteString("text"u8, text.ToString());
            w.WriteEndObject();
        }

        var calls = message?.ToolCalls ?? [];
        if (message?.FunctionCall is { } legacy)
        {
            calls = [.. calls, new ChatToolCallDelta { Function = legacy }];
        }

        foreach (var call in calls)
        {
            if (string.IsNullOrEmpty(call.Function?.Name))
            {
                continue;
            }

            var arguments = ToolArguments.Normalize(call.Function.Arguments, out var outcome);
            repaired += outcome == ToolArgumentsOutcome.Repaired ? 1 : 0;
            invalid += outcome == ToolArgumentsOutcome.Invalid ? 1 : 0;
            w.WriteStartObject();
            w.WriteString("type"u8, "tool_use"u8);
            w.WriteString("id"u8, ToolIds.ToAnthropic(call.Id, call.ExtraContent?.Google?.ThoughtSignature));
            w.WriteString("name"u8, context.RestoreToolName(call.Function.Name));
            w.WritePropertyName("input"u8);
            w.WriteRawValue(arguments, skipInputValidation: false);
            w.WriteEndObject();
            tools++;
        }

        w.WriteEndArray();
        var stopReason = StopReasons.FromFinishReason(choice?.FinishReason, tools > 0);
        if (tools == 0 && !string.IsNullOrEmpty(message?.Refusal))
        {
            stopReason = "refusal";
        }

        w.WriteString("stop_reason"u8, stopReason);
        w.WriteNull("stop_sequence"u8);
        UsageJson.Write(w, anthropicUsage);
        w.WriteEndObject();
        w.Flush();
        return new ChatResponseResult(anthropicUsage, usage is not null, repaired, invalid);
    }
}
