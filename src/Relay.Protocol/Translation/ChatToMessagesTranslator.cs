using System.Buffers;
using System.Text.Json;
using Relay.Protocol.Json;

namespace Relay.Protocol.Translation;

/// <summary>What the Chat Completions door needs to know about a request it translated.</summary>
/// <param name="Model">The model the client asked for; the Messages request carries it, and answers echo it.</param>
/// <param name="Stream">Whether the client asked for SSE.</param>
/// <param name="IncludeUsage"><c>stream_options.include_usage</c>: a last chunk with usage and no choices.</param>
/// <param name="MaxTokens">The <c>max_tokens</c> written (the client's, or the default).</param>
/// <param name="ToolNames">Name sent → the client's name, when a tool name had to be shortened; give it to the
/// answer's writer.</param>
public sealed record ChatDoorRequest(string Model, bool Stream, bool IncludeUsage, long MaxTokens, IReadOnlyDictionary<string, string>? ToolNames);

/// <summary>Writes the Anthropic Messages request for an OpenAI Chat Completions request.</summary>
/// <remarks>
/// The body is parsed once (<see cref="JsonDocument"/>, pooled) and the Messages request is written straight into the
/// output with a <see cref="Utf8JsonWriter"/>; schemas and tool arguments are copied from parsed elements. Anything
/// that cannot be expressed is a <see cref="TranslationException"/> naming the field (the door answers 400); fields
/// with no Anthropic meaning are ignored. docs/chat-completions.md lists every mapping.
/// </remarks>
public static class ChatToMessagesTranslator
{
    /// <summary><c>max_tokens</c> when the client sets no limit (Anthropic requires one); doubled budget when thinking
    /// needs more.</summary>
    public const long DefaultMaxTokens = 8192;

    /// <summary>Anthropic's smallest thinking budget.</summary>
    public const long MinThinkingBudget = 1024;

    public const string JsonObjectInstruction = "Respond with only a valid JSON object, with no other text.";

    public const string JsonSchemaInstruction = "Respond with only a JSON object, with no other text, that conforms to this JSON Schema:\n";

    public static ChatDoorRequest Write(ReadOnlyMemory<byte> chatBody, IBufferWriter<byte> output)
    {
        RequireText(chatBody.Span);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(chatBody);
        }
        catch (JsonException ex)
        {
            throw new TranslationException($"The request body is not valid JSON: {ex.Message}");
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new TranslationException("The request body must be a JSON object.");
            }

            var request = new ChatToMessagesRequest(document.RootElement);
            try
            {
                using var writer = new Utf8JsonWriter(output, ProtocolJson.WriterOptions);
                return request.Write(writer);
            }
            finally
            {
                request.Dispose();
            }
        }
    }

    /// <summary>The thinking budget for an OpenAI <c>reasoning_effort</c>; null for <c>none</c>. Each budget maps back to
    /// the same effort through <see cref="ChatRequestTranslator.EffortForBudget"/> (minimal reads as low).</summary>
    public static long? ThinkingBudget(string effort, string param) => effort switch
    {
        "none" => null,
        "minimal" => 1024,
        "low" => 2048,
        "medium" => 8192,
        "high" => 16384,
        "xhigh" => 32768,
        _ => throw new TranslationException($"{param}: '{effort}' is not one of none, minimal, low, medium, high, xhigh.", param),
    };

    /// <summary>Strings must be text (valid UTF-8, paired surrogate escapes): checked once here, so nothing later throws
    /// deep in the writer.</summary>
    private static void RequireText(ReadOnlySpan<byte> body)
    {
        var reader = new Utf8JsonReader(body);
        try
        {
            while (reader.Read())
            {
                if (reader.TokenType is JsonTokenType.String or JsonTokenType.PropertyName && !JsonStrings.IsText(ref reader))
                {
                    throw new TranslationException("The request body contains a string that is not valid UTF-8 or has an unpaired surrogate escape.");
                }
            }
        }
        catch (JsonException ex)
        {
            throw new TranslationException($"The request body is not valid JSON: {ex.Message}");
        }
    }
}
