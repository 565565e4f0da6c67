using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Relay.Protocol.Json;

namespace Relay.Protocol.Translation;

/// <summary>Writes the OpenAI Responses API request for an Anthropic Messages request, for providers whose models only
/// speak the Responses API (<c>openai-responses</c>, e.g. gpt-5.x-codex).</summary>
/// <remarks>
/// <para>Always <c>store: false</c>: the whole conversation goes in <c>input</c> every turn and the provider keeps
/// nothing. System text becomes <c>instructions</c>; tool calls and results become <c>function_call</c> and
/// <c>function_call_output</c> items (ids restored with <see cref="ToolIds"/>, long names shortened with
/// <see cref="ToolNames"/>); thinking becomes <c>reasoning</c> with a summary, and a thinking block that carries an
/// OpenAI reasoning item (<see cref="ResponsesReasoning"/>) goes back as that item. Other thinking is dropped: no
/// provider but its author can verify it. <c>temperature</c>, <c>top_p</c>, <c>top_k</c> and stop sequences are left
/// out: reasoning models refuse the first two and the API has none of the others.</para>
/// <para>Parsed once into a pooled <see cref="JsonDocument"/>, written with a <see cref="Utf8JsonWriter"/>.</para>
/// </remarks>
public static class MessagesToResponsesRequest
{
    private static readonly IReadOnlySet<string> NoDroppedKeywords = new HashSet<string>();
    private static readonly IReadOnlySet<string> NoReferencedTools = new HashSet<string>();

    /// <param name="droppedSchemaKeywords">JSON Schema keywords to leave out of tool parameters (the provider refused them).</param>
    public static ChatRequestResult Write(ReadOnlyMemory<byte> anthropicBody, string upstreamModel, IBufferWriter<byte> output,
        IReadOnlySet<string>? droppedSchemaKeywords = null)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(anthropicBody);
        }
        catch (JsonException ex)
        {
            throw new TranslationException($"The request body is not valid JSON: {ex.Message}");
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new TranslationException("The request body must be a JSON object.");
            }

            var state = new RequestState(root, droppedSchemaKeywords ?? NoDroppedKeywords);
            using var writer = new Utf8JsonWriter(output, ProtocolJson.WriterOptions);
            var maxTokens = state.Write(writer, upstreamModel);
            writer.Flush();
            return new ChatRequestResult(state.Stream, state.ShortenedNames, maxTokens);
        }
    }

    private sealed class RequestState
    {
        private readonly JsonElement _root;
        private readonly JsonElement _messages;
        private readonly IReadOnlySet<string> _droppedSchemaKeywords;
        private readonly Dictionary<string, string> _toUpstreamName = new(StringComparer.Ordinal);

        public RequestState(JsonElement root, IReadOnlySet<string> droppedSchemaKeywords)
        {
            _root = root;
            _droppedSchemaKeywords = droppedSchemaKeywords;
            Stream = root.TryGetProperty("stream", out var stream) && stream.ValueKind == JsonValueKind.True;
            _messages = root.TryGetProperty("messages", out var messages) && messages.ValueKind == JsonValueKind.Array
                ? messages
                : throw new TranslationException("messages: Field required");

            if (root.TryGetProperty("thinking", out var thinking) && thinking.ValueKind == JsonValueKind.Object)
            {
                var effort = root.TryGetProperty("output_config", out var oc) && oc.ValueKind == JsonValueKind.Object ? StringOf(oc, "effort") : null;
                switch (StringOf(thinking, "type"))
                {
                    case "enabled":
                        Effort = thinking.TryGetProperty("budget_tokens", out var b) && b.TryGetInt64(out var budget)
                            ? ChatRequestTranslator.EffortForBudget(budget)
                            : ChatRequestTranslator.NormalizeEffort(effort);
                        break;
                    case "adaptive":
                        Effort = ChatRequestTranslator.NormalizeEffort(effort);
                        break;
                    default:
                        break; // disabled: the model's default, which may still reason, without a summary for the client
                }
            }
        }

        public bool Stream { get; }

        /// <summary>The reasoning effort when the client asked for thinking, else null.</summary>
        public string? Effort { get; }

        public Dictionary<string, string>? ShortenedNames { get; private set; }

        private string UpstreamName(string name)
        {
            if (!_toUpstreamName.TryGetValue(name, out var upstream))
            {
                upstream = ToolNames.ToUpstream(name);
                _toUpstreamName[name] = upstream;
                if (!string.Equals(upstream, name, StringComparison.Ordinal))
                {
                    (ShortenedNames ??= new(StringComparer.Ordinal))[upstream] = name;
                }
            }

            return upstream;
        }

        public long? Write(Utf8JsonWriter w, string upstreamModel)
        {
            w.WriteStartObject();
            w.WriteString("model"u8, upstreamModel);
            WriteInstructions(w);
            w.WriteStartArray("input"u8);
            WriteInput(w);
            w.WriteEndArray();
            if (WriteTools(w))
            {
                WriteToolChoice(w);
            }

            long? maxTokens = null;
            if (_root.TryGetProperty("max_tokens", out var mt) && mt.TryGetInt64(out var requested))
            {
                maxTokens = requested;
                w.WriteNumber("max_output_tokens"u8, requested);
            }

            if (Effort is not null)
            {
                w.WriteStartObject("reasoning"u8);
                w.WriteString("effort"u8, Effort);
                w.WriteString("summary"u8, "auto"u8);
                w.WriteEndObject();
                w.WriteStartArray("include"u8);
                w.WriteStringValue("reasoning.encrypted_content"u8);
                w.WriteEndArray();
            }

            WriteTextFormat(w);
            w.WriteBoolean("store"u8, false);
            w.WriteBoolean("stream"u8, Stream);
            WriteCacheKey(w);
            w.WriteEndObject();
            return maxTokens;
        }

        private void WriteInstructions(Utf8JsonWriter w)
        {
            var parts = new List<string>();
            if (_root.TryGetProperty("system", out var system))
            {
                AddText(parts, system, dropBillingHeader: true);
            }

            // Claude Code also sends role:"system" messages; they join the instructions.
            foreach (var message in _messages.EnumerateArray())
            {
                if (StringOf(message, "role") == "system" && message.TryGetProperty("content", out var content))
                {
                    AddText(parts, content, dropBillingHeader: false);
                }
            }

            if (parts.Count > 0)
            {
                w.WriteString("instructions"u8, string.Join("\n\n", parts));
            }
        }

        private static void AddText(List<string> parts, JsonElement content, bool dropBillingHeader)
        {
            if (content.ValueKind == JsonValueKind.String)
            {
                if (content.GetString() is { Length: > 0 } text)
                {
                    parts.Add(text);
                }

                return;
            }

            if (content.ValueKind != JsonValueKind.Array)
            {
                return;
            }

            foreach (var block in content.EnumerateArray())
            {
                if (StringOf(block, "text") is { Length: > 0 } text
                    && !(dropBillingHeader && text.StartsWith(ChatRequestTranslator.BillingHeaderPrefix, StringComparison.Ordinal)))
                {
                    parts.Add(text);
                }
            }
        }

        private void WriteInput(Utf8JsonWriter w)
        {
            var pending = new List<string>();
            var index = 0;
            foreach (var message in _messages.EnumerateArray())
            {
                if (message.ValueKind != JsonValueKind.Object)
                {
                    throw new TranslationException($"messages.{index}: Input should be a valid dictionary");
                }

                message.TryGetProperty("content", out var content);
                switch (StringOf(message, "role"))
                {
                    case "system":
                        break; // in the instructions
                    case "user":
                        WriteUser(w, content, pending);
                        break;
                    case "assistant":
                        WriteInterrupted(w, pending);
                        WriteAssistant(w, content, pending);
                        break;
                    default:
                        throw new TranslationException($"messages.{index}.role: Input should be 'user' or 'assistant'");
                }

                index++;
            }

            WriteInterrupted(w, pending);
        }

        /// <summary>The API refuses a <c>function_call</c> without its output ("No tool output found"): calls the
        /// client never answered get an output saying so.</summary>
        private static void WriteInterrupted(Utf8JsonWriter w, List<string> pending)
        {
            foreach (var id in pending)
            {
                WriteOutputText(w, id, ChatRequestTranslator.InterruptedToolResult);
            }

            pending.Clear();
        }

        private static void WriteOutputText(Utf8JsonWriter w, string anthropicId, string text)
        {
            w.WriteStartObject();
            w.WriteString("type"u8, "function_call_output"u8);
            w.WriteString("call_id"u8, ToolIds.ToUpstream(anthropicId));
            w.WriteString("output"u8, text);
            w.WriteEndObject();
        }

        private void WriteUser(Utf8JsonWriter w, JsonElement content, List<string> pending)
        {
            if (content.ValueKind == JsonValueKind.String)
            {
                WriteInterrupted(w, pending);
                WriteMessage(w, "user", [(Kind: 0, Text: content.GetString()!, Extra: (string?)null)]);
                return;
            }

            if (content.ValueKind != JsonValueKind.Array)
            {
                return;
            }

            var parts = new List<(int Kind, string Text, string? Extra)>();
            var answered = new HashSet<string>(StringComparer.Ordinal);
            foreach (var block in content.EnumerateArray())
            {
                switch (StringOf(block, "type"))
                {
                    case "tool_result":
                        var id = StringOf(block, "tool_use_id") ?? "";
                        if (pending.Contains(id) && answered.Add(id))
                        {
                            WriteToolOutput(w, id, block);
                        }
                        else
                        {
                            parts.Add((0, $"[result of tool call {id}]\n{ResultText(block)}", null));
                        }

                        break;
                    default:
                        AddPart(parts, block);
                        break;
                }
            }

            foreach (var id in pending)
            {
                if (!answered.Contains(id))
                {
                    WriteOutputText(w, id, ChatRequestTranslator.InterruptedToolResult);
                }
            }

            pending.Clear();
            if (parts.Count > 0)
            {
                WriteMessage(w, "user", parts);
            }
        }

        /// <summary>Parts: 0 text, 1 image URL, 2 file (data URL, file name).</summary>
        private static void AddPart(List<(int Kind, string Text, string? Extra)> parts, JsonElement block)
        {
            switch (StringOf(block, "type"))
            {
                case "text":
                    if (StringOf(block, "text") is { Length: > 0 } text)
                    {
                        parts.Add((0, text, null));
                    }

                    break;
                case "image" when block.TryGetProperty("source", out var source):
                    if (SourceUrl(source) is { } url)
                    {
                        parts.Add((1, url, null));
                    }

                    break;
                case "document" when block.TryGetProperty("source", out var source):
                    if (StringOf(source, "type") == "text" && StringOf(source, "data") is { } plain)
                    {
                        parts.Add((0, plain, null));
                    }
                    else if (StringOf(source, "type") == "base64" && SourceUrl(source) is { } dataUrl)
                    {
                        parts.Add((2, dataUrl, StringOf(block, "title") ?? "document.pdf"));
                    }
                    else if (StringOf(source, "type") == "url" && StringOf(source, "url") is { } fileUrl)
                    {
                        parts.Add((0, $"[document: {fileUrl}]", null));
                    }

                    break;
                default:
                    break;
            }
        }

        private static string? SourceUrl(JsonElement source) => StringOf(source, "type") switch
        {
            "base64" => $"data:{StringOf(source, "media_type") ?? "image/png"};base64,{StringOf(source, "data")}",
            "url" => StringOf(source, "url"),
            _ => null,
        };

        private static void WriteMessage(Utf8JsonWriter w, string role, List<(int Kind, string Text, string? Extra)> parts)
        {
            w.WriteStartObject();
            w.WriteString("type"u8, "message"u8);
            w.WriteString("role"u8, role);
            w.WriteStartArray("content"u8);
            foreach (var part in parts)
            {
                WritePart(w, role, part);
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        private static void WritePart(Utf8JsonWriter w, string role, (int Kind, string Text, string? Extra) part)
        {
            w.WriteStartObject();
            switch (part.Kind)
            {
                case 0:
                    w.WriteString("type"u8, role == "assistant" ? "output_text"u8 : "input_text"u8);
                    w.WriteString("text"u8, part.Text);
                    break;
                case 1:
                    w.WriteString("type"u8, "input_image"u8);
                    w.WriteString("image_url"u8, part.Text);
                    break;
                default:
                    w.WriteString("type"u8, "input_file"u8);
                    w.WriteString("filename"u8, part.Extra);
                    w.WriteString("file_data"u8, part.Text);
                    break;
            }

            w.WriteEndObject();
        }

        /// <summary>A tool result as a <c>function_call_output</c>: a string when it is only text, else input parts;
        /// an error is marked in the text, since the API has no error flag and a model that cannot tell a failure
        /// from output repeats the call.</summary>
        private static void WriteToolOutput(Utf8JsonWriter w, string id, JsonElement block)
        {
            var isError = block.TryGetProperty("is_error", out var e) && e.ValueKind == JsonValueKind.True;
            var parts = new List<(int Kind, string Text, string? Extra)>();
            if (isError)
            {
                parts.Add((0, ChatRequestTranslator.ToolErrorPrefix.TrimEnd(), null));
            }

            if (block.TryGetProperty("content", out var content))
            {
                if (content.ValueKind == JsonValueKind.String)
                {
                    parts.Add((0, content.GetString()!, null));
                }
                else if (content.ValueKind == JsonValueKind.Array)
                {
                    foreach (var item in content.EnumerateArray())
                    {
                        AddPart(parts, item);
                    }
                }
            }

            if (parts.TrueForAll(p => p.Kind == 0))
            {
                WriteOutputText(w, id, string.Join(isError ? " " : "\n", parts.Select(p => p.Text)));
                return;
            }

            w.WriteStartObject();
            w.WriteString("type"u8, "function_call_output"u8);
            w.WriteString("call_id"u8, ToolIds.ToUpstream(id));
            w.WriteStartArray("output"u8);
            foreach (var part in parts)
            {
                WritePart(w, "user", part);
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        private static string ResultText(JsonElement block)
        {
            if (!block.TryGetProperty("content", out var content))
            {
                return "";
            }

            if (content.ValueKind == JsonValueKind.String)
            {
                return content.GetString()!;
            }

            var texts = new List<string>();
            if (content.ValueKind == JsonValueKind.Array)
            {
                foreach (var item in content.EnumerateArray())
                {
                    if (StringOf(item, "text") is { } text)
                    {
                        texts.Add(text);
                    }
                }
            }

            return string.Join('\n', texts);
        }

        private void WriteAssistant(Utf8JsonWriter w, JsonElement content, List<string> pending)
        {
            if (content.ValueKind == JsonValueKind.String)
            {
                if (content.GetString() is { Length: > 0 } only)
                {
                    WriteMessage(w, "assistant", [(0, only, null)]);
                }

                return;
            }

            if (content.ValueKind != JsonValueKind.Array)
            {
                return;
            }

            // Items in the order the blocks came: reasoning first, as the API produced it.
            foreach (var block in content.EnumerateArray())
            {
                switch (StringOf(block, "type"))
                {
                    case "text":
                        if (StringOf(block, "text") is { Length: > 0 } text)
                        {
                            WriteMessage(w, "assistant", [(0, text, null)]);
                        }

                        break;
                    case "thinking":
                        if (ResponsesReasoning.TryGetEncryptedContent(StringOf(block, "signature"), out var encrypted))
                        {
                            WriteReasoning(w, StringOf(block, "thinking") ?? "", encrypted);
                        }

                        break;
                    case "tool_use":
                        var id = StringOf(block, "id") ?? ToolIds.NewId();
                        pending.Add(id);
                        w.WriteStartObject();
                        w.WriteString("type"u8, "function_call"u8);
                        w.WriteString("call_id"u8, ToolIds.ToUpstream(id));
                        w.WriteString("name"u8, UpstreamName(StringOf(block, "name") ?? ""));
                        w.WriteString("arguments"u8, block.TryGetProperty("input", out var input) && input.ValueKind == JsonValueKind.Object ? input.GetRawText() : "{}");
                        w.WriteEndObject();
                        break;
                    default:
                        break; // redacted_thinking and server tool blocks mean nothing to OpenAI
                }
            }
        }

        private static void WriteReasoning(Utf8JsonWriter w, string summary, string encrypted)
        {
            w.WriteStartObject();
            w.WriteString("type"u8, "reasoning"u8);
            w.WriteStartArray("summary"u8);
            if (summary.Length > 0)
            {
                w.WriteStartObject();
                w.WriteString("type"u8, "summary_text"u8);
                w.WriteString("text"u8, summary);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteString("encrypted_content"u8, encrypted);
            w.WriteEndObject();
        }

        private bool WriteTools(Utf8JsonWriter w)
        {
            var wrote = false;
            // Responses providers have no tool search either: a deferred tool is never sent.
            foreach (var (name, description, schema) in FunctionTools.Sendable(_root, NoReferencedTools))
            {
                if (!wrote)
                {
                    w.WriteStartArray("tools"u8);
                    wrote = true;
                }

                w.WriteStartObject();
                w.WriteString("type"u8, "function"u8);
                w.WriteString("name"u8, UpstreamName(name));
                if (description is not null)
                {
                    w.WriteString("description"u8, description);
                }

                w.WritePropertyName("parameters"u8);
                if (schema is { } given)
                {
                    new SchemaWriter(given, SchemaDialect.Standard, _droppedSchemaKeywords).Write(w, given);
                }
                else
                {
                    w.WriteStartObject();
                    w.WriteString("type"u8, "object"u8);
                    w.WriteStartObject("properties"u8);
                    w.WriteEndObject();
                    w.WriteEndObject();
                }

                // Strict mode would require every property in "required", which Claude Code's schemas are not.
                w.WriteBoolean("strict"u8, false);
                w.WriteEndObject();
            }

            if (wrote)
            {
                w.WriteEndArray();
            }

            return wrote;
        }

        private void WriteToolChoice(Utf8JsonWriter w)
        {
            if (!_root.TryGetProperty("tool_choice", out var choice) || choice.ValueKind != JsonValueKind.Object)
            {
                return;
            }

            switch (StringOf(choice, "type"))
            {
                case "auto":
                    w.WriteString("tool_choice"u8, "auto"u8);
                    break;
                case "none":
                    w.WriteString("tool_choice"u8, "none"u8);
                    break;
                case "any":
                    w.WriteString("tool_choice"u8, "required"u8);
                    break;
                case "tool" when StringOf(choice, "name") is { } name:
                    w.WriteStartObject("tool_choice"u8);
                    w.WriteString("type"u8, "function"u8);
                    w.WriteString("name"u8, UpstreamName(name));
                    w.WriteEndObject();
                    break;
                default:
                    break;
            }

            if (choice.TryGetProperty("disable_parallel_tool_use", out var disable) && disable.ValueKind == JsonValueKind.True)
            {
                w.WriteBoolean("parallel_tool_calls"u8, false);
            }
        }

        private void WriteTextFormat(Utf8JsonWriter w)
        {
            if (_root.TryGetProperty("output_config", out var oc) && oc.ValueKind == JsonValueKind.Object
                && oc.TryGetProperty("format", out var format) && format.ValueKind == JsonValueKind.Object
                && StringOf(format, "type") == "json_schema" && format.TryGetProperty("schema", out var schema) && schema.ValueKind == JsonValueKind.Object)
            {
                w.WriteStartObject("text"u8);
                w.WriteStartObject("format"u8);
                w.WriteString("type"u8, "json_schema"u8);
                w.WriteString("name"u8, "response"u8);
                w.WritePropertyName("schema"u8);
                schema.WriteTo(w);
                w.WriteBoolean("strict"u8, false);
                w.WriteEndObject();
                w.WriteEndObject();
            }
        }

        /// <summary>Claude Code's <c>metadata.user_id</c> names the session: hashed, it keeps a session's requests on
        /// the same prompt cache.</summary>
        private void WriteCacheKey(Utf8JsonWriter w)
        {
            if (_root.TryGetProperty("metadata", out var metadata) && StringOf(metadata, "user_id") is { Length: > 0 } userId)
            {
                w.WriteString("prompt_cache_key"u8, Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(userId)), 0, 16));
            }
        }
    }

    private static string? StringOf(JsonElement element, string name) => ChatRequestTranslator.StringOf(element, name);
}
