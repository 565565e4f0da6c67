using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Relay.Protocol.Json;

namespace Relay.Upstreams.Mock;

/// <summary>One content block of a mock answer.</summary>
internal abstract record MockBlock;

internal sealed record MockText(string Text) : MockBlock;

internal sealed record MockThinking(string Thinking, string Signature) : MockBlock;

internal sealed record MockToolUse(string Id, string Name, JsonObject Input) : MockBlock;

/// <summary>
/// The deterministic answer of the built-in <c>mock</c> provider to a Messages request: it echoes the last user
/// text, calls a tool when asked to, acknowledges tool results, and thinks when thinking is enabled.
/// </summary>
/// <remarks>
/// A tool call happens when tools are offered and <c>tool_choice</c> forces one, or when the last user text
/// mentions "tool" (the tool whose name appears in the text, else the first). Token counts are estimates at four
/// UTF-8 bytes per token, the usual rule of thumb for English.
/// </remarks>
internal sealed record MockReply(string MessageId, IReadOnlyList<MockBlock> Blocks, string StopReason, long InputTokens, long OutputTokens)
{
    public const string Signature = "relay-mock-signature";

    public static MockReply Create(ReadOnlySpan<byte> body)
    {
        using var document = JsonDocument.Parse(body.ToArray());
        var root = document.RootElement;
        var messageId = "msg_mock_" + Convert.ToHexStringLower(SHA256.HashData(body))[..24];
        var inputTokens = Math.Max(1, CountStringBytes(root) / 4);

        var (lastText, toolResult) = ReadLastUserTurn(root);
        var blocks = new List<MockBlock>();
        if (root.TryGetProperty("thinking", out var thinking) && thinking.ValueKind == JsonValueKind.Object
            && thinking.TryGetProperty("type", out var thinkingType) && thinkingType.ValueEquals("enabled"))
        {
            blocks.Add(new MockThinking($"The user wrote: \"{Snippet(lastText, 80)}\". I am Relay's mock provider, so I will echo it.", Signature));
        }

        var stopReason = "end_turn";
        var tool = toolResult is null ? ChooseTool(root, lastText) : null;
        if (toolResult is not null)
        {
            blocks.Add(new MockText($"Relay mock provider: received the result of tool call {toolResult.Value.Id}"
                + (toolResult.Value.IsError ? " (an error)" : "") + $": \"{Snippet(toolResult.Value.Content, 200)}\". This is Relay's built-in mock, not a real model."));
        }
        else if (tool is not null)
        {
            var (name, schema) = tool.Value;
            blocks.Add(new MockText($"Relay mock provider: calling the {name} tool."));
            blocks.Add(new MockToolUse("toolu_mock_" + messageId[9..], name, InputFromSchema(schema)));
            stopReason = "tool_use";
        }
        else
        {
            blocks.Add(new MockText($"Hello from Relay's mock provider. You said: \"{Snippet(lastText, 200)}\". "
                + "Relay is working; map this model to a real provider in relay.json for real answers."));
        }

        var outputTokens = Math.Max(1, blocks.Sum(EstimateTokens));
        if (root.TryGetProperty("max_tokens", out var maxTokens) && maxTokens.TryGetInt64(out var max) && outputTokens > max && stopReason != "tool_use")
        {
            // Honour max_tokens like a real model: cut the text and say why it stopped.
            var cut = (int)Math.Max(0, max * 4);
            blocks = blocks.Select(b => b is MockText t && t.Text.Length > cut ? new MockText(t.Text[..cut]) : b).ToList();
            outputTokens = Math.Max(1, max);
            stopReason = "max_tokens";
        }

        return new MockReply(messageId, blocks, stopReason, inputTokens, outputTokens);
    }

    private static long EstimateTokens(MockBlock block) => block switch
    {
        MockText t => Encoding.UTF8.GetByteCount(t.Text) / 4,
        MockThinking t => Encoding.UTF8.GetByteCount(t.Thinking) / 4,
        MockToolUse t => (t.Name.Length + t.Input.ToJsonString(ProtocolJson.NodeOptions).Length) / 4,
        _ => 0,
    };

    /// <summary>The text of the last user turn and, if it carries one, its first tool result.</summary>
    private static (string Text, (string Id, string Content, bool IsError)? ToolResult) ReadLastUserTurn(JsonElement root)
    {
        if (!root.TryGetProperty("messages", out var messages) || messages.ValueKind != JsonValueKind.Array)
        {
            return ("", null);
        }

        JsonElement? lastUser = null;
        foreach (var message in messages.EnumerateArray())
        {
            if (message.ValueKind == JsonValueKind.Object && message.TryGetProperty("role", out var role) && role.ValueEquals("user"))
            {
                lastUser = message;
            }
        }

        if (lastUser is not { } user || !user.TryGetProperty("content", out var content))
        {
            return ("", null);
        }

        if (content.ValueKind == JsonValueKind.String)
        {
            return (content.GetString() ?? "", null);
        }

        var text = new StringBuilder();
        (string, string, bool)? toolResult = null;
        foreach (var block in content.ValueKind == JsonValueKind.Array ? content.EnumerateArray() : default)
        {
            if (!block.TryGetProperty("type", out var type))
            {
                continue;
            }

            if (type.ValueEquals("text") && block.TryGetProperty("text", out var t))
            {
                // Claude Code prefixes turns with <system-reminder> blocks; the user's words are the last text.
                var value = t.GetString() ?? "";
                if (!value.StartsWith("<system-reminder>", StringComparison.Ordinal))
                {
                    text.Clear().Append(value);
                }
            }
            else if (type.ValueEquals("tool_result") && toolResult is null)
            {
                var id = block.TryGetProperty("tool_use_id", out var idElement) ? idElement.GetString() ?? "" : "";
                var isError = block.TryGetProperty("is_error", out var e) && e.ValueKind == JsonValueKind.True;
                toolResult = (id, ToolResultText(block), isError);
            }
        }

        return (text.ToString(), toolResult);
    }

    private static string ToolResultText(JsonElement block)
    {
        if (!block.TryGetProperty("content", out var content))
        {
            return "";
        }

        if (content.ValueKind == JsonValueKind.String)
        {
            return content.GetString() ?? "";
        }

        var text = new StringBuilder();
        foreach (var part in content.ValueKind == JsonValueKind.Array ? content.EnumerateArray() : default)
        {
            if (part.TryGetProperty("text", out var t) && t.ValueKind == JsonValueKind.String)
            {
                text.Append(t.GetString());
            }
        }

        return text.ToString();
    }

    private static (string Name, JsonElement Schema)? ChooseTool(JsonElement root, string lastText)
    {
        if (!root.TryGetProperty("tools", out var tools) || tools.ValueKind != JsonValueKind.Array)
        {
            return null;
        }

        var candidates = tools.EnumerateArray()
            .Where(t => t.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String
                && !(t.TryGetProperty("defer_loading", out var d) && d.ValueKind == JsonValueKind.True))
            .Select(t => (Name: t.GetProperty("name").GetString()!, Schema: t.TryGetProperty("input_schema", out var s) ? s : default))
            .ToList();
        if (candidates.Count == 0)
        {
            return null;
        }

        var choice = root.TryGetProperty("tool_choice", out var tc) && tc.ValueKind == JsonValueKind.Object && tc.TryGetProperty("type", out var ct)
            ? ct.GetString()
            : "auto";
        if (choice == "none")
        {
            return null;
        }

        if (choice == "tool" && tc.TryGetProperty("name", out var forced))
        {
            var named = candidates.FirstOrDefault(c => c.Name == forced.GetString());
            return named.Name is null ? candidates[0] : named;
        }

        if (choice != "any" && !lastText.Contains("tool", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        var mentioned = candidates.FirstOrDefault(c => lastText.Contains(c.Name, StringComparison.OrdinalIgnoreCase));
        return mentioned.Name is null ? candidates[0] : mentioned;
    }

    /// <summary>An input object that satisfies the schema's required properties with placeholder values.</summary>
    private static JsonObject InputFromSchema(JsonElement schema)
    {
        var input = new JsonObject();
        if (schema.ValueKind != JsonValueKind.Object || !schema.TryGetProperty("required", out var required) || required.ValueKind != JsonValueKind.Array)
        {
            return input;
        }

        schema.TryGetProperty("properties", out var properties);
        foreach (var name in required.EnumerateArray().Select(r => r.GetString()).OfType<string>())
        {
            var type = properties.ValueKind == JsonValueKind.Object && properties.TryGetProperty(name, out var p)
                && p.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : "string";
            var enumFirst = properties.ValueKind == JsonValueKind.Object && properties.TryGetProperty(name, out var p2)
                && p2.TryGetProperty("enum", out var e) && e.ValueKind == JsonValueKind.Array && e.GetArrayLength() > 0 ? e[0] : (JsonElement?)null;
            input[name] = enumFirst is { } first ? JsonNode.Parse(first.GetRawText()) : type switch
            {
                "integer" or "number" => 1,
                "boolean" => true,
                "array" => new JsonArray(),
                "object" => new JsonObject(),
                _ => name == "command" ? "echo relay-mock" : "relay-mock",
            };
        }

        return input;
    }

    private static long CountStringBytes(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.String => Encoding.UTF8.GetByteCount(element.GetString() ?? ""),
        JsonValueKind.Array => element.EnumerateArray().Sum(CountStringBytes),
        JsonValueKind.Object => element.EnumerateObject().Sum(p => CountStringBytes(p.Value)),
        _ => 0,
    };

    private static string Snippet(string text, int max)
    {
        var trimmed = text.Trim().ReplaceLineEndings(" ");
        return trimmed.Length <= max ? trimmed : trimmed[..max] + "…";
    }
}
