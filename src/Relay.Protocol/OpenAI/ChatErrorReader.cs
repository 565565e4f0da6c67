using System.Text.Json;

namespace Relay.Protocol.OpenAI;

/// <summary>What an OpenAI-compatible server said went wrong, from any of the error shapes vendors use.</summary>
/// <param name="Message">The provider's words.</param>
/// <param name="Type">Its error type or status word, when given.</param>
/// <param name="Code">Its error code, when given.</param>
/// <param name="Param">The request parameter it blames, when given (OpenAI's <c>param</c>).</param>
public readonly record struct ChatErrorInfo(string Message, string? Type, string? Code, string? Param = null);

/// <summary>Reads error bodies: <c>{"error":{"message","type","code"}}</c>, <c>{"error":"text"}</c>, <c>{"message":"…"}</c>
/// and <c>[{"error":{…}}]</c> (Gemini's OpenAI endpoint wraps it in an array).</summary>
public static class ChatErrorReader
{
    public static bool TryRead(ReadOnlySpan<byte> body, out ChatErrorInfo error)
    {
        error = default;
        try
        {
            var reader = new Utf8JsonReader(body, new JsonReaderOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
            using var document = JsonDocument.ParseValue(ref reader);
            var root = document.RootElement;
            if (root.ValueKind == JsonValueKind.Array && root.GetArrayLength() > 0)
            {
                root = root[0];
            }

            return TryRead(root, out error);
        }
        catch (JsonException)
        {
            return false;
        }
    }

    public static bool TryRead(JsonElement root, out ChatErrorInfo error)
    {
        error = default;
        if (root.ValueKind != JsonValueKind.Object)
        {
            return false;
        }

        if (root.TryGetProperty("error", out var inner))
        {
            if (inner.ValueKind == JsonValueKind.String)
            {
                error = new ChatErrorInfo(inner.GetString() ?? "", null, null);
                return true;
            }

            if (inner.ValueKind == JsonValueKind.Object)
            {
                var message = Text(inner, "message") ?? inner.GetRawText();
                var failed = Text(inner, "failed_generation");
                if (failed is not null)
                {
                    message += " (failed_generation: " + (failed.Length > 500 ? failed[..500] + "…" : failed) + ")";
                }

                error = new ChatErrorInfo(message, Text(inner, "type") ?? Text(inner, "status"), Text(inner, "code"), Text(inner, "param"));
                return true;
            }
        }

        if (Text(root, "message") is { } topMessage)
        {
            error = new ChatErrorInfo(topMessage, Text(root, "type"), Text(root, "code"), Text(root, "param"));
            return true;
        }

        return false;
    }

    private static string? Text(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value)
            ? value.ValueKind switch
            {
                JsonValueKind.String => value.GetString(),
                JsonValueKind.Number => value.GetRawText(),
                _ => null,
            }
            : null;
}
