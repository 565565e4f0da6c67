using System.Text.Json;
using Microsoft.ML.Tokenizers;

namespace Relay.Upstreams;

/// <summary>A local <c>count_tokens</c> answer for providers that have no such endpoint: an estimate, not a bill.</summary>
/// <remarks>
/// Counts with OpenAI's o200k_base vocabulary (shipped inside the Microsoft.ML.Tokenizers.Data.O200kBase package; nothing
/// is downloaded), which is within a few percent of most current models' own tokenizers for code and English. Counted:
/// system text, message text, tool calls and results, thinking, and each tool's name, description and schema, plus a
/// small per-message and per-tool overhead as chat templates add. Images and documents count a fixed amount, since
/// their real cost depends on the provider. The same estimate is the input count of a translated stream's
/// <c>message_start</c>, until the provider's own numbers arrive. Claude Code sends bursts of 25 parallel counts
/// (<c>/context</c>); the tokenizer is thread-safe and created once.
/// </remarks>
internal static class TokenEstimator
{
    private const int PerMessage = 4;
    private const int PerTool = 8;
    private const int PerImage = 1_600;
    private const int PerDocument = 3_000;

    private static readonly Lazy<Tokenizer> Vocabulary = new(() => TiktokenTokenizer.CreateForEncoding("o200k_base"));

    /// <summary>Loads the vocabulary (about half a second) in the background, so that the first count_tokens does not
    /// wait for it and the first streams already get this estimate rather than the rough one.</summary>
    public static void LoadInBackground() => ThreadPool.QueueUserWorkItem(static _ => _ = Vocabulary.Value);

    /// <summary>The estimated input tokens of a Messages (or count_tokens) request body.</summary>
    public static long Estimate(ReadOnlyMemory<byte> body)
    {
        using var document = JsonDocument.Parse(body);
        var root = document.RootElement;
        long total = 0;
        if (root.TryGetProperty("system", out var system))
        {
            total += CountContent(system) + PerMessage;
        }

        if (root.TryGetProperty("messages", out var messages) && messages.ValueKind == JsonValueKind.Array)
        {
            foreach (var message in messages.EnumerateArray())
            {
                total += PerMessage;
                if (message.ValueKind == JsonValueKind.Object && message.TryGetProperty("content", out var content))
                {
                    total += CountContent(content);
                }
            }
        }

        if (root.TryGetProperty("tools", out var tools) && tools.ValueKind == JsonValueKind.Array)
        {
            foreach (var tool in tools.EnumerateArray())
            {
                total += PerTool + Count(Text(tool, "name")) + Count(Text(tool, "description"));
                if (tool.TryGetProperty("input_schema", out var schema))
                {
                    total += Count(schema.GetRawText());
                }
            }
        }

        return Math.Max(1, total);
    }

    private static long CountContent(JsonElement content)
    {
        if (content.ValueKind == JsonValueKind.String)
        {
            return Count(content.GetString());
        }

        if (content.ValueKind != JsonValueKind.Array)
        {
            return 0;
        }

        long total = 0;
        foreach (var block in content.EnumerateArray())
        {
            switch (Text(block, "type"))
            {
                case "text":
                    total += Count(Text(block, "text"));
                    break;
                case "thinking":
                    total += Count(Text(block, "thinking"));
                    break;
                case "tool_use":
                    total += Count(Text(block, "name")) + (block.TryGetProperty("input", out var input) ? Count(input.GetRawText()) : 0);
                    break;
                case "tool_result":
                    total += block.TryGetProperty("content", out var result) ? CountContent(result) : 0;
                    break;
                case "image":
                    total += PerImage;
                    break;
                case "document":
                    total += block.TryGetProperty("source", out var source) && Text(source, "type") == "text" ? Count(Text(source, "data")) : PerDocument;
                    break;
                default:
                    total += Count(Text(block, "text"));
                    break;
            }
        }

        return total;
    }

    private static string? Text(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static long Count(string? text) => string.IsNullOrEmpty(text) ? 0 : Vocabulary.Value.CountTokens(text);
}
