using System.Buffers;
using System.Text;
using System.Text.Json;
using Relay.Protocol.Anthropic;
using Relay.Protocol.Events;
using Relay.Protocol.OpenAI;

namespace Relay.Protocol.Translation;

/// <summary>Turns a provider's OpenAI Responses API stream (or a whole <c>response</c> object) into message events.</summary>
/// <remarks>
/// <para>Output items become blocks in order: a <c>message</c>'s text a text block, a <c>reasoning</c> item's summary
/// (or raw reasoning text) a thinking block whose signature carries the item's <c>encrypted_content</c>
/// (<see cref="ResponsesReasoning"/>) so it goes back to the provider next turn, a <c>function_call</c> a tool_use
/// block whose arguments stream through <see cref="ToolArgumentsStream"/> (the client never receives invalid JSON).
/// Items the provider only completes in <c>response.output_item.done</c> are taken from there. The end comes from
/// <c>response.completed</c> / <c>response.incomplete</c> (with the usage); <c>response.failed</c> and <c>error</c>
/// fail the answer, and so does a stream that ends before either.</para>
/// <para>The provider sends items one after another; should an event for another item arrive while a block is open,
/// that block is closed first. Not thread-safe: one instance per stream.</para>
/// </remarks>
public sealed class ResponsesStreamTranslator(IMessageEvents events, TranslationContext context) : IStreamTranslator
{
    private readonly ArrayBufferWriter<char> _ready = new();
    private BlockKind _open = BlockKind.None;
    private string? _openItem;
    private bool _openHasContent;
    private ToolArgumentsStream? _arguments;
    private int _nextIndex;
    private int _toolBlocks;
    private bool _refused;

    private enum BlockKind
    {
        None,
        Text,
        Thinking,
        Tool,
    }

    public bool Started { get; private set; }

    public bool Completed { get; private set; }

    public bool Failed { get; private set; }

    public bool Terminated => Completed || Failed;

    /// <summary>The usage in Anthropic terms, as the provider reported it (zero when it reported none).</summary>
    public TokenUsage Usage { get; private set; }

    public bool UsageReported { get; private set; }

    public string? ErrorType { get; private set; }

    public string? ErrorMessage { get; private set; }

    public int RepairedToolCalls { get; private set; }

    public int InvalidToolCalls { get; private set; }

    /// <summary>Parses one SSE item of a Responses stream from its bytes; null for what is not an event (noise).</summary>
    public static ResponsesStreamEvent? Parse(string eventType, ReadOnlySpan<byte> data)
    {
        var trimmed = data.Trim(" \r\n\t"u8);
        if (trimmed.IsEmpty || trimmed.SequenceEqual("[DONE]"u8))
        {
            return null;
        }

        try
        {
            var parsed = JsonSerializer.Deserialize(trimmed, OpenAIJsonContext.Default.ResponsesStreamEvent);
            if (parsed is not null && parsed.Type is null)
            {
                parsed.Type = eventType; // a server that names the event only in the SSE field
            }

            return parsed;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>Sends the start of the message; called as soon as the provider answered 200.</summary>
    public void Start()
    {
        if (Started)
        {
            return;
        }

        Started = true;
        events.MessageStart(context.MessageId, context.Model, new TokenUsage { InputTokens = context.EstimatedInputTokens });
    }

    public void Ping()
    {
        if (Started && !Terminated)
        {
            events.Ping();
        }
    }

    /// <summary>Applies one stream event.</summary>
    public void OnEvent(ResponsesStreamEvent e)
    {
        if (Terminated)
        {
            return;
        }

        Start();
        switch (e.Type)
        {
            case "response.output_item.added" when e.Item is { Type: "function_call" } call:
                OpenTool(call);
                break;
            case "response.output_text.delta":
                EmitText(e.ItemId, e.Delta);
                break;
            case "response.refusal.delta":
                _refused = true;
                EmitText(e.ItemId, e.Delta);
                break;
            case "response.reasoning_summary_part.added" when e.SummaryIndex > 0 && _open == BlockKind.Thinking && _openItem == e.ItemId:
                EmitThinking(e.ItemId, "\n\n"); // parts of one summary read as paragraphs
                break;
            case "response.reasoning_summary_text.delta" or "response.reasoning_text.delta":
                EmitThinking(e.ItemId, e.Delta);
                break;
            case "response.function_call_arguments.delta" when _open == BlockKind.Tool && _openItem == e.ItemId:
                AppendArguments(e.Delta);
                break;
            case "response.function_call_arguments.done" when _open == BlockKind.Tool && _openItem == e.ItemId && !_openHasContent:
                AppendArguments(e.Arguments);
                break;
            case "response.output_item.done" when e.Item is { } item:
                FinishItem(item);
                break;
            case "response.completed" or "response.incomplete":
                TakeUsage(e.Response?.Usage);
                Complete(e.Response?.IncompleteDetails?.Reason ?? (e.Type == "response.incomplete" ? "max_output_tokens" : null));
                break;
            case "response.failed":
                FailWith(e.Response?.Error?.Code, e.Response?.Error?.Message ?? "The provider reported that the response failed.");
                break;
            case "error":
                FailWith(e.Code ?? e.Error?.Code ?? e.Error?.Type, e.Message ?? e.Error?.Message ?? "The provider sent an error event.");
                break;
            default:
                break; // created, in_progress, content parts, web search progress…
        }
    }

    /// <summary>Emits a whole non-streaming <c>response</c> object: its items in order, then its end.</summary>
    public void OnResponse(ResponseObject response)
    {
        Start();
        if (response.Status == "failed" || response.Error is not null)
        {
            FailWith(response.Error?.Code, response.Error?.Message ?? "The provider reported that the response failed.");
            return;
        }

        foreach (var item in response.Output ?? [])
        {
            if (item.Type == "function_call")
            {
                OpenTool(item);
            }

            FinishItem(item);
        }

        TakeUsage(response.Usage);
        Complete(response.IncompleteDetails?.Reason ?? (response.Status == "incomplete" ? "max_output_tokens" : null));
    }

    /// <summary>The provider's body ended; without a final event the answer was cut short, which the client must learn.</summary>
    public void OnEndOfInput()
    {
        if (!Terminated)
        {
            Fail(ErrorTypes.Api, "The provider's stream ended before the answer was finished.");
        }
    }

    public void Fail(string type, string message)
    {
        if (Terminated)
        {
            return;
        }

        Start();
        Failed = true;
        ErrorType = type;
        ErrorMessage = message;
        events.Error(type, message);
    }

    private void FailWith(string? code, string message)
    {
        var type = code switch
        {
            "rate_limit_exceeded" => ErrorTypes.RateLimit,
            "server_is_overloaded" or "slow_down" => ErrorTypes.Overloaded,
            "insufficient_quota" => ErrorTypes.Billing,
            "context_length_exceeded" or "invalid_prompt" or "invalid_request_error" => ErrorTypes.InvalidRequest,
            _ => ErrorTypes.Api,
        };
        // The words Claude Code answers by compacting the conversation.
        Fail(type, code == "context_length_exceeded" ? $"{ChatErrorMapper.PromptTooLong}: {message}" : message);
    }

    private void TakeUsage(ResponseUsage? usage)
    {
        if (usage is null || (usage.InputTokens is null && usage.OutputTokens is null))
        {
            return;
        }

        Usage = UsageMapper.ToAnthropic(usage);
        UsageReported = true;
    }

    private void FinishItem(ResponseOutputItem item)
    {
        switch (item.Type)
        {
            case "message":
                if (!(_open == BlockKind.Text && _openItem == item.Id && _openHasContent))
                {
                    foreach (var part in item.Content ?? [])
                    {
                        _refused |= part.Type == "refusal";
                        EmitText(item.Id, part.Type == "refusal" ? part.Refusal : part.Text);
                    }
                }

                if (_open == BlockKind.Text && _openItem == item.Id)
                {
                    CloseOpenBlock();
                }

                break;
            case "reasoning":
                FinishReasoning(item);
                break;
            case "function_call":
                if (!(_open == BlockKind.Tool && _openItem == item.Id))
                {
                    OpenTool(item);
                }

                if (!_openHasContent)
                {
                    AppendArguments(item.Arguments);
                }

                CloseOpenBlock();
                break;
            case "custom_tool_call":
                OpenTool(item);
                var input = new ArrayBufferWriter<byte>();
                using (var writer = new Utf8JsonWriter(input))
                {
                    writer.WriteStartObject();
                    writer.WriteString("input"u8, item.Input ?? "");
                    writer.WriteEndObject();
                }

                AppendArguments(Encoding.UTF8.GetString(input.WrittenSpan));
                CloseOpenBlock();
                break;
            default:
                break; // web_search_call and other built-in tools' items: nothing a Messages client can take
        }
    }

    private void FinishReasoning(ResponseOutputItem item)
    {
        if (!(_open == BlockKind.Thinking && _openItem == item.Id))
        {
            var summary = item.Summary is { Count: > 0 } parts
                ? string.Join("\n\n", parts.Select(p => p.Text).Where(t => !string.IsNullOrEmpty(t)))
                : string.Join("\n\n", (item.Content ?? []).Select(p => p.Text).Where(t => !string.IsNullOrEmpty(t)));
            if (summary.Length == 0 && string.IsNullOrEmpty(item.EncryptedContent))
            {
                return;
            }

            OpenBlock(BlockKind.Thinking, item.Id);
            if (summary.Length > 0)
            {
                events.ThinkingDelta(_nextIndex, summary);
            }
        }

        // The encrypted state goes back to the provider next turn; without it, a mark that Relay made the block.
        events.SignatureDelta(_nextIndex, string.IsNullOrEmpty(item.EncryptedContent)
            ? ThinkingSignature.Value
            : ResponsesReasoning.SignatureFor(item.EncryptedContent));
        events.BlockStop(_nextIndex++);
        _open = BlockKind.None;
        _openItem = null;
    }

    private void OpenTool(ResponseOutputItem call)
    {
        OpenBlock(BlockKind.Tool, call.Id);
        _arguments = new ToolArgumentsStream();
        events.ToolUseStart(_nextIndex, ToolIds.ToAnthropic(call.CallId ?? call.Id), context.RestoreToolName(call.Name ?? ""));
        _toolBlocks++;
    }

    private void AppendArguments(string? fragment)
    {
        if (_arguments is null || string.IsNullOrEmpty(fragment))
        {
            return;
        }

        _openHasContent = true;
        _arguments.Append(fragment, _ready);
        if (_ready.WrittenCount > 0)
        {
            events.ToolInputDelta(_nextIndex, _ready.WrittenSpan);
            _ready.ResetWrittenCount();
        }
    }

    private void EmitText(string? itemId, string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return;
        }

        if (!(_open == BlockKind.Text && _openItem == itemId))
        {
            OpenBlock(BlockKind.Text, itemId);
        }

        _openHasContent = true;
        events.TextDelta(_nextIndex, text);
    }

    private void EmitThinking(string? itemId, string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return;
        }

        if (!(_open == BlockKind.Thinking && _openItem == itemId))
        {
            OpenBlock(BlockKind.Thinking, itemId);
        }

        _openHasContent = true;
        events.ThinkingDelta(_nextIndex, text);
    }

    /// <summary>Closes the open block and opens one of <paramref name="kind"/> for an item.</summary>
    private void OpenBlock(BlockKind kind, string? itemId)
    {
        CloseOpenBlock();
        _open = kind;
        _openItem = itemId;
        _openHasContent = false;
        switch (kind)
        {
            case BlockKind.Text:
                events.TextStart(_nextIndex);
                break;
            case BlockKind.Thinking:
                events.ThinkingStart(_nextIndex);
                break;
            default:
                break; // a tool block starts with its id and name, in OpenTool
        }
    }

    private void CloseOpenBlock()
    {
        switch (_open)
        {
            case BlockKind.None:
                return;
            case BlockKind.Thinking:
                events.SignatureDelta(_nextIndex, ThinkingSignature.Value);
                break;
            case BlockKind.Tool:
                var completion = _arguments!.Finish(out var outcome);
                RepairedToolCalls += outcome == ToolArgumentsOutcome.Repaired ? 1 : 0;
                InvalidToolCalls += outcome == ToolArgumentsOutcome.Invalid ? 1 : 0;
                if (completion.Length > 0)
                {
                    events.ToolInputDelta(_nextIndex, completion);
                }

                _arguments = null;
                break;
            default:
                break;
        }

        events.BlockStop(_nextIndex++);
        _open = BlockKind.None;
        _openItem = null;
    }

    private void Complete(string? incompleteReason)
    {
        CloseOpenBlock();
        var stopReason = _toolBlocks > 0 ? "tool_use"
            : incompleteReason == "max_output_tokens" ? "max_tokens"
            : incompleteReason == "content_filter" || _refused ? "refusal"
            : "end_turn";
        events.MessageDelta(stopReason, null, Usage);
        events.MessageStop();
        Completed = true;
    }
}
