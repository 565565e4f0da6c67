using System.Buffers;
using System.Text.Json;
using Relay.Protocol.Anthropic;
using Relay.Protocol.Events;
using Relay.Protocol.OpenAI;

namespace Relay.Protocol.Translation;

/// <summary>
/// The state machine that turns OpenAI <c>chat.completion.chunk</c>s into an Anthropic event stream with exact grammar:
/// <c>message_start</c>, then for each block one <c>content_block_start</c>, its deltas and one <c>content_block_stop</c>
/// with indexes 0, 1, 2…, then <c>message_delta</c> with the final usage, then <c>message_stop</c>, and nothing after.
/// </summary>
/// <remarks>
/// <para>Reasoning (<c>reasoning_content</c>, <c>reasoning</c>, <c>reasoning_details</c>, a leading <c>&lt;think&gt;</c>
/// section) becomes thinking blocks closed with a Relay signature; content becomes text blocks. A chunk carrying several
/// kinds is split in the order thinking, text, tool calls, and its <c>finish_reason</c> counts after its content.</para>
/// <para>Tool calls are collected per call (keyed by <c>index</c>, else by id, else the latest call), each with its
/// own <see cref="ToolArgumentsStream"/>. A call's block opens once its name and id are known (a client cannot take
/// back either), and each upstream fragment then goes out as its own <c>input_json_delta</c> with the part that is
/// still a valid JSON prefix; the block closes as soon as its object is complete, or at the end with the completion.
/// Blocks are sequential, so while one call's block is open, fragments of other calls (interleaved parallel calls)
/// wait in their own buffers and text waits behind it; they follow in order when it closes. Calls still without
/// an id at the end get one; the client never receives invalid tool JSON.</para>
/// <para>The end is written once the finish reason and the usage have both arrived (usage often follows in a
/// choice-less chunk), or at <c>[DONE]</c> / end of input. Output goes to the <see cref="IBufferWriter{T}"/> given;
/// the caller sends it. Not thread-safe: one instance per stream.</para>
/// </remarks>
public sealed class ChatStreamTranslator : IDisposable, IStreamTranslator
{
    private readonly IMessageEvents _events;
    private readonly AnthropicSseEvents? _ownedWriter;
    private readonly TranslationContext _context;
    private readonly ThinkTagSplitter _think = new();
    private readonly Action<bool, string> _emitContent;
    private readonly List<ToolSlot> _tools = [];
    private List<(bool Thinking, string Text)>? _waitingText;
    private ToolSlot? _openTool;
    private int _toolBlocks;
    private BlockKind _open = BlockKind.None;
    private int _nextIndex;
    private string? _finishReason;
    private bool _refused;
    private bool _usageSeen;
    private TokenUsage _usage;

    /// <summary>Translates into Anthropic's SSE stream, written to <paramref name="output"/>.</summary>
    public ChatStreamTranslator(IBufferWriter<byte> output, TranslationContext context)
        : this(new AnthropicSseEvents(output), context)
    {
        _ownedWriter = (AnthropicSseEvents)_events;
    }

    /// <summary>Translates into message events, for whatever protocol the client speaks.</summary>
    public ChatStreamTranslator(IMessageEvents events, TranslationContext context)
    {
        _events = events;
        _context = context;
        _emitContent = EmitContent;
    }

    private enum BlockKind
    {
        None,
        Text,
        Thinking,
        Tool,
    }

    public bool Started { get; private set; }

    /// <summary>True once <c>message_stop</c> was written.</summary>
    public bool Completed { get; private set; }

    /// <summary>True once an <c>error</c> event was written.</summary>
    public bool Failed { get; private set; }

    public bool Terminated => Completed || Failed;

    /// <summary>The usage in Anthropic terms, as the provider reported it (zero when it reported none).</summary>
    public TokenUsage Usage => _usage;

    public bool UsageReported => _usageSeen;

    /// <summary>The <c>error.type</c> of the error event, if one was written.</summary>
    public string? ErrorType { get; private set; }

    public string? ErrorMessage { get; private set; }

    public int RepairedToolCalls { get; private set; }

    public int InvalidToolCalls { get; private set; }

    /// <summary>Writes <c>message_start</c>; called as soon as the provider answered 200, before its first chunk.</summary>
    public void Start()
    {
        if (Started)
        {
            return;
        }

        Started = true;
        // Relay's own estimate until the provider's numbers come with message_delta: clients show context use
        // from the first event.
        _events.MessageStart(_context.MessageId, _context.Model, new TokenUsage { InputTokens = _context.EstimatedInputTokens });
    }

    /// <summary>A keep-alive the client ignores; sent while the provider is silent.</summary>
    public void Ping()
    {
        if (Started && !Terminated)
        {
            _events.Ping();
        }
    }

    /// <summary>Applies one chunk.</summary>
    public void OnChunk(ChatCompletionChunk chunk)
    {
        if (Terminated)
        {
            return; // nothing may follow message_stop or an error
        }

        Start();
        if (chunk.Error is { } error)
        {
            FailWith(error);
            return;
        }

        TakeUsage(chunk.Usage);
        if (chunk.Choices is { } choices)
        {
            foreach (var choice in choices)
            {
                if ((choice.Index ?? 0) != 0)
                {
                    continue; // n > 1 is never requested; ignore stray choices
                }

                TakeUsage(choice.Usage);
                if (choice.Error is { } choiceError)
                {
                    FailWith(choiceError);
                    return;
                }

                if ((choice.Delta ?? choice.Message) is { } delta)
                {
                    ApplyDelta(delta);
                }

                if (!string.IsNullOrEmpty(choice.FinishReason))
                {
                    if (choice.FinishReason == "error")
                    {
                        Fail(ErrorTypes.Api, "The provider ended the stream with finish_reason \"error\".");
                        return;
                    }

                    _finishReason = choice.FinishReason;
                }
            }
        }

        if (_finishReason is not null && _usageSeen)
        {
            Complete();
        }
    }

    /// <summary>The provider sent <c>data: [DONE]</c>.</summary>
    public void OnDone() => Complete();

    /// <summary>The provider's body ended. Without <c>[DONE]</c> or a finish reason the answer is cut short, which the
    /// client must learn (it retries) rather than take as a whole answer.</summary>
    public void OnEndOfInput()
    {
        if (Terminated)
        {
            return;
        }

        if (_finishReason is null)
        {
            Fail(ErrorTypes.Api, "The provider's stream ended before the answer was finished.");
            return;
        }

        Complete();
    }

    /// <summary>Writes an <c>error</c> event; the stream ends there.</summary>
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
        _events.Error(type, message);
    }

    private void FailWith(ChatError error)
    {
        var (type, message) = ChatErrorMapper.ForStream(error);
        Fail(type, message);
    }

    private void TakeUsage(ChatUsage? usage)
    {
        if (usage is null || (usage.PromptTokens is null && usage.CompletionTokens is null))
        {
            return;
        }

        _usage = UsageMapper.ToAnthropic(usage);
        _usageSeen = true;
    }

    private void ApplyDelta(ChatDelta delta)
    {
        var reasoning = delta.ReasoningContent ?? delta.Reasoning;
        if (string.IsNullOrEmpty(reasoning) && delta.ReasoningDetails is { Count: > 0 } details)
        {
            foreach (var detail in details)
            {
                var text = detail.Text ?? detail.Summary;
                if (!string.IsNullOrEmpty(text))
                {
                    EmitThinking(text);
                }
            }
        }
        else if (!string.IsNullOrEmpty(reasoning))
        {
            EmitThinking(reasoning);
        }

        if (!string.IsNullOrEmpty(delta.Content))
        {
            _think.Feed(delta.Content, _emitContent);
        }

        if (!string.IsNullOrEmpty(delta.Refusal))
        {
            _refused = true;
            EmitText(delta.Refusal);
        }

        if (delta.ToolCalls is { } calls)
        {
            for (var i = 0; i < calls.Count; i++)
            {
                var call = calls[i];
                var slot = FindSlot(call);
                if (!string.IsNullOrEmpty(call.Id))
                {
                    slot.Id ??= call.Id;
                }

                slot.Signature ??= call.ExtraContent?.Google?.ThoughtSignature;

                if (call.Function is { } function)
                {
                    if (!string.IsNullOrEmpty(function.Name) && slot.Name is null)
                    {
                        slot.Name = function.Name;
                    }

                    slot.Append(function.Arguments);
                }
            }

            WriteToolBlocks();
        }

        if (delta.FunctionCall is { } legacy)
        {
            var slot = _tools.Count > 0 ? _tools[^1] : NewSlot(null, null);
            slot.Legacy = true;
            slot.Name ??= string.IsNullOrEmpty(legacy.Name) ? null : legacy.Name;
            slot.Append(legacy.Arguments);
            WriteToolBlocks();
        }
    }

    /// <summary>Sends what the open tool block has ready, closes it once its object is complete, and opens the next
    /// call whose name and id are known, in the order the calls began.</summary>
    private void WriteToolBlocks()
    {
        while (true)
        {
            if (_openTool is { } open)
            {
                WriteReady(open);
                if (!open.Arguments.IsComplete)
                {
                    return;
                }

                CloseTool(open);
            }

            var next = _tools.Find(static s => !s.Opened);
            if (next is null || string.IsNullOrEmpty(next.Name) || (next.Id is null && !next.Legacy))
            {
                return;
            }

            OpenTool(next);
        }
    }

    private void OpenTool(ToolSlot slot)
    {
        CloseOpenBlock();
        _events.ToolUseStart(_nextIndex, ToolIds.ToAnthropic(slot.Id, slot.Signature), _context.RestoreToolName(slot.Name!));
        slot.Opened = true;
        _openTool = slot;
        _open = BlockKind.Tool;
        _toolBlocks++;
    }

    private void WriteReady(ToolSlot slot)
    {
        if (slot.Ready.WrittenCount > 0)
        {
            _events.ToolInputDelta(_nextIndex, slot.Ready.WrittenSpan);
            slot.Ready.ResetWrittenCount();
        }
    }

    /// <summary>Ends the open tool block with what completes its arguments, then lets waiting text out.</summary>
    private void CloseTool(ToolSlot slot)
    {
        WriteReady(slot);
        var completion = slot.Arguments.Finish(out var outcome);
        if (outcome == ToolArgumentsOutcome.Repaired)
        {
            RepairedToolCalls++;
        }
        else if (outcome == ToolArgumentsOutcome.Invalid)
        {
            InvalidToolCalls++;
        }

        if (completion.Length > 0)
        {
            _events.ToolInputDelta(_nextIndex, completion);
        }

        WriteBlockStop();
        _open = BlockKind.None;
        _openTool = null;
        if (_waitingText is { Count: > 0 } waiting)
        {
            _waitingText = null;
            foreach (var (thinking, text) in waiting)
            {
                EmitContent(thinking, text);
            }
        }
    }

    /// <summary>Text that arrives while a tool block is open waits for it: the block cannot be reopened later.</summary>
    private bool WaitForOpenTool(bool thinking, string text)
    {
        if (_open != BlockKind.Tool)
        {
            return false;
        }

        (_waitingText ??= []).Add((thinking, text));
        return true;
    }

    /// <summary>Which call a fragment belongs to: by <c>index</c>; without one by id; without either, the latest call.</summary>
    private ToolSlot FindSlot(ChatToolCallDelta call)
    {
        if (call.Index is { } index)
        {
            foreach (var slot in _tools)
            {
                if (slot.Index == index)
                {
                    return slot;
                }
            }

            // A provider that numbers calls but repeats an id under a new index is still one call.
            if (!string.IsNullOrEmpty(call.Id))
            {
                foreach (var slot in _tools)
                {
                    if (slot.Id == call.Id && slot.Index is null)
                    {
                        slot.Index = index;
                        return slot;
                    }
                }
            }

            return NewSlot(index, call.Id);
        }

        if (!string.IsNullOrEmpty(call.Id))
        {
            foreach (var slot in _tools)
            {
                if (slot.Id == call.Id)
                {
                    return slot;
                }
            }

            return NewSlot(null, call.Id);
        }

        return _tools.Count > 0 ? _tools[^1] : NewSlot(null, null);
    }

    private ToolSlot NewSlot(int? index, string? id)
    {
        var slot = new ToolSlot { Index = index, Id = string.IsNullOrEmpty(id) ? null : id };
        _tools.Add(slot);
        return slot;
    }

    private void EmitContent(bool thinking, string text)
    {
        if (thinking)
        {
            EmitThinking(text);
        }
        else
        {
            EmitText(text);
        }
    }

    private void EmitThinking(string text)
    {
        if (WaitForOpenTool(true, text))
        {
            return;
        }

        if (_open != BlockKind.Thinking)
        {
            CloseOpenBlock();
            _events.ThinkingStart(_nextIndex);
            _open = BlockKind.Thinking;
        }

        _events.ThinkingDelta(_nextIndex, text);
    }

    private void EmitText(string text)
    {
        if (WaitForOpenTool(false, text))
        {
            return;
        }

        if (_open != BlockKind.Text)
        {
            CloseOpenBlock();
            _events.TextStart(_nextIndex);
            _open = BlockKind.Text;
        }

        _events.TextDelta(_nextIndex, text);
    }

    private void CloseOpenBlock()
    {
        if (_open == BlockKind.None)
        {
            return;
        }

        if (_open == BlockKind.Tool)
        {
            CloseTool(_openTool!);
            return;
        }

        if (_open == BlockKind.Thinking)
        {
            _events.SignatureDelta(_nextIndex, ThinkingSignature.Value);
        }

        WriteBlockStop();
        _open = BlockKind.None;
    }

    private void WriteBlockStop()
    {
        _events.BlockStop(_nextIndex);
        _nextIndex++;
    }

    private void Complete()
    {
        if (Terminated)
        {
            return;
        }

        Start();
        _think.Flush(_emitContent);
        CloseOpenBlock();
        foreach (var slot in _tools)
        {
            // A call without a name cannot be run or answered; dropping it keeps the turn valid.
            if (!slot.Opened && !string.IsNullOrEmpty(slot.Name))
            {
                OpenTool(slot);
                CloseTool(slot);
            }
        }

        CloseOpenBlock();
        var stopReason = StopReasons.FromFinishReason(_finishReason, _toolBlocks > 0);
        if (_refused && _toolBlocks == 0)
        {
            stopReason = "refusal";
        }

        _events.MessageDelta(stopReason, null, _usage);
        _events.MessageStop();
        Completed = true;
    }

    public void Dispose() => _ownedWriter?.Dispose();

    private sealed class ToolSlot
    {
        public int? Index { get; set; }

        public string? Id { get; set; }

        public string? Name { get; set; }

        public string? Signature { get; set; }

        /// <summary>A legacy <c>function_call</c>, which never has an id.</summary>
        public bool Legacy { get; set; }

        public bool Opened { get; set; }

        public ToolArgumentsStream Arguments { get; } = new();

        /// <summary>Arguments text ready for the client, waiting while the call's block is not open.</summary>
        public ArrayBufferWriter<char> Ready { get; } = new();

        public void Append(string? fragment)
        {
            if (!string.IsNullOrEmpty(fragment))
            {
                Arguments.Append(fragment, Ready);
            }
        }
    }
}
