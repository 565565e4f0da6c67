using System.Text;
using System.Text.Json;
using Relay.Protocol.Anthropic;
using Relay.Protocol.Translation;

namespace Relay.Protocol.Events;

/// <summary>An answer as a Responses API <c>response</c> object: its output items as they are built, its status and
/// usage. Both Responses writers (stream and object) keep one, since <c>response.completed</c> repeats the whole output.</summary>
/// <remarks>Ids are derived from the message id (<c>msg_X</c> → <c>resp_X</c>, items <c>msg_X_0</c>, <c>rs_X_1</c>,
/// <c>fc_X_2</c>…): unique per answer, and one id in the logs finds both sides.</remarks>
internal sealed class ResponsesAnswer(IReadOnlySet<string>? customTools, long? createdAt)
{
    private readonly Dictionary<int, OutputItem> _byBlock = [];
    private string _suffix = "";

    public enum ItemKind
    {
        Message,
        Reasoning,
        FunctionCall,
        CustomToolCall,
    }

    public string ResponseId { get; private set; } = "";

    public string Model { get; private set; } = "";

    public long CreatedAt { get; private set; }

    public List<OutputItem> Items { get; } = [];

    public TokenUsage Usage { get; private set; }

    public bool UsageKnown { get; private set; }

    public string? StopReason { get; private set; }

    public bool Started { get; private set; }

    public bool Completed { get; set; }

    public bool Failed { get; set; }

    public bool Terminated => Completed || Failed;

    public string? ErrorType { get; set; }

    public string? ErrorMessage { get; set; }

    /// <summary>Max tokens (or a full context) ends a response as <c>incomplete</c>, as OpenAI reports it.</summary>
    public bool Incomplete => StopReason is "max_tokens" or "model_context_window_exceeded";

    public void Start(string messageId, string model, in TokenUsage usage)
    {
        Started = true;
        _suffix = messageId.StartsWith("msg_", StringComparison.Ordinal) ? messageId[4..] : messageId;
        ResponseId = "resp_" + _suffix;
        Model = model;
        CreatedAt = createdAt ?? DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        Usage = usage;
    }

    public OutputItem Open(int blockIndex, ItemKind kind, string? callId = null, string? name = null)
    {
        if (kind == ItemKind.FunctionCall && name is not null && customTools is not null && customTools.Contains(name))
        {
            kind = ItemKind.CustomToolCall;
        }

        var prefix = kind switch
        {
            ItemKind.Message => "msg_",
            ItemKind.Reasoning => "rs_",
            ItemKind.FunctionCall => "fc_",
            _ => "ctc_",
        };
        var item = new OutputItem(kind, $"{prefix}{_suffix}_{Items.Count}", Items.Count) { CallId = callId, Name = name };
        Items.Add(item);
        _byBlock[blockIndex] = item;
        return item;
    }

    public OutputItem? Find(int blockIndex) => _byBlock.TryGetValue(blockIndex, out var item) && !item.Done ? item : null;

    public void Finish(string stopReason, in TokenUsage usage)
    {
        StopReason = stopReason;
        Usage = usage;
        UsageKnown = true;
    }

    /// <summary>Items a producer left open (it should not) are closed as they stand.</summary>
    public IEnumerable<OutputItem> OpenItems() => Items.Where(i => !i.Done);

    /// <summary>The status a finished answer reports.</summary>
    public string FinalStatus => Failed ? "failed" : Incomplete ? "incomplete" : "completed";

    public void WriteResponse(Utf8JsonWriter w, string status)
    {
        w.WriteStartObject();
        w.WriteString("id"u8, ResponseId);
        w.WriteString("object"u8, "response"u8);
        w.WriteNumber("created_at"u8, CreatedAt);
        w.WriteString("status"u8, status);
        if (status == "failed")
        {
            w.WriteStartObject("error"u8);
            w.WriteString("code"u8, ErrorCode(ErrorType, ErrorMessage));
            w.WriteString("message"u8, ErrorMessage);
            w.WriteEndObject();
        }
        else
        {
            w.WriteNull("error"u8);
        }

        if (status == "incomplete")
        {
            w.WriteStartObject("incomplete_details"u8);
            w.WriteString("reason"u8, "max_output_tokens"u8);
            w.WriteEndObject();
        }
        else
        {
            w.WriteNull("incomplete_details"u8);
        }

        w.WriteString("model"u8, Model);
        w.WriteStartArray("output"u8);
        if (status != "in_progress")
        {
            foreach (var item in Items)
            {
                WriteItem(w, item);
            }
        }

        w.WriteEndArray();
        if (status is "in_progress" || !UsageKnown)
        {
            w.WriteNull("usage"u8);
        }
        else
        {
            WriteUsage(w);
        }

        w.WriteEndObject();
    }

    private void WriteUsage(Utf8JsonWriter w)
    {
        // Responses counts cached tokens inside input_tokens; Anthropic counts them apart.
        var input = Usage.InputTokens + Usage.CacheReadInputTokens + Usage.CacheCreationInputTokens;
        w.WriteStartObject("usage"u8);
        w.WriteNumber("input_tokens"u8, input);
        w.WriteStartObject("input_tokens_details"u8);
        w.WriteNumber("cached_tokens"u8, Usage.CacheReadInputTokens);
        w.WriteEndObject();
        w.WriteNumber("output_tokens"u8, Usage.OutputTokens);
        w.WriteStartObject("output_tokens_details"u8);
        w.WriteNumber("reasoning_tokens"u8, 0); // Anthropic does not report thinking tokens apart
        w.WriteEndObject();
        w.WriteNumber("total_tokens"u8, input + Usage.OutputTokens);
        w.WriteEndObject();
    }

    /// <summary>An item as it stands: while open (<c>output_item.added</c>) with empty content, once done with all of it.</summary>
    public static void WriteItem(Utf8JsonWriter w, OutputItem item)
    {
        w.WriteStartObject();
        w.WriteString("id"u8, item.Id);
        var status = item.Done ? "completed"u8 : "in_progress"u8;
        switch (item.Kind)
        {
            case ItemKind.Message:
                w.WriteString("type"u8, "message"u8);
                w.WriteString("status"u8, status);
                w.WriteString("role"u8, "assistant"u8);
                w.WriteStartArray("content"u8);
                if (item.Done)
                {
                    WriteTextPart(w, item.Text.ToString());
                }

                w.WriteEndArray();
                break;
            case ItemKind.Reasoning:
                w.WriteString("type"u8, "reasoning"u8);
                w.WriteStartArray("summary"u8);
                if (item.Done && item.Text.Length > 0)
                {
                    WriteSummaryPart(w, item.Text.ToString());
                }

                w.WriteEndArray();
                if (item.Done && item.Signature.Length > 0)
                {
                    w.WriteString("encrypted_content"u8, ResponsesReasoning.EncryptedContentFor(item.Signature.ToString()));
                }

                break;
            case ItemKind.FunctionCall:
                w.WriteString("type"u8, "function_call"u8);
                w.WriteString("status"u8, status);
                w.WriteString("arguments"u8, item.Done ? item.Arguments : "");
                w.WriteString("call_id"u8, item.CallId);
                w.WriteString("name"u8, item.Name);
                break;
            case ItemKind.CustomToolCall:
                w.WriteString("type"u8, "custom_tool_call"u8);
                w.WriteString("status"u8, status);
                w.WriteString("call_id"u8, item.CallId);
                w.WriteString("name"u8, item.Name);
                w.WriteString("input"u8, item.Done ? item.CustomInput : "");
                break;
        }

        w.WriteEndObject();
    }

    public static void WriteTextPart(Utf8JsonWriter w, string text)
    {
        w.WriteStartObject();
        w.WriteString("type"u8, "output_text"u8);
        w.WriteStartArray("annotations"u8);
        w.WriteEndArray();
        w.WriteString("text"u8, text);
        w.WriteEndObject();
    }

    public static void WriteSummaryPart(Utf8JsonWriter w, string text)
    {
        w.WriteStartObject();
        w.WriteString("type"u8, "summary_text"u8);
        w.WriteString("text"u8, text);
        w.WriteEndObject();
    }

    /// <summary>The Responses error code for an Anthropic error type. Codex reads <c>context_length_exceeded</c>
    /// (it compacts), <c>insufficient_quota</c> (it stops) and retries the rest.</summary>
    public static string ErrorCode(string? type, string? message) => type switch
    {
        ErrorTypes.RateLimit => "rate_limit_exceeded",
        ErrorTypes.Overloaded => "server_is_overloaded",
        ErrorTypes.Billing => "insufficient_quota",
        ErrorTypes.InvalidRequest when message is not null && message.Contains(ChatErrorMapper.PromptTooLong, StringComparison.OrdinalIgnoreCase)
            => "context_length_exceeded",
        ErrorTypes.InvalidRequest => "invalid_prompt",
        ErrorTypes.Api or ErrorTypes.Timeout or null => "server_error",
        _ => type,
    };

    /// <summary>One output item being built.</summary>
    internal sealed class OutputItem(ItemKind kind, string id, int outputIndex)
    {
        public ItemKind Kind { get; } = kind;

        public string Id { get; } = id;

        public int OutputIndex { get; } = outputIndex;

        public string? CallId { get; init; }

        public string? Name { get; init; }

        /// <summary>Text, summary text, or a tool call's arguments.</summary>
        public StringBuilder Text { get; } = new();

        public StringBuilder Signature { get; } = new();

        /// <summary>A reasoning item's summary part was announced.</summary>
        public bool PartStarted { get; set; }

        public bool Done { get; set; }

        public string Arguments => Text.Length == 0 ? "{}" : Text.ToString();

        /// <summary>A free-form call's text: the one string its JSON input holds (<c>{"input": …}</c>, as the tool
        /// was declared), or the JSON itself if the model wrote something else.</summary>
        public string CustomInput
        {
            get
            {
                var json = Arguments;
                try
                {
                    using var document = JsonDocument.Parse(json);
                    var root = document.RootElement;
                    if (root.ValueKind == JsonValueKind.Object)
                    {
                        if (root.TryGetProperty("input", out var input) && input.ValueKind == JsonValueKind.String)
                        {
                            return input.GetString()!;
                        }

                        var properties = root.EnumerateObject().ToList();
                        if (properties.Count == 1 && properties[0].Value.ValueKind == JsonValueKind.String)
                        {
                            return properties[0].Value.GetString()!;
                        }
                    }
                }
                catch (JsonException)
                {
                    // the model's text as it came
                }

                return json;
            }
        }
    }
}
