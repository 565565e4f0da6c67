using System.Text.Json;

namespace Relay.Protocol.Translation;

/// <summary>One content block of the Messages request being written, in Anthropic's shape.</summary>
internal abstract record MessagesBlock
{
    public abstract void Write(Utf8JsonWriter w);

    /// <summary>Writes <c>"content"</c>: one plain text block as a string (what every Anthropic-compatible server
    /// accepts), anything else as an array of blocks.</summary>
    public static void WriteContent(Utf8JsonWriter w, ReadOnlySpan<byte> property, List<MessagesBlock> blocks)
    {
        if (blocks is [TextBlock { CacheControl.ValueKind: JsonValueKind.Undefined } only])
        {
            w.WriteString(property, only.Text);
            return;
        }

        w.WriteStartArray(property);
        foreach (var block in blocks)
        {
            block.Write(w);
        }

        w.WriteEndArray();
    }

    protected static void WriteCacheControl(Utf8JsonWriter w, JsonElement cacheControl)
    {
        if (cacheControl.ValueKind == JsonValueKind.Object)
        {
            w.WritePropertyName("cache_control"u8);
            cacheControl.WriteTo(w);
        }
    }
}

/// <param name="CacheControl">The client's <c>cache_control</c> (OpenRouter's convention for Anthropic models), kept:
/// without it Anthropic caches nothing.</param>
internal sealed record TextBlock(string Text, JsonElement CacheControl = default) : MessagesBlock
{
    public override void Write(Utf8JsonWriter w)
    {
        w.WriteStartObject();
        w.WriteString("type"u8, "text"u8);
        w.WriteString("text"u8, Text);
        WriteCacheControl(w, CacheControl);
        w.WriteEndObject();
    }
}

/// <summary>An image or PDF: <c>source</c> is base64 data when <paramref name="MediaType"/> is set, else a URL.</summary>
internal sealed record MediaBlock(bool IsDocument, string? MediaType, string DataOrUrl, JsonElement CacheControl) : MessagesBlock
{
    public override void Write(Utf8JsonWriter w)
    {
        w.WriteStartObject();
        w.WriteString("type"u8, IsDocument ? "document"u8 : "image"u8);
        w.WriteStartObject("source"u8);
        if (MediaType is not null)
        {
            w.WriteString("type"u8, "base64"u8);
            w.WriteString("media_type"u8, MediaType);
            w.WriteString("data"u8, DataOrUrl);
        }
        else
        {
            w.WriteString("type"u8, "url"u8);
            w.WriteString("url"u8, DataOrUrl);
        }

        w.WriteEndObject();
        WriteCacheControl(w, CacheControl);
        w.WriteEndObject();
    }
}

/// <param name="Input">The parsed arguments object; undefined writes <c>{}</c>.</param>
internal sealed record ToolUseBlock(string Id, string Name, JsonElement Input) : MessagesBlock
{
    public override void Write(Utf8JsonWriter w)
    {
        w.WriteStartObject();
        w.WriteString("type"u8, "tool_use"u8);
        w.WriteString("id"u8, Id);
        w.WriteString("name"u8, Name);
        w.WritePropertyName("input"u8);
        if (Input.ValueKind == JsonValueKind.Object)
        {
            Input.WriteTo(w);
        }
        else
        {
            w.WriteStartObject();
            w.WriteEndObject();
        }

        w.WriteEndObject();
    }
}

internal sealed record ToolResultBlock(string ToolUseId, List<MessagesBlock> Content) : MessagesBlock
{
    public override void Write(Utf8JsonWriter w)
    {
        w.WriteStartObject();
        w.WriteString("type"u8, "tool_result"u8);
        w.WriteString("tool_use_id"u8, ToolUseId);
        if (Content.Count > 0)
        {
            WriteContent(w, "content"u8, Content);
        }

        w.WriteEndObject();
    }
}
