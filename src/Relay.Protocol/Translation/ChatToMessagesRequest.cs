using System.Text.Json;

namespace Relay.Protocol.Translation;

/// <summary>One Chat Completions request on its way to becoming a Messages request; used once.</summary>
internal sealed class ChatToMessagesRequest : IDisposable
{
    private readonly JsonElement _root;
    private readonly List<JsonDocument> _arguments = [];
    private readonly Dictionary<string, string> _nameSent = new(StringComparer.Ordinal);
    private Dictionary<string, string>? _shortenedNames;

    public ChatToMessagesRequest(JsonElement root) => _root = root;

    private sealed record Turn(bool IsUser, List<MessagesBlock> Blocks);

    public ChatDoorRequest Write(Utf8JsonWriter w)
    {
        var model = _root.TryGetProperty("model", out var m) && m.ValueKind == JsonValueKind.String && m.GetString() is { Length: > 0 } name
            ? name
            : throw new TranslationException("model: Field required (a non-empty string).", "model");
        RefuseUnsupported();
        var stream = Bool("stream");
        var includeUsage = stream && _root.TryGetProperty("stream_options", out var so) && so.ValueKind == JsonValueKind.Object
            && so.TryGetProperty("include_usage", out var iu) && iu.ValueKind == JsonValueKind.True;

        var system = new List<MessagesBlock>();
        var turns = ReadMessages(system);
        if (ResponseFormatInstruction() is { } instruction)
        {
            system.Add(new TextBlock(instruction));
        }

        if (_root.TryGetProperty("tools", out var tools) && tools.ValueKind is not (JsonValueKind.Array or JsonValueKind.Null))
        {
            throw new TranslationException("tools: expected an array.", "tools");
        }

        var hasTools = tools.ValueKind == JsonValueKind.Array && tools.GetArrayLength() > 0;
        var forcesTool = hasTools && ForcesTool();
        var requested = MaxTokens();
        var budget = ThinkingBudget(forcesTool, turns);
        var maxTokens = requested ?? (budget is { } b ? Math.Max(ChatToMessagesTranslator.DefaultMaxTokens, 2 * b) : ChatToMessagesTranslator.DefaultMaxTokens);
        if (budget is { } wanted)
        {
            // Anthropic's max_tokens counts thinking, as OpenAI's max_completion_tokens counts reasoning; half of it
            // stays for the answer. Below Anthropic's minimum budget, thinking stays off.
            budget = Math.Min(wanted, maxTokens / 2);
            if (budget < ChatToMessagesTranslator.MinThinkingBudget)
            {
                budget = null;
            }
        }

        w.WriteStartObject();
        w.WriteString("model"u8, model);
        w.WriteNumber("max_tokens"u8, maxTokens);
        if (system.Count > 0)
        {
            MessagesBlock.WriteContent(w, "system"u8, system);
        }

        w.WriteStartArray("messages"u8);
        foreach (var turn in turns)
        {
            w.WriteStartObject();
            w.WriteString("role"u8, turn.IsUser ? "user"u8 : "assistant"u8);
            MessagesBlock.WriteContent(w, "content"u8, turn.Blocks);
            w.WriteEndObject();
        }

        w.WriteEndArray();
        if (hasTools)
        {
            WriteTools(w, tools);
            WriteToolChoice(w);
        }

        if (budget is { } thinkingBudget)
        {
            w.WriteStartObject("thinking"u8);
            w.WriteString("type"u8, "enabled"u8);
            w.WriteNumber("budget_tokens"u8, thinkingBudget);
            w.WriteEndObject();
        }
        else
        {
            WriteSampling(w);
        }

        WriteStop(w);
        if ((String("user") ?? String("safety_identifier")) is { Length: > 0 } user)
        {
            w.WriteStartObject("metadata"u8);
            w.WriteString("user_id"u8, user);
            w.WriteEndObject();
        }

        w.WriteBoolean("stream"u8, stream);
        w.WriteEndObject();
        w.Flush();
        return new ChatDoorRequest(model, stream, includeUsage, maxTokens, _shortenedNames);
    }

    public void Dispose()
    {
        foreach (var document in _arguments)
        {
            document.Dispose();
        }
    }

    // ---- refusals ----

    /// <summary>What the client would expect in the answer and cannot get is refused, not ignored.</summary>
    private void RefuseUnsupported()
    {
        if (_root.TryGetProperty("n", out var n) && n.ValueKind != JsonValueKind.Null && !(n.ValueKind == JsonValueKind.Number && n.TryGetInt32(out var count) && count == 1))
        {
            throw new TranslationException("n: only one choice (n = 1) is supported.", "n");
        }

        if (Bool("logprobs") || (_root.TryGetProperty("top_logprobs", out var top) && top.ValueKind == JsonValueKind.Number && top.GetDouble() > 0))
        {
            throw new TranslationException("logprobs: log probabilities are not supported.", "logprobs");
        }

        if (_root.TryGetProperty("audio", out var audio) && audio.ValueKind != JsonValueKind.Null)
        {
            throw new TranslationException("audio: audio output is not supported.", "audio");
        }

        if (_root.TryGetProperty("modalities", out var modalities) && modalities.ValueKind == JsonValueKind.Array
            && modalities.EnumerateArray().Any(x => x.ValueKind == JsonValueKind.String && !x.ValueEquals("text"u8)))
        {
            throw new TranslationException("modalities: only text output is supported.", "modalities");
        }

        if (_root.TryGetProperty("functions", out var functions) && functions.ValueKind != JsonValueKind.Null)
        {
            throw new TranslationException("functions: the deprecated functions parameter is not supported; send tools.", "functions");
        }
    }

    // ---- messages ----

    private List<Turn> ReadMessages(List<MessagesBlock> system)
    {
        if (!_root.TryGetProperty("messages", out var messages) || messages.ValueKind != JsonValueKind.Array)
        {
            throw new TranslationException("messages: Field required (an array).", "messages");
        }

        var turns = new List<Turn>();
        var index = 0;
        foreach (var message in messages.EnumerateArray())
        {
            var path = $"messages.{index}";
            if (message.ValueKind != JsonValueKind.Object)
            {
                throw new TranslationException($"{path}: expected an object.", path);
            }

            message.TryGetProperty("content", out var content);
            switch (ChatRequestTranslator.StringOf(message, "role"))
            {
                case "system" or "developer":
                    // Anthropic has one system prompt: every system message joins it, in order, wherever it stood.
                    AddParts(system, content, path + ".content", textOnly: true);
                    break;
                case "user":
                    var user = new List<MessagesBlock>();
                    AddParts(user, content, path + ".content", textOnly: false);
                    Append(turns, isUser: true, user);
                    break;
                case "assistant":
                    Append(turns, isUser: false, AssistantBlocks(message, content, path));
                    break;
                case "tool":
                    var id = ChatRequestTranslator.StringOf(message, "tool_call_id") is { Length: > 0 } callId
                        ? ToolIds.FromChatClient(callId)
                        : throw new TranslationException($"{path}.tool_call_id: Field required.", path + ".tool_call_id");
                    var result = new List<MessagesBlock>();
                    AddParts(result, content, path + ".content", textOnly: false);
                    Append(turns, isUser: true, [new ToolResultBlock(id, result)]);
                    break;
                case "function":
                    throw new TranslationException($"{path}.role: the deprecated 'function' role is not supported; send tool messages.", path + ".role");
                default:
                    throw new TranslationException($"{path}.role: expected 'system', 'developer', 'user', 'assistant' or 'tool'.", path + ".role");
            }

            index++;
        }

        PairToolResults(turns);
        if (turns.Count == 0)
        {
            throw new TranslationException("messages: at least one user or assistant message is required.", "messages");
        }

        // A last assistant message is a prefill at Anthropic, which refuses one that ends in whitespace.
        if (!turns[^1].IsUser && turns[^1].Blocks[^1] is TextBlock last)
        {
            var trimmed = last.Text.TrimEnd();
            turns[^1].Blocks[^1] = last with { Text = trimmed.Length > 0 ? trimmed : "." };
        }

        return turns;
    }

    /// <summary>Anthropic wants user and assistant turns to alternate: consecutive same-role messages (tool messages
    /// count as user) become one turn. Within a user turn tool results go first, as Anthropic requires.</summary>
    private static void Append(List<Turn> turns, bool isUser, List<MessagesBlock> blocks)
    {
        if (blocks.Count == 0)
        {
            return; // an empty message is a 400 at Anthropic and says nothing
        }

        if (turns.Count == 0 || turns[^1].IsUser != isUser)
        {
            turns.Add(new Turn(isUser, []));
        }

        var target = turns[^1].Blocks;
        foreach (var block in blocks)
        {
            if (block is ToolResultBlock)
            {
                target.Insert(target.FindLastIndex(b => b is ToolResultBlock) + 1, block);
            }
            else
            {
                target.Add(block);
            }
        }
    }

    /// <summary>Every tool call needs its result in the next user turn and every result its call in the turn before,
    /// or Anthropic answers 400: a call left without a result gets one saying so, and a result without its call
    /// travels as text.</summary>
    private static void PairToolResults(List<Turn> turns)
    {
        for (var i = 0; i < turns.Count; i++)
        {
            var turn = turns[i];
            if (!turn.IsUser)
            {
                var calls = turn.Blocks.OfType<ToolUseBlock>().Select(c => c.Id).ToList();
                if (calls.Count == 0)
                {
                    continue;
                }

                if (i + 1 == turns.Count)
                {
                    turns.Add(new Turn(true, []));
                }

                var next = turns[i + 1].Blocks;
                var answered = next.OfType<ToolResultBlock>().Select(r => r.ToolUseId).ToHashSet(StringComparer.Ordinal);
                var missing = calls.Where(id => !answered.Contains(id)).Select(id => (MessagesBlock)new ToolResultBlock(id, [new TextBlock(ChatRequestTranslator.InterruptedToolResult)]));
                next.InsertRange(next.FindLastIndex(b => b is ToolResultBlock) + 1, missing.ToList());
                continue;
            }

            var expected = i > 0 ? turns[i - 1].Blocks.OfType<ToolUseBlock>().Select(c => c.Id).ToHashSet(StringComparer.Ordinal) : [];
            for (var j = 0; j < turn.Blocks.Count; j++)
            {
                if (turn.Blocks[j] is ToolResultBlock result && !expected.Contains(result.ToolUseId))
                {
                    var text = string.Join("\n", result.Content.OfType<TextBlock>().Select(t => t.Text));
                    turn.Blocks[j] = new TextBlock($"[result of tool call {result.ToolUseId}]\n{text}");
                }
            }

            // Orphans turned to text now sit among the results; results must still come first.
            var ordered = turn.Blocks.Where(b => b is ToolResultBlock).Concat(turn.Blocks.Where(b => b is not ToolResultBlock)).ToList();
            turn.Blocks.Clear();
            turn.Blocks.AddRange(ordered);
        }
    }

    private List<MessagesBlock> AssistantBlocks(JsonElement message, JsonElement content, string path)
    {
        var blocks = new List<MessagesBlock>();
        AddParts(blocks, content, path + ".content", textOnly: true);
        if (!message.TryGetProperty("tool_calls", out var calls) || calls.ValueKind == JsonValueKind.Null)
        {
            return blocks;
        }

        if (calls.ValueKind != JsonValueKind.Array)
        {
            throw new TranslationException($"{path}.tool_calls: expected an array.", path + ".tool_calls");
        }

        var index = 0;
        foreach (var call in calls.EnumerateArray())
        {
            var callPath = $"{path}.tool_calls.{index++}";
            var id = ChatRequestTranslator.StringOf(call, "id") is { Length: > 0 } callId
                ? callId
                : throw new TranslationException($"{callPath}.id: Field required.", callPath + ".id");
            var function = call.ValueKind == JsonValueKind.Object && call.TryGetProperty("function", out var f) && f.ValueKind == JsonValueKind.Object
                ? f
                : throw new TranslationException($"{callPath}.function: Field required.", callPath + ".function");
            var name = ChatRequestTranslator.StringOf(function, "name") is { Length: > 0 } n
                ? n
                : throw new TranslationException($"{callPath}.function.name: Field required.", callPath + ".function.name");
            blocks.Add(new ToolUseBlock(ToolIds.FromChatClient(id), NameSent(name), Arguments(function)));
        }

        return blocks;
    }

    /// <summary>A call's <c>arguments</c> text as the <c>input</c> object. Arguments that are not a JSON object
    /// (models do produce those) become <c>{}</c>: the history must stay sendable, and the call's result, which
    /// reports what went wrong, still follows. A double-encoded object (a JSON string holding one) is unwrapped.</summary>
    private JsonElement Arguments(JsonElement function)
    {
        if (!function.TryGetProperty("arguments", out var arguments))
        {
            return default;
        }

        if (arguments.ValueKind == JsonValueKind.Object)
        {
            return arguments; // a few clients send the object itself
        }

        var text = arguments.ValueKind == JsonValueKind.String ? arguments.GetString() : null;
        for (var depth = 0; depth < 2 && !string.IsNullOrWhiteSpace(text); depth++)
        {
            JsonDocument parsed;
            try
            {
                parsed = JsonDocument.Parse(text);
            }
            catch (JsonException)
            {
                return default;
            }

            _arguments.Add(parsed);
            switch (parsed.RootElement.ValueKind)
            {
                case JsonValueKind.Object:
                    return parsed.RootElement;
                case JsonValueKind.String:
                    text = parsed.RootElement.GetString();
                    break;
                default:
                    return default;
            }
        }

        return default;
    }

    /// <summary>Reads message content: a string, or parts. <paramref name="textOnly"/> (system and assistant
    /// content) takes text and refusal parts only.</summary>
    private static void AddParts(List<MessagesBlock> blocks, JsonElement content, string path, bool textOnly)
    {
        switch (content.ValueKind)
        {
            case JsonValueKind.Undefined or JsonValueKind.Null:
                return;
            case JsonValueKind.String:
                AddText(blocks, content.GetString()!, default);
                return;
            case JsonValueKind.Array:
                break;
            default:
                throw new TranslationException($"{path}: expected a string or an array of content parts.", path);
        }

        var index = 0;
        foreach (var part in content.EnumerateArray())
        {
            var partPath = $"{path}.{index++}";
            var cacheControl = part.ValueKind == JsonValueKind.Object && part.TryGetProperty("cache_control", out var cc) ? cc : default;
            switch (ChatRequestTranslator.StringOf(part, "type"))
            {
                case "text":
                    AddText(blocks, ChatRequestTranslator.StringOf(part, "text") ?? "", cacheControl);
                    break;
                case "refusal":
                    AddText(blocks, ChatRequestTranslator.StringOf(part, "refusal") ?? "", cacheControl);
                    break;
                case "image_url" when !textOnly:
                    blocks.Add(Image(part, cacheControl, partPath));
                    break;
                case "file" when !textOnly:
                    blocks.Add(File(part, cacheControl, partPath));
                    break;
                default:
                    throw new TranslationException(
                        $"{partPath}.type: '{ChatRequestTranslator.StringOf(part, "type")}' parts are not supported here; "
                        + (textOnly ? "only text parts are." : "text, image_url and file (PDF data) parts are."), partPath + ".type");
            }
        }
    }

    /// <summary>Anthropic rejects empty text blocks; an empty text says nothing anyway.</summary>
    private static void AddText(List<MessagesBlock> blocks, string text, JsonElement cacheControl)
    {
        if (text.Length > 0)
        {
            blocks.Add(new TextBlock(text, cacheControl));
        }
    }

    private static MediaBlock Image(JsonElement part, JsonElement cacheControl, string path)
    {
        // image_url is {url, detail}; some clients send the URL string itself.
        var url = part.TryGetProperty("image_url", out var image) && image.ValueKind == JsonValueKind.String
            ? image.GetString()
            : ChatRequestTranslator.StringOf(image, "url");
        if (url is null)
        {
            throw new TranslationException($"{path}.image_url.url: Field required.", path + ".image_url.url");
        }

        if (TryDataUrl(url, out var mediaType, out var data))
        {
            return new MediaBlock(false, mediaType, data, cacheControl);
        }

        if (url.StartsWith("https://", StringComparison.OrdinalIgnoreCase) || url.StartsWith("http://", StringComparison.OrdinalIgnoreCase))
        {
            return new MediaBlock(false, null, url, cacheControl);
        }

        throw new TranslationException($"{path}.image_url.url: expected an http(s) URL or a base64 data: URL.", path + ".image_url.url");
    }

    private static MediaBlock File(JsonElement part, JsonElement cacheControl, string path)
    {
        var fileData = part.TryGetProperty("file", out var file) ? ChatRequestTranslator.StringOf(file, "file_data") : null;
        if (fileData is not null && TryDataUrl(fileData, out var mediaType, out var data) && mediaType == "application/pdf")
        {
            return new MediaBlock(true, mediaType, data, cacheControl);
        }

        throw new TranslationException($"{path}.file: only PDF files sent inline as file_data (a base64 data: URL) are supported.", path + ".file");
    }

    /// <summary>Splits <c>data:image/png;base64,iVBOR…</c>.</summary>
    private static bool TryDataUrl(string url, out string mediaType, out string data)
    {
        mediaType = data = "";
        if (!url.StartsWith("data:", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var marker = url.IndexOf(";base64,", StringComparison.OrdinalIgnoreCase);
        if (marker < 5)
        {
            return false;
        }

        mediaType = url[5..marker].ToLowerInvariant();
        data = url[(marker + ";base64,".Length)..];
        return mediaType.Length > 0;
    }

    // ---- tools ----

    /// <summary>The name Anthropic gets for a client's tool name; one it rejects is shortened deterministically
    /// (<see cref="ToolNames"/>) and restored in the answer.</summary>
    private string NameSent(string name)
    {
        if (_nameSent.TryGetValue(name, out var sent))
        {
            return sent;
        }

        sent = ToolNames.ToUpstream(name);
        _nameSent[name] = sent;
        if (!string.Equals(sent, name, StringComparison.Ordinal))
        {
            (_shortenedNames ??= new(StringComparer.Ordinal))[sent] = name;
        }

        return sent;
    }

    private void WriteTools(Utf8JsonWriter w, JsonElement tools)
    {
        w.WriteStartArray("tools"u8);
        var index = 0;
        foreach (var tool in tools.EnumerateArray())
        {
            var path = $"tools.{index++}";
            if (ChatRequestTranslator.StringOf(tool, "type") != "function" || !tool.TryGetProperty("function", out var function) || function.ValueKind != JsonValueKind.Object)
            {
                throw new TranslationException($"{path}: only tools of type 'function' with a 'function' object are supported.", path);
            }

            var name = ChatRequestTranslator.StringOf(function, "name") is { Length: > 0 } n
                ? n
                : throw new TranslationException($"{path}.function.name: Field required.", path + ".function.name");
            w.WriteStartObject();
            w.WriteString("name"u8, NameSent(name));
            if (ChatRequestTranslator.StringOf(function, "description") is { Length: > 0 } description)
            {
                w.WriteString("description"u8, description);
            }

            w.WriteStartObject("input_schema"u8);
            var hasType = false;
            if (function.TryGetProperty("parameters", out var parameters) && parameters.ValueKind == JsonValueKind.Object)
            {
                hasType = parameters.TryGetProperty("type", out _);
                if (!hasType)
                {
                    w.WriteString("type"u8, "object"u8); // Anthropic requires it; OpenAI reads {} as "no parameters"
                }

                foreach (var property in parameters.EnumerateObject())
                {
                    property.WriteTo(w);
                }
            }
            else
            {
                w.WriteString("type"u8, "object"u8);
            }

            w.WriteEndObject();
            w.WriteEndObject();
        }

        w.WriteEndArray();
    }

    private bool ForcesTool() =>
        _root.TryGetProperty("tool_choice", out var choice)
        && ((choice.ValueKind == JsonValueKind.String && choice.ValueEquals("required"u8)) || choice.ValueKind == JsonValueKind.Object);

    private void WriteToolChoice(Utf8JsonWriter w)
    {
        var parallel = !(_root.TryGetProperty("parallel_tool_calls", out var p) && p.ValueKind == JsonValueKind.False);
        _root.TryGetProperty("tool_choice", out var choice);
        string type;
        string? name = null;
        if (choice.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null)
        {
            if (parallel)
            {
                return;
            }

            type = "auto";
        }
        else if (choice.ValueKind == JsonValueKind.String)
        {
            type = choice.GetString() switch
            {
                "none" => "none",
                "auto" => "auto",
                "required" => "any",
                _ => throw new TranslationException("tool_choice: expected 'none', 'auto', 'required' or a function.", "tool_choice"),
            };
        }
        else if (ChatRequestTranslator.StringOf(choice, "type") == "function"
            && choice.TryGetProperty("function", out var function) && ChatRequestTranslator.StringOf(function, "name") is { Length: > 0 } chosen)
        {
            type = "tool";
            name = NameSent(chosen);
        }
        else
        {
            throw new TranslationException("tool_choice: expected 'none', 'auto', 'required' or {\"type\":\"function\",\"function\":{\"name\":…}}.", "tool_choice");
        }

        w.WriteStartObject("tool_choice"u8);
        w.WriteString("type"u8, type);
        if (name is not null)
        {
            w.WriteString("name"u8, name);
        }

        if (!parallel && type != "none")
        {
            w.WriteBoolean("disable_parallel_tool_use"u8, true);
        }

        w.WriteEndObject();
    }

    // ---- parameters ----

    private long? MaxTokens()
    {
        foreach (var field in (ReadOnlySpan<string>)["max_completion_tokens", "max_tokens"])
        {
            if (!_root.TryGetProperty(field, out var value) || value.ValueKind == JsonValueKind.Null)
            {
                continue;
            }

            return value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var limit) && limit > 0
                ? limit
                : throw new TranslationException($"{field}: expected a positive integer.", field);
        }

        return null;
    }

    /// <summary>The thinking budget <c>reasoning_effort</c> asks for, when Anthropic can take thinking here. It cannot
    /// when the tool choice forces a tool or the last message is the assistant's (both a 400), nor while a tool loop
    /// goes on: the assistant turn whose results come back would have to start with its signed thinking block, which a
    /// Chat Completions client never had.</summary>
    private long? ThinkingBudget(bool forcesTool, List<Turn> turns)
    {
        if (String("reasoning_effort") is not { } effort)
        {
            return null;
        }

        var budget = ChatToMessagesTranslator.ThinkingBudget(effort, "reasoning_effort");
        var inToolLoop = turns[^1].IsUser && turns[^1].Blocks.Exists(b => b is ToolResultBlock);
        var prefill = !turns[^1].IsUser; // Anthropic refuses an assistant prefill with thinking on
        return forcesTool || inToolLoop || prefill ? null : budget;
    }

    private void WriteSampling(Utf8JsonWriter w)
    {
        // OpenAI's temperature goes to 2, Anthropic's to 1. Recent Claude models refuse temperature and top_p together,
        // so top_p goes only without temperature.
        if (Number("temperature") is { } temperature)
        {
            w.WriteNumber("temperature"u8, Math.Clamp(temperature, 0, 1));
        }
        else if (Number("top_p") is { } topP)
        {
            w.WriteNumber("top_p"u8, topP);
        }

        if (Number("top_k") is { } topK)
        {
            w.WriteNumber("top_k"u8, (long)topK);
        }
    }

    private void WriteStop(Utf8JsonWriter w)
    {
        if (!_root.TryGetProperty("stop", out var stop))
        {
            return;
        }

        var values = stop.ValueKind switch
        {
            JsonValueKind.String => [stop.GetString()!],
            JsonValueKind.Array => stop.EnumerateArray().Where(s => s.ValueKind == JsonValueKind.String).Select(s => s.GetString()!).ToList(),
            _ => new List<string>(),
        };
        values.RemoveAll(s => s.Length == 0);
        if (values.Count == 0)
        {
            return;
        }

        w.WriteStartArray("stop_sequences"u8);
        foreach (var value in values)
        {
            w.WriteStringValue(value);
        }

        w.WriteEndArray();
    }

    /// <summary>Structured output as an instruction: not every Anthropic-compatible server has
    /// <c>output_config.format</c>, and an instruction works on all of them.</summary>
    private string? ResponseFormatInstruction()
    {
        if (!_root.TryGetProperty("response_format", out var format) || format.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        switch (ChatRequestTranslator.StringOf(format, "type"))
        {
            case "text":
                return null;
            case "json_object":
                return ChatToMessagesTranslator.JsonObjectInstruction;
            case "json_schema" when format.TryGetProperty("json_schema", out var spec) && spec.ValueKind == JsonValueKind.Object
                && spec.TryGetProperty("schema", out var schema) && schema.ValueKind == JsonValueKind.Object:
                return ChatToMessagesTranslator.JsonSchemaInstruction + schema.GetRawText();
            case "json_schema":
                return ChatToMessagesTranslator.JsonObjectInstruction;
            default:
                throw new TranslationException("response_format.type: expected 'text', 'json_object' or 'json_schema'.", "response_format.type");
        }
    }

    private bool Bool(string name) => _root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.True;

    private string? String(string name) => ChatRequestTranslator.StringOf(_root, name);

    private double? Number(string name) =>
        _root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number ? value.GetDouble() : null;
}
