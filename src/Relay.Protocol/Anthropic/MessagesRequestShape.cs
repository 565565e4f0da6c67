using System.Globalization;
using System.Text;
using System.Text.Json;
using Relay.Protocol.Json;
using Relay.Protocol.Text;

namespace Relay.Protocol.Anthropic;

/// <summary>A problem in a request body: where (<c>messages.0.content</c>) and what; built only on failure.</summary>
internal sealed class RequestProblem(string path, string message)
{
    public string Path { get; } = path;

    public string Message { get; } = message;

    public RequestProblem Under(string segment) => new(Path.Length == 0 ? segment : $"{segment}.{Path}", Message);

    public RequestProblem Under(int index) => Under(index.ToString(CultureInfo.InvariantCulture));

    /// <summary>Anthropic's <c>field: problem</c> wording.</summary>
    public override string ToString() => Path.Length == 0 ? Message : $"{Path}: {Message}";
}

/// <summary>The JSON types a field may have.</summary>
[Flags]
internal enum JsonKinds
{
    None = 0,
    String = 1,
    Integer = 2,
    Number = 4,
    Boolean = 8,
    Null = 16,
    Object = 32,
    Array = 64,
    Any = String | Integer | Number | Boolean | Null | Object | Array,
}

/// <summary>
/// The types of the Messages request fields Relay itself reads (to route, translate or count tokens), in the form
/// Anthropic's API requires them; everything else may hold anything. A value of the wrong type is the client's
/// mistake, and saying so here keeps it from becoming an exception inside a translator. An optional field may be
/// <c>null</c>, read as absent.
/// </summary>
internal sealed class MessagesRequestShape
{
    private MessagesRequestShape(JsonKinds allowed, string expected)
    {
        Allowed = allowed;
        Expected = expected;
    }

    public JsonKinds Allowed { get; }

    /// <summary>Completes "Input should be …".</summary>
    public string Expected { get; }

    /// <summary>The known fields of an object; any other field may hold anything.</summary>
    public (byte[] Name, MessagesRequestShape Shape)[] Fields { get; private set; } = [];

    /// <summary>The shape of every item of an array.</summary>
    public MessagesRequestShape? Items { get; private set; }

    public static readonly MessagesRequestShape AnyValue = new(JsonKinds.Any, "any JSON value");

    private static readonly MessagesRequestShape Text = new(JsonKinds.String | JsonKinds.Null, "a valid string");
    private static readonly MessagesRequestShape RequiredText = new(JsonKinds.String, "a valid string");
    private static readonly MessagesRequestShape Flag = new(JsonKinds.Boolean | JsonKinds.Null, "a valid boolean");
    private static readonly MessagesRequestShape OptionalInteger = new(JsonKinds.Integer | JsonKinds.Null, "a valid integer");
    private static readonly MessagesRequestShape AnyObject = new(JsonKinds.Object | JsonKinds.Null, "a valid dictionary");

    private static readonly MessagesRequestShape CacheControl = Object(JsonKinds.Null, ("type", Text), ("ttl", Text));
    private static readonly MessagesRequestShape Block = Object(JsonKinds.None);
    private static readonly MessagesRequestShape Content = new(JsonKinds.String | JsonKinds.Array | JsonKinds.Null, "a valid string or list of content blocks")
    {
        Items = Block,
    };

    private static readonly MessagesRequestShape Source = Object(JsonKinds.Null,
        ("type", Text), ("media_type", Text), ("data", Text), ("url", Text), ("file_id", Text), ("content", Content));

    public static readonly MessagesRequestShape Messages = ArrayOf(JsonKinds.None, Object(JsonKinds.None, ("role", Text), ("content", Content)));

    public static readonly MessagesRequestShape System = Content;

    public static readonly MessagesRequestShape Tools = ArrayOf(JsonKinds.Null, Object(JsonKinds.None,
        ("name", Text), ("description", Text), ("type", Text), ("input_schema", AnyObject), ("cache_control", CacheControl), ("defer_loading", Flag)));

    public static readonly MessagesRequestShape Thinking = Object(JsonKinds.Null,
        ("type", Text), ("budget_tokens", new MessagesRequestShape(JsonKinds.Integer, "a valid integer")));

    public static readonly MessagesRequestShape ToolChoice = Object(JsonKinds.Null, ("type", Text), ("name", Text), ("disable_parallel_tool_use", Flag));

    public static readonly MessagesRequestShape StopSequences = ArrayOf(JsonKinds.Null, RequiredText);

    public static readonly MessagesRequestShape Metadata = Object(JsonKinds.Null, ("user_id", Text));

    public static readonly MessagesRequestShape OutputConfig = Object(JsonKinds.Null,
        ("effort", Text), ("format", Object(JsonKinds.Null, ("type", Text), ("schema", AnyObject))));

    public static readonly MessagesRequestShape OptionalNumber = new(JsonKinds.Number | JsonKinds.Integer | JsonKinds.Null, "a valid number");

    public static readonly MessagesRequestShape TopK = OptionalInteger;

    // Blocks nest (a tool_result's content holds blocks), so their fields are set once every shape exists.
    static MessagesRequestShape()
    {
        Block.Fields = Named(("type", Text), ("text", Text), ("thinking", Text), ("signature", Text), ("data", Text), ("id", Text),
            ("name", Text), ("tool_use_id", Text), ("tool_name", Text), ("is_error", Flag), ("cache_control", CacheControl),
            ("source", Source), ("content", Content));
    }

    private static MessagesRequestShape Object(JsonKinds also, params (string Name, MessagesRequestShape Shape)[] fields) =>
        new(JsonKinds.Object | also, "a valid dictionary") { Fields = Named(fields) };

    private static MessagesRequestShape ArrayOf(JsonKinds also, MessagesRequestShape items) =>
        new(JsonKinds.Array | also, "a valid list") { Items = items };

    private static (byte[] Name, MessagesRequestShape Shape)[] Named(params (string Name, MessagesRequestShape Shape)[] fields) =>
        [.. fields.Select(f => (Encoding.UTF8.GetBytes(f.Name), f.Shape))];

    private MessagesRequestShape FieldShape(ref readonly Utf8JsonReader reader)
    {
        foreach (var (name, shape) in Fields)
        {
            if (reader.ValueTextEquals(name))
            {
                return shape;
            }
        }

        return AnyValue;
    }

    /// <summary>Checks the value the reader is on, to its end: its type, the type of its known fields, and that every
    /// string and field name in it is text. With <paramref name="features"/>, also gathers what routing looks at.</summary>
    /// <returns>Null when the value fits.</returns>
    public RequestProblem? Check(ref Utf8JsonReader reader, ref ContentFeatures features, bool gather, StringRole role = StringRole.Text)
    {
        var kind = reader.TokenType switch
        {
            JsonTokenType.String => JsonKinds.String,
            JsonTokenType.Number => reader.TryGetInt64(out _) ? JsonKinds.Integer : JsonKinds.Number,
            JsonTokenType.True or JsonTokenType.False => JsonKinds.Boolean,
            JsonTokenType.Null => JsonKinds.Null,
            JsonTokenType.StartObject => JsonKinds.Object,
            JsonTokenType.StartArray => JsonKinds.Array,
            _ => JsonKinds.None,
        };

        if ((Allowed & kind) == 0)
        {
            return new RequestProblem("", $"Input should be {Expected}");
        }

        switch (kind)
        {
            case JsonKinds.String:
                if (!JsonStrings.IsText(ref reader))
                {
                    return new RequestProblem("", "Input should be valid UTF-8 text (it holds invalid bytes or a lone surrogate escape)");
                }

                if (gather)
                {
                    features.Add(ref reader, role);
                }

                return null;
            case JsonKinds.Number when Allowed != JsonKinds.Any && !(reader.TryGetDouble(out var number) && double.IsFinite(number)):
                // Relay copies these numbers into translated requests; one beyond double's range (1e400) cannot be.
                return new RequestProblem("", "Input should be a finite number");
            case JsonKinds.Object:
                return CheckObject(ref reader, ref features, gather);
            case JsonKinds.Array:
                var item = Items ?? AnyValue;
                var index = 0;
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    if (item.Check(ref reader, ref features, gather) is { } problem)
                    {
                        return problem.Under(index);
                    }

                    index++;
                }

                return null;
            default:
                return null;
        }
    }

    private RequestProblem? CheckObject(ref Utf8JsonReader reader, ref ContentFeatures features, bool gather)
    {
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (!JsonStrings.IsText(ref reader))
            {
                return new RequestProblem("", "a field name is not valid UTF-8 text");
            }

            var shape = FieldShape(ref reader);
            var role = gather ? StringRoles.For(ref reader) : StringRole.Text;
            // The name's bytes stay valid (they are the body's); they are decoded only for an error message.
            var name = reader.ValueSpan;
            reader.Read();
            if (shape.Check(ref reader, ref features, gather, role) is { } problem)
            {
                return problem.Under(ClientText.Shorten(Encoding.UTF8.GetString(name)));
            }
        }

        return null;
    }
}

/// <summary>What a string value means to the input estimate and routing features.</summary>
internal enum StringRole
{
    /// <summary>Text a model reads as tokens.</summary>
    Text,

    /// <summary>Base64 payloads and signatures: not text a model reads.</summary>
    Payload,

    /// <summary>A block or tool <c>type</c>.</summary>
    Type,
}

internal static class StringRoles
{
    public static StringRole For(ref readonly Utf8JsonReader propertyName) =>
        propertyName.ValueTextEquals("type"u8) ? StringRole.Type
        : propertyName.ValueTextEquals("data"u8) || propertyName.ValueTextEquals("signature"u8) ? StringRole.Payload
        : StringRole.Text;
}

/// <summary>Features of the message content that routing rules look at, gathered in the same token walk that
/// validates it (so it costs no more than skipping).</summary>
internal struct ContentFeatures
{
    public long TextBytes;
    public bool HasImage;
    public bool HasWebSearchTool;

    public void Add(ref readonly Utf8JsonReader reader, StringRole role)
    {
        switch (role)
        {
            case StringRole.Type:
                HasImage |= reader.ValueTextEquals("image"u8);
                HasWebSearchTool |= reader.ValueSpan.StartsWith("web_search_"u8);
                break;
            case StringRole.Text:
                TextBytes += reader.ValueSpan.Length;
                break;
        }
    }
}
