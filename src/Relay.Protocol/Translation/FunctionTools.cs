using System.Text.Json;

namespace Relay.Protocol.Translation;

/// <summary>One of the client's tools as a function a function-calling provider can be given.</summary>
public readonly record struct FunctionTool(string Name, string? Description, JsonElement? Schema);

/// <summary>Which of an Anthropic request's tools a function-calling provider (Chat Completions, Responses) gets, one
/// rule for every such provider.</summary>
public static class FunctionTools
{
    /// <summary>The request's client tools, in order. Server tools (web_search_*, bash_*, text_editor_*, computer_*…)
    /// only exist at Anthropic. Deferred tools wait for Anthropic's tool search to load them: one is sent once a
    /// tool_reference in the conversation (<paramref name="referenced"/>) loaded it, and never before.</summary>
    public static IEnumerable<FunctionTool> Sendable(JsonElement root, IReadOnlySet<string> referenced)
    {
        if (!root.TryGetProperty("tools", out var tools) || tools.ValueKind != JsonValueKind.Array)
        {
            yield break;
        }

        foreach (var tool in tools.EnumerateArray())
        {
            var name = ChatRequestTranslator.StringOf(tool, "name");
            var type = ChatRequestTranslator.StringOf(tool, "type");
            if (name is null || (type is not null && type != "custom")
                || (tool.TryGetProperty("defer_loading", out var deferred) && deferred.ValueKind == JsonValueKind.True && !referenced.Contains(name)))
            {
                continue;
            }

            var schema = tool.TryGetProperty("input_schema", out var s) && s.ValueKind == JsonValueKind.Object ? s : (JsonElement?)null;
            yield return new FunctionTool(name, ChatRequestTranslator.StringOf(tool, "description") is { Length: > 0 } d ? d : null, schema);
        }
    }
}
