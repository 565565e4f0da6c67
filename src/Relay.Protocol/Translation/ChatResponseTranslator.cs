using System.Buffers;
using Relay.Protocol.Anthropic;
using Relay.Protocol.Events;
using Relay.Protocol.OpenAI;

namespace Relay.Protocol.Translation;

/// <summary>The outcome of translating a non-streaming answer.</summary>
public readonly record struct ChatResponseResult(TokenUsage Usage, bool UsageReported, int RepairedToolCalls, int InvalidToolCalls,
    string? ErrorType, string? ErrorMessage)
{
    public bool Failed => ErrorType is not null;
}

/// <summary>A non-streaming <c>chat.completion</c> into message events: the same translation as a stream's, the
/// whole message read as one chunk, so both kinds of answer say the same thing.</summary>
public static class ChatResponseTranslator
{
    /// <summary>Translates into <paramref name="events"/>, typically a writer of one whole answer.</summary>
    public static ChatResponseResult Translate(ChatCompletionChunk completion, TranslationContext context, IMessageEvents events)
    {
        using var translator = new ChatStreamTranslator(events, context);
        translator.OnChunk(completion);
        translator.OnDone();
        return new ChatResponseResult(translator.Usage, translator.UsageReported, translator.RepairedToolCalls, translator.InvalidToolCalls,
            translator.Failed ? translator.ErrorType ?? ErrorTypes.Api : null, translator.ErrorMessage);
    }

    /// <summary>Writes an Anthropic <c>message</c> object: blocks in the order thinking, text, tool_use; stop reason
    /// and usage mapped as in streams.</summary>
    public static ChatResponseResult Write(ChatCompletionChunk completion, TranslationContext context, IBufferWriter<byte> output) =>
        Translate(completion, context, new AnthropicMessageEvents(output));
}
