using System.Buffers;
using System.Text;
using System.Text.Json;
using Relay.Protocol.Json;

namespace Relay.Protocol.Translation;

/// <summary>What a Responses API door needs to know about the request it translated.</summary>
/// <param name="Model">The model the client asked for (also in the Messages request).</param>
/// <param name="Stream">Whether the client asked for SSE.</param>
/// <param name="Store">What the client sent as <c>store</c> (the API's default is true); Relay stores nothing either way.</param>
/// <param name="MaxTokens">The <c>max_tokens</c> written.</param>
/// <param name="Thinking">Whether the Messages request turns thinking on.</param>
/// <param name="CustomTools">Names of the client's <c>custom</c> (free-form) tools: their calls go back as
/// <c>custom_tool_call</c> items.</param>
/// <param name="DroppedTools">Types of the client's built-in tools that have no Anthropic counterpart and were left out.</param>
public sealed record ResponsesRequestResult(
    string Model,
    bool Stream,
    bool Store,
    long MaxTokens,
    bool Thinking,
    IReadOnlySet<string> CustomTools,
    IReadOnlyList<string> DroppedTools);

/// <summary>Writes the Anthropic Messages request for an OpenAI Responses API request (<c>POST /v1/responses</c>).</summary>
/// <remarks>
/// Stateless: the whole conversation must be in <c>input</c>, as the Codex CLI sends it (<c>store: false</c>);
/// <c>previous_response_id</c>, <c>conversation</c>, <c>item_reference</c> and stored prompts are refused with a 400.
/// The body is parsed once (pooled <see cref="JsonDocument"/>) and the new request written with a
/// <see cref="Utf8JsonWriter"/>; schemas, tool inputs and arguments are copied from the parsed elements. Every mapping
/// decision is listed in docs/responses-api.md.
/// </remarks>
public static class ResponsesToMessagesRequest
{
    /// <summary><c>max_tokens</c> when the client sends no <c>max_output_tokens</c> (Codex never does); a route's
    /// <c>max_tokens</c> cap still applies.</summary>
    public const long DefaultMaxTokens = 32_000;

    /// <summary>Anthropic's smallest thinking budget.</summary>
    public const long MinThinkingBudget = 1024;

    public static ResponsesRequestResult Write(ReadOnlyMemory<byte> responsesBody, IBufferWriter<byte> output, long defaultMaxTokens = DefaultMaxTokens)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(responsesBody);
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

            var request = new RequestState(root, defaultMaxTokens);
            using var writer = new Utf8JsonWriter(output, ProtocolJson.WriterOptions);
            request.Write(writer);
            writer.Flush();
            return request.Result();
        }
    }

    /// <summary>The thinking budget for a Responses <c>reasoning.effort</c>; null turns thinking off.</summary>
    public static long? ThinkingBudget(string? effort) => effort switch
    {
        "none" or "minimal" => null,
        "low" => 4_096,
        "high" => 16_384,
        "xhigh" or "max" => 24_576,
        _ => 8_192, // medium, and an effort this table does not know
    };

    private enum BlockKind
    {
        Text,
        Image,
        Document,
        Thinking,
        ToolUse,
        ToolResult,
    }

    /// <summary>One Anthropic content block, held until the messages are merged and paired.</summary>
    /// <param name="Value">Text, thinking, a base64 payload or a URL; a tool call's input JSON.</param>
    /// <param name="Extra">A media type (null for a URL source); a thinking signature; a tool's name.</param>
    private sealed record Block(BlockKind Kind, string Value, string? Extra = null, string? Id = null, List<Block>? Content = null)
    {
        public bool IsError { get; init; }
    }

    private sealed class Message(string role)
    {
        public string Role { get; } = role;

        public List<Block> Blocks { get; } = [];
    }

    private sealed class RequestState
    {
        private readonly JsonElement _root;
        private readonly List<string> _system = [];
        private readonly List<Message> _messages = [];
        private readonly HashSet<string> _customTools = new(StringComparer.Ordinal);
        private readonly List<string> _droppedTools = [];

        public RequestState(JsonElement root, long defaultMaxTokens)
        {
            _root = root;
            Refuse("previous_response_id", "Relay does not store responses: send the whole conversation in input (with store: false) instead of previous_response_id.");
            Refuse("conversation", "Relay does not store conversations: send the whole conversation in input (with store: false).");
            Refuse("prompt", "Relay does not have stored prompts: send the instructions and input in the request.");
            if (root.TryGetProperty("background", out var background) && background.ValueKind == JsonValueKind.True)
            {
                throw new TranslationException("background: Relay does not run responses in the background; send the request without background.");
            }

            Model = StringOf(root, "model") is { Length: > 0 } model ? model : throw new TranslationException("model: Field required");
            Stream = root.TryGetProperty("stream", out var stream) && stream.ValueKind == JsonValueKind.True;
            Store = !(root.TryGetProperty("store", out var store) && store.ValueKind == JsonValueKind.False);

            MaxTokens = defaultMaxTokens;
            if (root.TryGetProperty("max_output_tokens", out var max) && max.ValueKind != JsonValueKind.Null)
            {
                MaxTokens = max.TryGetInt64(out var requested) && requested > 0
                    ? requested
                    : throw new TranslationException("max_output_tokens: Input should be a positive integer");
            }

            if (root.TryGetProperty("reasoning", out var reasoning) && reasoning.ValueKind == JsonValueKind.Object)
            {
                if (ThinkingBudget(StringOf(reasoning, "effort")) is { } budget)
                {
                    // max_tokens counts thinking too: a budget that would leave no room for the answer is halved.
                    budget = budget >= MaxTokens ? MaxTokens / 2 : budget;
                    ThinkingBudgetTokens = budget >= MinThinkingBudget ? budget : null;
                }
            }

            ReadInstructions();
            ReadInput();
        }

        public string Model { get; }

        public bool Stream { get; }

        public bool Store { get; }

        public long MaxTokens { get; }

        /// <summary>The thinking budget to send; null when thinking stays off.</summary>
        public long? ThinkingBudgetTokens { get; private set; }

        public ResponsesRequestResult Result() =>
            new(Model, Stream, Store, MaxTokens, ThinkingBudgetTokens is not null, _customTools, _droppedTools);

        private void Refuse(string name, string message)
        {
            if (_root.TryGetProperty(name, out var value) && value.ValueKind is not (JsonValueKind.Null or JsonValueKind.Undefined))
            {
                throw new TranslationException($"{name}: {message}", name);
            }
        }

        // ---- reading ----

        private void ReadInstructions()
        {
            if (StringOf(_root, "instructions") is { Length: > 0 } instructions)
            {
                _system.Add(instructions);
            }
        }

        private void ReadInput()
        {
            if (!_root.TryGetProperty("input", out var input) || input.ValueKind == JsonValueKind.Null)
            {
                throw new TranslationException("input: Field required");
            }

            if (input.ValueKind == JsonValueKind.String)
            {
                Add("user", new Block(BlockKind.Text, input.GetString()!));
            }
            else if (input.ValueKind == JsonValueKind.Array)
            {
                var index = 0;
                foreach (var item in input.EnumerateArray())
                {
                    ReadItem(item, index++);
                }
            }
            else
            {
                throw new TranslationException("input: Input should be a string or a list of items");
            }

            DropEmptyAssistantTurns();
            PairToolCalls();
            if (_messages.Count == 0)
            {
                throw new TranslationException("input: the request has no message to answer");
            }

            TurnOffThinkingIfHistoryLacksIt();
        }

        private void ReadItem(JsonElement item, int index)
        {
            if (item.ValueKind != JsonValueKind.Object)
            {
                throw new TranslationException($"input.{index}: Input should be an object");
            }

            // An item without a type is a message ({"role":…,"content":…}), as the API allows.
            switch (StringOf(item, "type") ?? "message")
            {
                case "message":
                    ReadMessage(item, index);
                    break;
                case "function_call":
                    Add("assistant", ToolUse(StringOf(item, "call_id") ?? StringOf(item, "id"), StringOf(item, "name"), ArgumentsOf(item)));
                    break;
                case "custom_tool_call":
                    Add("assistant", ToolUse(StringOf(item, "call_id") ?? StringOf(item, "id"), StringOf(item, "name"), CustomInputJson(StringOf(item, "input") ?? "")));
                    break;
                case "local_shell_call":
                    // History from an OpenAI session with the local_shell tool: kept as a call of that name.
                    Add("assistant", ToolUse(StringOf(item, "call_id") ?? StringOf(item, "id"), "local_shell",
                        item.TryGetProperty("action", out var action) && action.ValueKind == JsonValueKind.Object ? action.GetRawText() : "{}"));
                    break;
                case "function_call_output":
                case "custom_tool_call_output":
                case "local_shell_call_output":
                    Add("user", ToolResult(item));
                    break;
                case "reasoning":
                    ReadReasoning(item);
                    break;
                case "item_reference":
                    throw new TranslationException($"input.{index}: Relay does not store items; send the item itself instead of an item_reference.");
                default:
                    // web_search_call, image_generation_call, tool_search_*, compaction (OpenAI's encrypted summary),
                    // and kinds added later: nothing another provider can read.
                    break;
            }
        }

        private void ReadMessage(JsonElement item, int index)
        {
            var role = StringOf(item, "role");
            item.TryGetProperty("content", out var content);
            switch (role)
            {
                case "system" or "developer":
                    var text = PlainText(content);
                    if (text.Length == 0)
                    {
                        break;
                    }

                    // Leading instructions join the system prompt; later ones (a setting changed mid-session) stay
                    // where they are, as user text, so the cached prefix before them is not invalidated.
                    if (_messages.Count == 0)
                    {
                        _system.Add(text);
                    }
                    else
                    {
                        Add("user", new Block(BlockKind.Text, text));
                    }

                    break;
                case "user" or "assistant":
                    foreach (var block in ContentBlocks(content, $"input.{index}.content"))
                    {
                        Add(role, block);
                    }

                    break;
                default:
                    throw new TranslationException($"input.{index}.role: Input should be 'user', 'assistant', 'system' or 'developer'");
            }
        }

        private void ReadReasoning(JsonElement item)
        {
            // Only Relay's own items carry something Anthropic can verify: the thinking block's signature.
            if (!ResponsesReasoning.TryGetSignature(StringOf(item, "encrypted_content"), out var signature))
            {
                return;
            }

            var thinking = new StringBuilder();
            if (item.TryGetProperty("summary", out var summary) && summary.ValueKind == JsonValueKind.Array)
            {
                foreach (var part in summary.EnumerateArray())
                {
                    if (StringOf(part, "text") is { } text)
                    {
                        if (thinking.Length > 0)
                        {
                            thinking.Append("\n\n");
                        }

                        thinking.Append(text);
                    }
                }
            }

            Add("assistant", new Block(BlockKind.Thinking, thinking.ToString(), signature));
        }

        private static Block ToolUse(string? callId, string? name, string inputJson) =>
            new(BlockKind.ToolUse, inputJson, name ?? "", ToolIds.FromClient(callId));

        private static Block ToolResult(JsonElement item)
        {
            var id = ToolIds.FromClient(StringOf(item, "call_id") ?? StringOf(item, "id"));
            item.TryGetProperty("output", out var output);
            if (output.ValueKind == JsonValueKind.Array)
            {
                return new Block(BlockKind.ToolResult, "", null, id, [.. ContentBlocks(output, "output")]);
            }

            var text = output.ValueKind switch
            {
                JsonValueKind.String => output.GetString()!,
                JsonValueKind.Undefined or JsonValueKind.Null => "",
                _ => output.GetRawText(),
            };
            return new Block(BlockKind.ToolResult, text, null, id);
        }

        /// <summary>A function call's arguments as a JSON object, repaired if the model wrote them badly.</summary>
        private static string ArgumentsOf(JsonElement item)
        {
            if (!item.TryGetProperty("arguments", out var arguments))
            {
                return "{}";
            }

            return arguments.ValueKind switch
            {
                JsonValueKind.Object => arguments.GetRawText(),
                JsonValueKind.String => ToolArguments.Normalize(arguments.GetString(), out _),
                _ => "{}",
            };
        }

        private static string CustomInputJson(string input)
        {
            var buffer = new ArrayBufferWriter<byte>(input.Length + 16);
            using (var writer = new Utf8JsonWriter(buffer, ProtocolJson.WriterOptions))
            {
                writer.WriteStartObject();
                writer.WriteString("input"u8, input);
                writer.WriteEndObject();
            }

            return Encoding.UTF8.GetString(buffer.WrittenSpan);
        }

        /// <summary>Message content (a string or parts) as Anthropic blocks.</summary>
        private static IEnumerable<Block> ContentBlocks(JsonElement content, string path)
        {
            if (content.ValueKind == JsonValueKind.String)
            {
                var text = content.GetString()!;
                if (text.Length > 0)
                {
                    yield return new Block(BlockKind.Text, text);
                }

                yield break;
            }

            if (content.ValueKind != JsonValueKind.Array)
            {
                throw new TranslationException($"{path}: Input should be a string or a list of content parts");
            }

            foreach (var part in content.EnumerateArray())
            {
                switch (StringOf(part, "type"))
                {
                    case "input_text" or "output_text" or "text":
                        if (StringOf(part, "text") is { Length: > 0 } text)
                        {
                            yield return new Block(BlockKind.Text, text);
                        }

                        break;
                    case "refusal":
                        if (StringOf(part, "refusal") is { Length: > 0 } refusal)
                        {
                            yield return new Block(BlockKind.Text, refusal);
                        }

                        break;
                    case "input_image":
                        yield return ImageBlock(part, path);
                        break;
                    case "input_file":
                        yield return FileBlock(part);
                        break;
                    default:
                        break; // audio and kinds added later
                }
            }
        }

        private static Block ImageBlock(JsonElement part, string path)
        {
            var url = StringOf(part, "image_url");
            if (url is null && part.TryGetProperty("image_url", out var nested) && nested.ValueKind == JsonValueKind.Object)
            {
                url = StringOf(nested, "url"); // the Chat Completions shape, which some clients send here too
            }

            if (url is null)
            {
                throw new TranslationException($"{path}: input_image needs an image_url (a data: or https: URL); Relay cannot read uploaded files (file_id).");
            }

            if (TryParseDataUrl(url, out var mediaType, out var data))
            {
                return new Block(BlockKind.Image, data, mediaType);
            }

            return new Block(BlockKind.Image, url);
        }

        private static Block FileBlock(JsonElement part)
        {
            if (StringOf(part, "file_data") is { } fileData)
            {
                if (TryParseDataUrl(fileData, out var mediaType, out var data))
                {
                    return new Block(BlockKind.Document, data, mediaType);
                }

                return new Block(BlockKind.Document, fileData, "application/pdf"); // bare base64
            }

            if (StringOf(part, "file_url") is { } fileUrl)
            {
                return new Block(BlockKind.Document, fileUrl);
            }

            return new Block(BlockKind.Text, $"[file omitted: {StringOf(part, "filename") ?? StringOf(part, "file_id") ?? "uploaded file"}; Relay cannot read uploaded files]");
        }

        private static bool TryParseDataUrl(string url, out string mediaType, out string data)
        {
            mediaType = data = "";
            const string marker = ";base64,";
            if (!url.StartsWith("data:", StringComparison.OrdinalIgnoreCase))
            {
                return false;
            }

            var comma = url.IndexOf(marker, StringComparison.OrdinalIgnoreCase);
            if (comma < 0)
            {
                return false;
            }

            mediaType = url[5..comma];
            data = url[(comma + marker.Length)..];
            return mediaType.Length > 0;
        }

        private static string PlainText(JsonElement content)
        {
            if (content.ValueKind == JsonValueKind.String)
            {
                return content.GetString()!;
            }

            var text = new StringBuilder();
            if (content.ValueKind == JsonValueKind.Array)
            {
                foreach (var part in content.EnumerateArray())
                {
                    if (StringOf(part, "text") is { Length: > 0 } piece)
                    {
                        if (text.Length > 0)
                        {
                            text.Append("\n\n");
                        }

                        text.Append(piece);
                    }
                }
            }

            return text.ToString();
        }

        /// <summary>Appends a block to the last message, or starts a message when the role changes.</summary>
        private void Add(string role, Block block)
        {
            if (_messages.Count == 0 || _messages[^1].Role != role)
            {
                _messages.Add(new Message(role));
            }

            _messages[^1].Blocks.Add(block);
        }

        // ---- shaping into a valid Messages conversation ----

        /// <summary>An assistant turn with nothing but thinking (the client stopped it) is an error at Anthropic;
        /// dropping it can leave two user turns in a row, which are merged.</summary>
        private void DropEmptyAssistantTurns()
        {
            _messages.RemoveAll(m => m.Role == "assistant" && m.Blocks.TrueForAll(b => b.Kind == BlockKind.Thinking));
            for (var i = _messages.Count - 1; i > 0; i--)
            {
                if (_messages[i].Role == _messages[i - 1].Role)
                {
                    _messages[i - 1].Blocks.AddRange(_messages[i].Blocks);
                    _messages.RemoveAt(i);
                }
            }
        }

        /// <summary>Anthropic needs each tool call answered in the very next user turn, results first: a call the
        /// client never answered (an interrupted turn) gets a result saying so, and a result without its call (edited
        /// history) becomes text.</summary>
        private void PairToolCalls()
        {
            var pending = new List<string>();
            for (var i = 0; i < _messages.Count; i++)
            {
                var message = _messages[i];
                if (message.Role == "assistant")
                {
                    if (pending.Count > 0)
                    {
                        _messages.Insert(i, new Message("user"));
                        i--; // the inserted turn is visited next and takes the pending results
                        continue;
                    }

                    foreach (var block in message.Blocks)
                    {
                        if (block.Kind == BlockKind.ToolUse)
                        {
                            pending.Add(block.Id!);
                        }
                    }

                    continue;
                }

                var results = new List<Block>();
                var others = new List<Block>();
                foreach (var block in message.Blocks)
                {
                    if (block.Kind != BlockKind.ToolResult)
                    {
                        others.Add(block);
                    }
                    else if (pending.Contains(block.Id!) && !results.Exists(r => r.Id == block.Id))
                    {
                        results.Add(block);
                    }
                    else
                    {
                        others.Add(new Block(BlockKind.Text, $"[result of tool call {block.Id}]\n{ResultText(block)}"));
                    }
                }

                // In call order, as the client's tool loop expects them.
                var ordered = new List<Block>(pending.Count);
                foreach (var id in pending)
                {
                    ordered.Add(results.Find(r => r.Id == id) ?? new Block(BlockKind.ToolResult, ChatRequestTranslator.InterruptedToolResult, null, id));
                }

                pending.Clear();
                message.Blocks.Clear();
                message.Blocks.AddRange(ordered);
                message.Blocks.AddRange(others);
            }

            if (pending.Count > 0)
            {
                var last = new Message("user");
                foreach (var id in pending)
                {
                    last.Blocks.Add(new Block(BlockKind.ToolResult, ChatRequestTranslator.InterruptedToolResult, null, id));
                }

                _messages.Add(last);
            }

            _messages.RemoveAll(m => m.Blocks.Count == 0);
        }

        private static string ResultText(Block result)
        {
            if (result.Content is null)
            {
                return result.Value;
            }

            return string.Join('\n', result.Content.Where(b => b.Kind == BlockKind.Text).Select(b => b.Value));
        }

        /// <summary>With thinking on, Anthropic requires the current tool loop's assistant turn to start with its
        /// thinking block; history from another provider has none, and the request can then only go without thinking.</summary>
        private void TurnOffThinkingIfHistoryLacksIt()
        {
            if (ThinkingBudgetTokens is null)
            {
                return;
            }

            var lastAssistant = _messages.FindLast(m => m.Role == "assistant");
            if (lastAssistant is not null && lastAssistant.Blocks.Exists(b => b.Kind == BlockKind.ToolUse)
                && lastAssistant.Blocks[0].Kind != BlockKind.Thinking)
            {
                ThinkingBudgetTokens = null;
            }
        }

        // ---- writing ----

        public void Write(Utf8JsonWriter w)
        {
            var toolsWritten = false;
            w.WriteStartObject();
            w.WriteString("model"u8, Model);
            w.WriteNumber("max_tokens"u8, MaxTokens);
            w.WriteBoolean("stream"u8, Stream);
            WriteSystem(w);
            WriteMessages(w);
            if (_root.TryGetProperty("tools", out var tools) && tools.ValueKind == JsonValueKind.Array)
            {
                toolsWritten = WriteTools(w, tools);
            }

            if (toolsWritten)
            {
                WriteToolChoice(w);
            }

            if (ThinkingBudgetTokens is { } budget)
            {
                w.WriteStartObject("thinking"u8);
                w.WriteString("type"u8, "enabled"u8);
                w.WriteNumber("budget_tokens"u8, budget);
                w.WriteEndObject();
            }
            else
            {
                // Anthropic refuses temperature or top_p with thinking on.
                CopyNumber(w, "temperature");
                CopyNumber(w, "top_p");
            }

            WriteOutputFormat(w);
            WriteUser(w);
            w.WriteEndObject();
        }

        private void CopyNumber(Utf8JsonWriter w, string name)
        {
            if (_root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number)
            {
                w.WritePropertyName(name);
                value.WriteTo(w);
            }
        }

        private void WriteSystem(Utf8JsonWriter w)
        {
            if (_system.Count == 0)
            {
                return;
            }

            w.WriteStartArray("system"u8);
            for (var i = 0; i < _system.Count; i++)
            {
                w.WriteStartObject();
                w.WriteString("type"u8, "text"u8);
                w.WriteString("text"u8, _system[i]);
                if (i == _system.Count - 1)
                {
                    WriteCacheControl(w); // caches tools and system, which every turn repeats
                }

                w.WriteEndObject();
            }

            w.WriteEndArray();
        }

        private void WriteMessages(Utf8JsonWriter w)
        {
            w.WriteStartArray("messages"u8);
            for (var i = 0; i < _messages.Count; i++)
            {
                var message = _messages[i];
                w.WriteStartObject();
                w.WriteString("role"u8, message.Role);
                w.WriteStartArray("content"u8);
                for (var j = 0; j < message.Blocks.Count; j++)
                {
                    // The conversation so far is the next turn's prefix: a breakpoint on its last block lets
                    // Anthropic cache it (without one, nothing is cached).
                    var last = i == _messages.Count - 1 && j == message.Blocks.Count - 1;
                    WriteBlock(w, message.Blocks[j], last);
                }

                w.WriteEndArray();
                w.WriteEndObject();
            }

            w.WriteEndArray();
        }

        private static void WriteBlock(Utf8JsonWriter w, Block block, bool cache)
        {
            w.WriteStartObject();
            switch (block.Kind)
            {
                case BlockKind.Text:
                    w.WriteString("type"u8, "text"u8);
                    w.WriteString("text"u8, block.Value);
                    break;
                case BlockKind.Image:
                case BlockKind.Document:
                    w.WriteString("type"u8, block.Kind == BlockKind.Image ? "image"u8 : "document"u8);
                    w.WriteStartObject("source"u8);
                    if (block.Extra is null)
                    {
                        w.WriteString("type"u8, "url"u8);
                        w.WriteString("url"u8, block.Value);
                    }
                    else
                    {
                        w.WriteString("type"u8, "base64"u8);
                        w.WriteString("media_type"u8, block.Extra);
                        w.WriteString("data"u8, block.Value);
                    }

                    w.WriteEndObject();
                    break;
                case BlockKind.Thinking:
                    w.WriteString("type"u8, "thinking"u8);
                    w.WriteString("thinking"u8, block.Value);
                    w.WriteString("signature"u8, block.Extra);
                    cache = false; // thinking blocks cannot carry cache_control
                    break;
                case BlockKind.ToolUse:
                    w.WriteString("type"u8, "tool_use"u8);
                    w.WriteString("id"u8, block.Id);
                    w.WriteString("name"u8, block.Extra);
                    w.WritePropertyName("input"u8);
                    w.WriteRawValue(block.Value, skipInputValidation: false);
                    break;
                case BlockKind.ToolResult:
                    w.WriteString("type"u8, "tool_result"u8);
                    w.WriteString("tool_use_id"u8, block.Id);
                    if (block.Content is { } content)
                    {
                        w.WriteStartArray("content"u8);
                        foreach (var inner in content)
                        {
                            WriteBlock(w, inner, cache: false);
                        }

                        w.WriteEndArray();
                    }
                    else
                    {
                        w.WriteString("content"u8, block.Value);
                    }

                    break;
            }

            if (cache)
            {
                WriteCacheControl(w);
            }

            w.WriteEndObject();
        }

        private static void WriteCacheControl(Utf8JsonWriter w)
        {
            w.WriteStartObject("cache_control"u8);
            w.WriteString("type"u8, "ephemeral"u8);
            w.WriteEndObject();
        }

        private bool WriteTools(Utf8JsonWriter w, JsonElement tools)
        {
            var wrote = false;
            foreach (var tool in tools.EnumerateArray())
            {
                var type = StringOf(tool, "type");
                var name = StringOf(tool, "name");
                if (type is not ("function" or "custom") || string.IsNullOrEmpty(name))
                {
                    // web_search, local_shell, image_generation, file_search, mcp, tool_search, namespace…: built into
                    // OpenAI's servers, with no Anthropic counterpart Relay can stream back as the same item kinds.
                    _droppedTools.Add(type ?? "(no type)");
                    continue;
                }

                if (!wrote)
                {
                    w.WriteStartArray("tools"u8);
                    wrote = true;
                }

                w.WriteStartObject();
                w.WriteString("name"u8, name);
                if (type == "custom")
                {
                    _customTools.Add(name);
                    WriteCustomTool(w, tool);
                }
                else
                {
                    if (StringOf(tool, "description") is { Length: > 0 } description)
                    {
                        w.WriteString("description"u8, description);
                    }

                    w.WritePropertyName("input_schema"u8);
                    if (tool.TryGetProperty("parameters", out var parameters) && parameters.ValueKind == JsonValueKind.Object)
                    {
                        parameters.WriteTo(w);
                    }
                    else
                    {
                        WriteObjectSchema(w, null);
                    }
                }

                w.WriteEndObject();
            }

            if (wrote)
            {
                w.WriteEndArray();
            }

            return wrote;
        }

        /// <summary>A free-form tool (Codex's <c>apply_patch</c>) becomes a tool with one string property, <c>input</c>;
        /// its grammar goes into the description, since Anthropic has no grammar-constrained tools.</summary>
        private static void WriteCustomTool(Utf8JsonWriter w, JsonElement tool)
        {
            var description = new StringBuilder(StringOf(tool, "description") ?? "");
            if (tool.TryGetProperty("format", out var format) && format.ValueKind == JsonValueKind.Object
                && StringOf(format, "type") == "grammar" && StringOf(format, "definition") is { Length: > 0 } definition)
            {
                if (description.Length > 0)
                {
                    description.Append("\n\n");
                }

                description.Append("The `input` property holds the raw text, which must follow this ")
                    .Append(StringOf(format, "syntax") ?? "")
                    .Append(" grammar:\n")
                    .Append(definition);
            }

            if (description.Length > 0)
            {
                w.WriteString("description"u8, description.ToString());
            }

            w.WritePropertyName("input_schema"u8);
            WriteObjectSchema(w, "The tool's raw text input (free-form, not JSON).");
        }

        private static void WriteObjectSchema(Utf8JsonWriter w, string? inputDescription)
        {
            w.WriteStartObject();
            w.WriteString("type"u8, "object"u8);
            w.WriteStartObject("properties"u8);
            if (inputDescription is not null)
            {
                w.WriteStartObject("input"u8);
                w.WriteString("type"u8, "string"u8);
                w.WriteString("description"u8, inputDescription);
                w.WriteEndObject();
            }

            w.WriteEndObject();
            if (inputDescription is not null)
            {
                w.WriteStartArray("required"u8);
                w.WriteStringValue("input"u8);
                w.WriteEndArray();
            }

            w.WriteEndObject();
        }

        private void WriteToolChoice(Utf8JsonWriter w)
        {
            var disableParallel = _root.TryGetProperty("parallel_tool_calls", out var parallel) && parallel.ValueKind == JsonValueKind.False;
            string type = "auto";
            string? name = null;
            var hasChoice = _root.TryGetProperty("tool_choice", out var choice);
            if (hasChoice && choice.ValueKind == JsonValueKind.String)
            {
                type = choice.GetString() switch
                {
                    "none" => "none",
                    "required" => "any",
                    _ => "auto",
                };
            }
            else if (hasChoice && choice.ValueKind == JsonValueKind.Object)
            {
                // {"type":"function"|"custom","name":…} forces one tool; allowed_tools and built-in tool types are
                // not expressible and leave the choice to the model.
                if (StringOf(choice, "type") is "function" or "custom" && StringOf(choice, "name") is { Length: > 0 } forced)
                {
                    type = "tool";
                    name = forced;
                }
            }
            else if (!disableParallel)
            {
                return;
            }

            if (type is "any" or "tool")
            {
                ThinkingBudgetTokens = null; // Anthropic refuses thinking with a forced tool; the client's choice wins
            }

            w.WriteStartObject("tool_choice"u8);
            w.WriteString("type"u8, type);
            if (name is not null)
            {
                w.WriteString("name"u8, name);
            }

            if (disableParallel && type != "none")
            {
                w.WriteBoolean("disable_parallel_tool_use"u8, true);
            }

            w.WriteEndObject();
        }

        private void WriteOutputFormat(Utf8JsonWriter w)
        {
            if (_root.TryGetProperty("text", out var text) && text.ValueKind == JsonValueKind.Object
                && text.TryGetProperty("format", out var format) && format.ValueKind == JsonValueKind.Object
                && StringOf(format, "type") == "json_schema"
                && format.TryGetProperty("schema", out var schema) && schema.ValueKind == JsonValueKind.Object)
            {
                w.WriteStartObject("output_config"u8);
                w.WriteStartObject("format"u8);
                w.WriteString("type"u8, "json_schema"u8);
                w.WritePropertyName("schema"u8);
                schema.WriteTo(w);
                w.WriteEndObject();
                w.WriteEndObject();
            }
        }

        private void WriteUser(Utf8JsonWriter w)
        {
            if ((StringOf(_root, "safety_identifier") ?? StringOf(_root, "user")) is { Length: > 0 } user)
            {
                w.WriteStartObject("metadata"u8);
                w.WriteString("user_id"u8, user);
                w.WriteEndObject();
            }
        }
    }

    private static string? StringOf(JsonElement element, string name) => ChatRequestTranslator.StringOf(element, name);
}
