using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Relay.Protocol.Json;

namespace Relay.Protocol.Translation;

/// <summary>What translating a request decided that the response side needs.</summary>
/// <param name="Stream">Whether the client asked for SSE.</param>
/// <param name="ToolNames">Shortened → original tool names, when any were shortened.</param>
/// <param name="MaxTokens">The output limit actually sent.</param>
public sealed record ChatRequestResult(bool Stream, IReadOnlyDictionary<string, string>? ToolNames, long? MaxTokens);

/// <summary>The client sent something that cannot be translated; the message names the field, Anthropic style.</summary>
/// <param name="param">The field at fault (<c>messages.2.content</c>), for protocols whose error bodies name it.</param>
public sealed class TranslationException(string message, string? param = null) : Exception(message)
{
    public string? Param { get; } = param;
}

/// <summary>Writes the Chat Completions request for an Anthropic Messages request, following one provider's quirks.</summary>
/// <remarks>
/// The body is parsed once (<see cref="JsonDocument"/>, pooled) and the new request is written straight into the output
/// buffer with a <see cref="Utf8JsonWriter"/>; schemas and tool inputs are copied from the parsed elements. Fields the
/// providers have no use for (<c>context_management</c>, <c>safeguards</c>, <c>container</c>, betas…) are dropped, never
/// forwarded to cause a 400. The mapping decisions are listed in docs/architecture.md, "Translation".
/// </remarks>
public static class ChatRequestTranslator
{
    /// <summary>Claude Code's per-request attribution block; its text changes every request and defeats prefix caches.</summary>
    public const string BillingHeaderPrefix = "x-anthropic-billing-header:";

    public const string ToolErrorPrefix = "[tool execution error] ";
    public const string InterruptedToolResult = "[no result: the tool call was interrupted before it returned]";
    public const string ImagePlaceholder = "[image omitted: the model behind this route cannot read images]";
    public const string DocumentPlaceholder = "[PDF document omitted: the model behind this route cannot read PDF files]";

    public static ChatRequestResult Write(ReadOnlyMemory<byte> anthropicBody, string upstreamModel, ChatQuirks quirks, IBufferWriter<byte> output)
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

            var state = new RequestState(root, quirks);
            using var writer = new Utf8JsonWriter(output, ProtocolJson.WriterOptions);
            var maxTokens = state.Write(writer, upstreamModel);
            writer.Flush();
            return new ChatRequestResult(state.Stream, state.ShortenedNames, maxTokens);
        }
    }

    /// <summary>The reasoning effort for a thinking budget: below 4K low, below 16K medium, else high.</summary>
    public static string EffortForBudget(long budget) => budget < 4096 ? "low" : budget < 16384 ? "medium" : "high";

    /// <summary>Anthropic's <c>output_config.effort</c> in OpenAI's three-level scale.</summary>
    public static string NormalizeEffort(string? effort) => effort switch
    {
        "low" or "minimal" => "low",
        "high" or "xhigh" or "max" => "high",
        _ => "medium",
    };

    private sealed class RequestState
    {
        private readonly JsonElement _root;
        private readonly ChatQuirks _quirks;
        private readonly Dictionary<string, string> _toUpstreamName = new(StringComparer.Ordinal);
        private readonly HashSet<string> _referencedTools = new(StringComparer.Ordinal);

        public RequestState(JsonElement root, ChatQuirks quirks)
        {
            _root = root;
            _quirks = quirks;
            Stream = root.TryGetProperty("stream", out var stream) && stream.ValueKind == JsonValueKind.True;
            Messages = root.TryGetProperty("messages", out var messages) && messages.ValueKind == JsonValueKind.Array
                ? messages
                : throw new TranslationException("messages: Field required");

            // Thinking: enabled / adaptive turn reasoning on, disabled turns it off, absent leaves the provider's default.
            if (root.TryGetProperty("thinking", out var thinking) && thinking.ValueKind == JsonValueKind.Object
                && thinking.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String)
            {
                var effort = root.TryGetProperty("output_config", out var oc) && oc.ValueKind == JsonValueKind.Object
                    && oc.TryGetProperty("effort", out var e) && e.ValueKind == JsonValueKind.String ? e.GetString() : null;
                if (type.ValueEquals("enabled"u8))
                {
                    ThinkingOn = true;
                    ThinkingBudget = thinking.TryGetProperty("budget_tokens", out var b) && b.TryGetInt64(out var budget) ? budget : null;
                    Effort = ThinkingBudget is { } bt ? EffortForBudget(bt) : NormalizeEffort(effort);
                }
                else if (type.ValueEquals("adaptive"u8))
                {
                    ThinkingOn = true;
                    Effort = NormalizeEffort(effort);
                }
                else if (type.ValueEquals("disabled"u8))
                {
                    ThinkingOn = false;
                }

                if (ThinkingOn == true && quirks.ThinkingRequiresStream && !Stream)
                {
                    ThinkingOn = false;
                }
            }

            CollectToolNames();
        }

        public bool Stream { get; }

        public JsonElement Messages { get; }

        /// <summary>True on, false explicitly off, null not asked.</summary>
        public bool? ThinkingOn { get; }

        public long? ThinkingBudget { get; }

        public string Effort { get; } = "medium";

        public Dictionary<string, string>? ShortenedNames { get; private set; }

        private string UpstreamName(string name) => _toUpstreamName.TryGetValue(name, out var mapped) ? mapped : name;

        private void CollectToolNames()
        {
            void Add(string? name)
            {
                if (name is null || _toUpstreamName.ContainsKey(name))
                {
                    return;
                }

                var upstream = ToolNames.ToUpstream(name);
                _toUpstreamName[name] = upstream;
                if (!string.Equals(upstream, name, StringComparison.Ordinal))
                {
                    (ShortenedNames ??= new(StringComparer.Ordinal))[upstream] = name;
                }
            }

            if (_root.TryGetProperty("tools", out var tools) && tools.ValueKind == JsonValueKind.Array)
            {
                foreach (var tool in tools.EnumerateArray())
                {
                    Add(StringOf(tool, "name"));
                }
            }

            foreach (var message in Messages.EnumerateArray())
            {
                if (message.ValueKind == JsonValueKind.Object && message.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.Array)
                {
                    foreach (var block in content.EnumerateArray())
                    {
                        var blockType = BlockType(block);
                        if (blockType == "tool_use")
                        {
                            Add(StringOf(block, "name"));
                        }
                        else if (blockType == "tool_result" && block.TryGetProperty("content", out var result) && result.ValueKind == JsonValueKind.Array)
                        {
                            foreach (var item in result.EnumerateArray())
                            {
                                if (BlockType(item) == "tool_reference" && (StringOf(item, "tool_name") ?? StringOf(item, "name")) is { } referenced)
                                {
                                    _referencedTools.Add(referenced);
                                }
                            }
                        }
                    }
                }
            }
        }

        public long? Write(Utf8JsonWriter w, string upstreamModel)
        {
            w.WriteStartObject();
            w.WriteString("model"u8, upstreamModel);

            w.WriteStartArray("messages"u8);
            WriteSystem(w);
            WriteMessages(w);
            w.WriteEndArray();

            var wroteTools = WriteTools(w);
            if (wroteTools)
            {
                WriteToolChoice(w);
            }

            long? maxTokens = null;
            if (_root.TryGetProperty("max_tokens", out var mt) && mt.TryGetInt64(out var requested))
            {
                maxTokens = _quirks.MaxOutputTokens is { } limit ? Math.Min(requested, limit) : requested;
                w.WriteNumber(_quirks.UseMaxCompletionTokens ? "max_completion_tokens"u8 : "max_tokens"u8, maxTokens.Value);
            }

            w.WriteBoolean("stream"u8, Stream);
            if (Stream && _quirks.StreamUsage)
            {
                w.WriteStartObject("stream_options"u8);
                w.WriteBoolean("include_usage"u8, true);
                w.WriteEndObject();
            }

            var reasoningSent = WriteReasoning(w);
            if (!(reasoningSent && _quirks.DropSamplingWhenReasoning))
            {
                CopyNumber(w, "temperature", "temperature"u8);
                CopyNumber(w, "top_p", "top_p"u8);
            }

            if (_quirks.AcceptsTopK)
            {
                CopyNumber(w, "top_k", "top_k"u8);
            }

            WriteStop(w);
            WriteUser(w);
            WriteResponseFormat(w);
            w.WriteEndObject();
            return maxTokens;
        }

        private void CopyNumber(Utf8JsonWriter w, string name, ReadOnlySpan<byte> target)
        {
            if (_root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number)
            {
                w.WritePropertyName(target);
                value.WriteTo(w);
            }
        }

        // ---- system ----

        private void WriteSystem(Utf8JsonWriter w)
        {
            var parts = new List<(string Text, JsonElement CacheControl)>();
            if (_root.TryGetProperty("system", out var system))
            {
                AddSystemContent(parts, system, dropBillingHeader: true);
            }

            // Claude Code sends role:"system" messages inside messages[]; Qwen/DashScope and others reject a system
            // message after the first (new-api#7307). They are hoisted here; their text is stable across turns, so the
            // prompt prefix stays cacheable.
            foreach (var message in Messages.EnumerateArray())
            {
                if (message.ValueKind == JsonValueKind.Object && StringOf(message, "role") == "system" && message.TryGetProperty("content", out var content))
                {
                    AddSystemContent(parts, content, dropBillingHeader: false);
                }
            }

            var instruction = StructuredOutputInstruction();
            if (instruction is not null)
            {
                parts.Add((instruction, default));
            }

            if (parts.Count == 0)
            {
                return;
            }

            w.WriteStartObject();
            w.WriteString("role"u8, "system"u8);
            if (_quirks.KeepCacheControl && parts.Exists(p => p.CacheControl.ValueKind == JsonValueKind.Object))
            {
                w.WriteStartArray("content"u8);
                foreach (var (text, cacheControl) in parts)
                {
                    WriteTextPart(w, text, cacheControl);
                }

                w.WriteEndArray();
            }
            else
            {
                w.WriteString("content"u8, string.Join("\n\n", parts.Select(p => p.Text)));
            }

            w.WriteEndObject();
        }

        private static void AddSystemContent(List<(string, JsonElement)> parts, JsonElement content, bool dropBillingHeader)
        {
            if (content.ValueKind == JsonValueKind.String)
            {
                var text = content.GetString()!;
                if (text.Length > 0)
                {
                    parts.Add((text, default));
                }

                return;
            }

            if (content.ValueKind != JsonValueKind.Array)
            {
                return;
            }

            foreach (var block in content.EnumerateArray())
            {
                var text = StringOf(block, "text");
                if (string.IsNullOrEmpty(text) || (dropBillingHeader && text.StartsWith(BillingHeaderPrefix, StringComparison.Ordinal)))
                {
                    continue;
                }

                parts.Add((text, block.TryGetProperty("cache_control", out var cc) ? cc : default));
            }
        }

        private string? StructuredOutputInstruction()
        {
            if (FormatSchema() is not { } schema || _quirks.StructuredOutput == StructuredOutputStyle.JsonSchema)
            {
                return null;
            }

            return "Respond with only a JSON object, with no other text, that conforms to this JSON Schema:\n" + schema.GetRawText();
        }

        private JsonElement? FormatSchema() =>
            _root.TryGetProperty("output_config", out var oc) && oc.ValueKind == JsonValueKind.Object
            && oc.TryGetProperty("format", out var format) && format.ValueKind == JsonValueKind.Object
            && StringOf(format, "type") == "json_schema" && format.TryGetProperty("schema", out var schema) && schema.ValueKind == JsonValueKind.Object
                ? schema
                : null;

        private void WriteResponseFormat(Utf8JsonWriter w)
        {
            if (FormatSchema() is not { } schema || _quirks.StructuredOutput == StructuredOutputStyle.InstructionOnly)
            {
                return;
            }

            w.WriteStartObject("response_format"u8);
            if (_quirks.StructuredOutput == StructuredOutputStyle.JsonObject)
            {
                w.WriteString("type"u8, "json_object"u8);
            }
            else
            {
                w.WriteString("type"u8, "json_schema"u8);
                w.WriteStartObject("json_schema"u8);
                w.WriteString("name"u8, "response"u8);
                w.WritePropertyName("schema"u8);
                new SchemaWriter(schema, _quirks.Schema, _quirks.DroppedSchemaKeywords).Write(w, schema);
                w.WriteEndObject();
            }

            w.WriteEndObject();
        }

        // ---- messages ----

        private void WriteMessages(Utf8JsonWriter w)
        {
            // Ids of the previous assistant message's tool calls that still need a tool message.
            var pending = new List<string>();
            var index = 0;
            foreach (var message in Messages.EnumerateArray())
            {
                if (message.ValueKind != JsonValueKind.Object)
                {
                    throw new TranslationException($"messages.{index}: Input should be a valid dictionary");
                }

                var role = StringOf(message, "role");
                message.TryGetProperty("content", out var content);
                switch (role)
                {
                    case "system":
                        break; // hoisted into the system message
                    case "user":
                        WriteUser(w, content, pending, index);
                        pending.Clear();
                        break;
                    case "assistant":
                        WriteInterrupted(w, pending);
                        pending.Clear();
                        WriteAssistant(w, content, pending, index);
                        break;
                    default:
                        throw new TranslationException($"messages.{index}.role: Input should be 'user' or 'assistant'");
                }

                index++;
            }

            // An assistant tool call with nothing after it (an interrupted session) still needs its tool message.
            WriteInterrupted(w, pending);
        }

        /// <summary>"An assistant message with 'tool_calls' must be followed by tool messages responding to each
        /// 'tool_call_id'": calls left without a result get a synthetic one.</summary>
        private static void WriteInterrupted(Utf8JsonWriter w, List<string> pending)
        {
            foreach (var id in pending)
            {
                WriteToolMessage(w, id, InterruptedToolResult);
            }
        }

        private static void WriteToolMessage(Utf8JsonWriter w, string anthropicId, string content)
        {
            w.WriteStartObject();
            w.WriteString("role"u8, "tool"u8);
            w.WriteString("tool_call_id"u8, ToolIds.ToUpstream(anthropicId));
            w.WriteString("content"u8, content);
            w.WriteEndObject();
        }

        private void WriteUser(Utf8JsonWriter w, JsonElement content, List<string> pending, int index)
        {
            if (content.ValueKind == JsonValueKind.String)
            {
                WriteInterrupted(w, pending);
                w.WriteStartObject();
                w.WriteString("role"u8, "user"u8);
                w.WriteString("content"u8, content.GetString());
                w.WriteEndObject();
                return;
            }

            if (content.ValueKind != JsonValueKind.Array)
            {
                throw new TranslationException($"messages.{index}.content: Input should be a valid list");
            }

            // Tool results first, one tool message per id (merged if a client split one result), in call order.
            var results = new Dictionary<string, StringBuilder>(StringComparer.Ordinal);
            var resultOrder = new List<string>();
            var parts = new List<UserPart>();
            var movedImages = new List<UserPart>();
            foreach (var block in content.EnumerateArray())
            {
                var type = BlockType(block);
                if (type == "tool_result")
                {
                    var id = StringOf(block, "tool_use_id") ?? "";
                    var text = ToolResultText(block, movedImages);
                    if (!pending.Contains(id))
                    {
                        // A result without its call (history edited or compacted): keep the information as text.
                        parts.Add(UserPart.Text($"[result of tool call {id}]\n{text}", default));
                        continue;
                    }

                    if (results.TryGetValue(id, out var existing))
                    {
                        existing.Append('\n').Append(text);
                    }
                    else
                    {
                        results[id] = new StringBuilder(text);
                        resultOrder.Add(id);
                    }
                }
                else
                {
                    AddUserPart(parts, block, type);
                }
            }

            foreach (var id in pending)
            {
                WriteToolMessage(w, id, results.TryGetValue(id, out var text) ? text.ToString() : InterruptedToolResult);
            }

            // Most servers reject images inside role:"tool"; they follow in a user message instead.
            if (movedImages.Count > 0)
            {
                parts.InsertRange(0, [UserPart.Text("[images returned by the tool calls above]", default), .. movedImages]);
            }

            if (parts.Count == 0)
            {
                return;
            }

            w.WriteStartObject();
            w.WriteString("role"u8, "user"u8);
            if (parts.Count == 1 && parts[0].IsText && parts[0].CacheControl.ValueKind != JsonValueKind.Object)
            {
                // Some servers (Ollama, older vLLM templates) choke on arrays; one text part goes as a string.
                w.WriteString("content"u8, parts[0].Value);
            }
            else
            {
                w.WriteStartArray("content"u8);
                foreach (var part in parts)
                {
                    part.WriteTo(w, _quirks);
                }

                w.WriteEndArray();
            }

            w.WriteEndObject();
        }

        private void AddUserPart(List<UserPart> parts, JsonElement block, string? type)
        {
            switch (type)
            {
                case "text":
                    var text = StringOf(block, "text");
                    if (!string.IsNullOrEmpty(text))
                    {
                        parts.Add(UserPart.Text(text, block.TryGetProperty("cache_control", out var cc) ? cc : default));
                    }

                    break;
                case "image":
                    parts.Add(ImagePart(block));
                    break;
                case "document":
                    parts.Add(DocumentPart(block));
                    break;
                case "search_result":
                    parts.Add(UserPart.Text(SearchResultText(block), default));
                    break;
                default:
                    // thinking blocks in a user turn, server tool results, future types: nothing a chat model can use.
                    break;
            }
        }

        private UserPart ImagePart(JsonElement block)
        {
            if (!_quirks.Vision)
            {
                return UserPart.Text(ImagePlaceholder, default);
            }

            if (block.TryGetProperty("source", out var source) && source.ValueKind == JsonValueKind.Object)
            {
                switch (StringOf(source, "type"))
                {
                    case "base64":
                        return UserPart.Image($"data:{StringOf(source, "media_type") ?? "image/png"};base64,{StringOf(source, "data")}");
                    case "url":
                        return UserPart.Image(StringOf(source, "url") ?? "");
                    default:
                        break;
                }
            }

            return UserPart.Text("[image omitted: its source type cannot be sent to this provider]", default);
        }

        private UserPart DocumentPart(JsonElement block)
        {
            var title = StringOf(block, "title");
            if (block.TryGetProperty("source", out var source) && source.ValueKind == JsonValueKind.Object)
            {
                switch (StringOf(source, "type"))
                {
                    case "text":
                        return UserPart.Text((title is null ? "" : title + "\n\n") + StringOf(source, "data"), default);
                    case "content" when source.TryGetProperty("content", out var inner):
                        var builder = new StringBuilder(title is null ? "" : title + "\n\n");
                        AppendTexts(builder, inner);
                        return UserPart.Text(builder.ToString(), default);
                    case "base64" when _quirks.Documents:
                        return UserPart.File(title ?? "document.pdf", $"data:{StringOf(source, "media_type") ?? "application/pdf"};base64,{StringOf(source, "data")}");
                    case "url":
                        return UserPart.Text($"[document: {StringOf(source, "url")}]", default);
                    default:
                        break;
                }
            }

            return UserPart.Text(DocumentPlaceholder, default);
        }

        private static string SearchResultText(JsonElement block)
        {
            var builder = new StringBuilder();
            builder.Append(StringOf(block, "title")).Append(" (").Append(StringOf(block, "source")).Append(")\n");
            if (block.TryGetProperty("content", out var content))
            {
                AppendTexts(builder, content);
            }

            return builder.ToString();
        }

        private static void AppendTexts(StringBuilder builder, JsonElement content)
        {
            if (content.ValueKind == JsonValueKind.String)
            {
                builder.Append(content.GetString());
                return;
            }

            if (content.ValueKind != JsonValueKind.Array)
            {
                return;
            }

            var first = true;
            foreach (var item in content.EnumerateArray())
            {
                if (StringOf(item, "text") is { } text)
                {
                    if (!first)
                    {
                        builder.Append('\n');
                    }

                    builder.Append(text);
                    first = false;
                }
            }
        }

        /// <summary>A tool result's text (text parts joined by newlines), with images moved out or replaced, and
        /// <c>is_error</c> made explicit: OpenAI tool messages have no error flag, and a model that cannot tell a failure
        /// from output repeats the call.</summary>
        private string ToolResultText(JsonElement block, List<UserPart> movedImages)
        {
            var text = new StringBuilder();
            if (block.TryGetProperty("is_error", out var isError) && isError.ValueKind == JsonValueKind.True)
            {
                text.Append(ToolErrorPrefix);
            }

            if (block.TryGetProperty("content", out var content))
            {
                if (content.ValueKind == JsonValueKind.String)
                {
                    text.Append(content.GetString());
                }
                else if (content.ValueKind == JsonValueKind.Array)
                {
                    var first = true;
                    foreach (var item in content.EnumerateArray())
                    {
                        string? piece;
                        switch (BlockType(item))
                        {
                            case "text":
                                piece = StringOf(item, "text");
                                break;
                            case "image":
                                if (_quirks.Vision)
                                {
                                    movedImages.Add(ImagePart(item));
                                    piece = "[image: sent in the next user message]";
                                }
                                else
                                {
                                    piece = ImagePlaceholder;
                                }

                                break;
                            case "document":
                                var document = DocumentPart(item);
                                if (document.IsText)
                                {
                                    piece = document.Value;
                                }
                                else
                                {
                                    movedImages.Add(document);
                                    piece = "[document: sent in the next user message]";
                                }

                                break;
                            case "search_result":
                                piece = SearchResultText(item);
                                break;
                            case "tool_reference":
                                piece = $"[tool loaded: {StringOf(item, "tool_name") ?? StringOf(item, "name")}]";
                                break;
                            default:
                                piece = StringOf(item, "text");
                                break;
                        }

                        if (string.IsNullOrEmpty(piece))
                        {
                            continue;
                        }

                        if (!first)
                        {
                            text.Append('\n');
                        }

                        text.Append(piece);
                        first = false;
                    }
                }
            }

            // Several servers (Gemini among them) reject an empty tool message.
            return text.Length == 0 ? "(no output)" : text.ToString();
        }

        private void WriteAssistant(Utf8JsonWriter w, JsonElement content, List<string> toolIds, int index)
        {
            if (content.ValueKind == JsonValueKind.String)
            {
                var only = content.GetString();
                if (!string.IsNullOrEmpty(only))
                {
                    w.WriteStartObject();
                    w.WriteString("role"u8, "assistant"u8);
                    w.WriteString("content"u8, only);
                    w.WriteEndObject();
                }

                return;
            }

            if (content.ValueKind != JsonValueKind.Array)
            {
                throw new TranslationException($"messages.{index}.content: Input should be a valid list");
            }

            var text = new StringBuilder();
            var reasoning = new StringBuilder();
            var calls = new List<JsonElement>();
            foreach (var block in content.EnumerateArray())
            {
                switch (BlockType(block))
                {
                    case "text":
                        var piece = StringOf(block, "text");
                        if (!string.IsNullOrEmpty(piece))
                        {
                            if (text.Length > 0)
                            {
                                text.Append('\n');
                            }

                            text.Append(piece);
                        }

                        break;
                    case "thinking":
                        reasoning.Append(StringOf(block, "thinking"));
                        break;
                    case "tool_use":
                        calls.Add(block);
                        break;
                    default:
                        break; // redacted_thinking and server tool blocks mean nothing to another provider
                }
            }

            if (text.Length == 0 && calls.Count == 0)
            {
                return; // an assistant turn with nothing to say (only thinking): sending it empty is a 400 on several servers
            }

            w.WriteStartObject();
            w.WriteString("role"u8, "assistant"u8);
            if (text.Length > 0)
            {
                w.WriteString("content"u8, text.ToString());
            }
            else
            {
                w.WriteNull("content"u8);
            }

            // DeepSeek, Kimi and GLM in thinking mode answer 400 unless a tool-calling turn carries its reasoning back
            // (claude-code-router#1378, claude-code#37757).
            if (_quirks.EchoReasoningContent && (reasoning.Length > 0 || (calls.Count > 0 && ThinkingOn != false)))
            {
                w.WriteString("reasoning_content"u8, reasoning.ToString());
            }

            if (calls.Count > 0)
            {
                w.WriteStartArray("tool_calls"u8);
                foreach (var call in calls)
                {
                    var id = StringOf(call, "id") ?? ToolIds.NewId();
                    toolIds.Add(id);
                    w.WriteStartObject();
                    w.WriteString("id"u8, ToolIds.ToUpstream(id, out var signature));
                    w.WriteString("type"u8, "function"u8);
                    w.WriteStartObject("function"u8);
                    w.WriteString("name"u8, UpstreamName(StringOf(call, "name") ?? ""));
                    w.WriteString("arguments"u8, call.TryGetProperty("input", out var input) && input.ValueKind == JsonValueKind.Object ? input.GetRawText() : "{}");
                    w.WriteEndObject();
                    if (signature is not null)
                    {
                        w.WriteStartObject("extra_content"u8);
                        w.WriteStartObject("google"u8);
                        w.WriteString("thought_signature"u8, signature);
                        w.WriteEndObject();
                        w.WriteEndObject();
                    }

                    w.WriteEndObject();
                }

                w.WriteEndArray();
            }

            w.WriteEndObject();
        }

        // ---- tools ----

        private bool WriteTools(Utf8JsonWriter w)
        {
            var wrote = false;
            foreach (var (name, description, schema) in FunctionTools.Sendable(_root, _referencedTools))
            {
                if (!wrote)
                {
                    w.WriteStartArray("tools"u8);
                    wrote = true;
                }

                w.WriteStartObject();
                w.WriteString("type"u8, "function"u8);
                w.WriteStartObject("function"u8);
                w.WriteString("name"u8, UpstreamName(name));
                if (description is not null)
                {
                    w.WriteString("description"u8, description);
                }

                if (schema is { } given && (_quirks.Schema != SchemaDialect.Gemini || SchemaWriter.HasProperties(given)))
                {
                    w.WritePropertyName("parameters"u8);
                    new SchemaWriter(given, _quirks.Schema, _quirks.DroppedSchemaKeywords).Write(w, given);
                }
                else if (_quirks.Schema != SchemaDialect.Gemini)
                {
                    w.WriteStartObject("parameters"u8);
                    w.WriteString("type"u8, "object"u8);
                    w.WriteStartObject("properties"u8);
                    w.WriteEndObject();
                    w.WriteEndObject();
                }

                w.WriteEndObject();
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

            if (_quirks.AcceptsToolChoice)
            {
                switch (StringOf(choice, "type"))
                {
                    case "auto":
                        w.WriteString("tool_choice"u8, "auto"u8);
                        break;
                    case "none":
                        w.WriteString("tool_choice"u8, "none"u8);
                        break;
                    case "any":
                        w.WriteString("tool_choice"u8, _quirks.AcceptsToolChoiceRequired ? "required"u8 : "auto"u8);
                        break;
                    case "tool" when StringOf(choice, "name") is { } name:
                        if (_quirks.AcceptsToolChoiceRequired)
                        {
                            w.WriteStartObject("tool_choice"u8);
                            w.WriteString("type"u8, "function"u8);
                            w.WriteStartObject("function"u8);
                            w.WriteString("name"u8, UpstreamName(name));
                            w.WriteEndObject();
                            w.WriteEndObject();
                        }
                        else
                        {
                            w.WriteString("tool_choice"u8, "auto"u8);
                        }

                        break;
                    default:
                        break;
                }
            }

            if (_quirks.AcceptsParallelToolCalls && choice.TryGetProperty("disable_parallel_tool_use", out var disable) && disable.ValueKind == JsonValueKind.True)
            {
                w.WriteBoolean("parallel_tool_calls"u8, false);
            }
        }

        // ---- parameters ----

        private bool WriteReasoning(Utf8JsonWriter w)
        {
            if (ThinkingOn is not { } on)
            {
                return false;
            }

            switch (_quirks.Reasoning)
            {
                case ReasoningParameter.ReasoningEffort when on:
                    w.WriteString("reasoning_effort"u8, Effort);
                    return true;
                case ReasoningParameter.OpenRouter:
                    w.WriteStartObject("reasoning"u8);
                    if (!on)
                    {
                        w.WriteBoolean("enabled"u8, false);
                    }
                    else if (ThinkingBudget is { } budget)
                    {
                        w.WriteNumber("max_tokens"u8, budget);
                    }
                    else
                    {
                        w.WriteString("effort"u8, Effort);
                    }

                    w.WriteEndObject();
                    return on;
                case ReasoningParameter.ThinkingType:
                    w.WriteStartObject("thinking"u8);
                    w.WriteString("type"u8, on ? "enabled"u8 : "disabled"u8);
                    w.WriteEndObject();
                    return on;
                case ReasoningParameter.EnableThinking:
                    w.WriteBoolean("enable_thinking"u8, on);
                    if (on && ThinkingBudget is { } qwenBudget)
                    {
                        w.WriteNumber("thinking_budget"u8, qwenBudget);
                    }

                    return on;
                default:
                    return false;
            }
        }

        private void WriteStop(Utf8JsonWriter w)
        {
            if (!_root.TryGetProperty("stop_sequences", out var stops) || stops.ValueKind != JsonValueKind.Array)
            {
                return;
            }

            var values = stops.EnumerateArray().Where(s => s.ValueKind == JsonValueKind.String).Select(s => s.GetString()!)
                .Where(s => s.Length > 0).Take(_quirks.MaxStopSequences).ToList();
            if (values.Count == 1)
            {
                w.WriteString("stop"u8, values[0]);
            }
            else if (values.Count > 1)
            {
                w.WriteStartArray("stop"u8);
                foreach (var value in values)
                {
                    w.WriteStringValue(value);
                }

                w.WriteEndArray();
            }
        }

        private void WriteUser(Utf8JsonWriter w)
        {
            if (!_quirks.AcceptsUser || !_root.TryGetProperty("metadata", out var metadata) || metadata.ValueKind != JsonValueKind.Object
                || StringOf(metadata, "user_id") is not { Length: > 0 } userId)
            {
                return;
            }

            // Claude Code's value is long and embeds device and session ids; providers only need a stable opaque id.
            w.WriteString("user"u8, userId.Length <= 64 && ToolIds.IsAnthropicSafe(userId)
                ? userId
                : Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(userId))));
        }
    }

    private static void WriteTextPart(Utf8JsonWriter w, string text, JsonElement cacheControl)
    {
        w.WriteStartObject();
        w.WriteString("type"u8, "text"u8);
        w.WriteString("text"u8, text);
        if (cacheControl.ValueKind == JsonValueKind.Object)
        {
            w.WritePropertyName("cache_control"u8);
            cacheControl.WriteTo(w);
        }

        w.WriteEndObject();
    }

    internal static string? StringOf(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;

    private static string? BlockType(JsonElement block) => StringOf(block, "type");

    /// <summary>One part of a user message's content array.</summary>
    private readonly record struct UserPart(int Kind, string Value, string? FileName, JsonElement CacheControl)
    {
        public bool IsText => Kind == 0;

        public static UserPart Text(string text, JsonElement cacheControl) => new(0, text, null, cacheControl);

        public static UserPart Image(string url) => new(1, url, null, default);

        public static UserPart File(string name, string dataUrl) => new(2, dataUrl, name, default);

        public void WriteTo(Utf8JsonWriter w, ChatQuirks quirks)
        {
            switch (Kind)
            {
                case 0:
                    WriteTextPart(w, Value, quirks.KeepCacheControl ? CacheControl : default);
                    break;
                case 1:
                    w.WriteStartObject();
                    w.WriteString("type"u8, "image_url"u8);
                    w.WriteStartObject("image_url"u8);
                    w.WriteString("url"u8, Value);
                    w.WriteEndObject();
                    w.WriteEndObject();
                    break;
                default:
                    w.WriteStartObject();
                    w.WriteString("type"u8, "file"u8);
                    w.WriteStartObject("file"u8);
                    w.WriteString("filename"u8, FileName);
                    w.WriteString("file_data"u8, Value);
                    w.WriteEndObject();
                    w.WriteEndObject();
                    break;
            }
        }
    }
}
