using System.Buffers;
using System.Text.Json;

namespace Relay.Protocol.Json;

/// <summary>Leaves named top-level properties out of a JSON object, or gives some a new value, copying every other
/// member's bytes unchanged.</summary>
public static class TopLevelProperties
{
    /// <summary>Writes <paramref name="json"/> without the top-level properties in <paramref name="names"/>.</summary>
    /// <returns>False, with nothing written, when no such property is present (the caller sends the original bytes).</returns>
    /// <exception cref="JsonException">The input is not a JSON object.</exception>
    public static bool TryRemove(ReadOnlySpan<byte> json, IReadOnlySet<string> names, IBufferWriter<byte> output)
    {
        if (names.Count == 0)
        {
            return false;
        }

        var reader = new Utf8JsonReader(json);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException("Expected a JSON object.");
        }

        // Spans of the members to keep, from the name's opening quote to the end of the value.
        var kept = new List<(int Start, int End)>();
        var removedAny = false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var start = (int)reader.TokenStartIndex;
            var remove = names.Contains(reader.GetString()!);
            reader.Read();
            reader.Skip();
            var end = (int)reader.BytesConsumed;
            if (remove)
            {
                removedAny = true;
            }
            else
            {
                kept.Add((start, end));
            }
        }

        if (!removedAny)
        {
            return false;
        }

        Write(output, "{"u8);
        for (var i = 0; i < kept.Count; i++)
        {
            if (i > 0)
            {
                Write(output, ","u8);
            }

            Write(output, json[kept[i].Start..kept[i].End]);
        }

        Write(output, "}"u8);
        return true;
    }

    /// <summary>Writes <paramref name="json"/> with the top-level properties in <paramref name="remove"/> left out and
    /// those in <paramref name="set"/> given their new raw JSON values: in place where present, else added at the end.</summary>
    /// <exception cref="JsonException">The input is not a JSON object.</exception>
    public static void Rewrite(ReadOnlySpan<byte> json, IReadOnlySet<string> remove, IReadOnlyDictionary<string, byte[]> set, IBufferWriter<byte> output)
    {
        var reader = new Utf8JsonReader(json);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException("Expected a JSON object.");
        }

        var written = new HashSet<string>(StringComparer.Ordinal);
        var first = true;
        Write(output, "{"u8);
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var start = (int)reader.TokenStartIndex;
            var name = reader.GetString()!;
            reader.Read();
            var valueStart = (int)reader.TokenStartIndex;
            reader.Skip();
            var end = (int)reader.BytesConsumed;
            if (remove.Contains(name) || !written.Add(name) && set.ContainsKey(name))
            {
                continue;
            }

            Write(output, first ? ""u8 : ","u8);
            first = false;
            if (set.TryGetValue(name, out var value))
            {
                Write(output, json[start..valueStart]);
                Write(output, value);
            }
            else
            {
                Write(output, json[start..end]);
            }
        }

        foreach (var (name, value) in set)
        {
            if (!written.Contains(name))
            {
                Write(output, first ? "\""u8 : ",\""u8);
                first = false;
                Write(output, System.Text.Encoding.UTF8.GetBytes(JsonEncodedText.Encode(name).ToString()));
                Write(output, "\":"u8);
                Write(output, value);
            }
        }

        Write(output, "}"u8);
    }

    private static void Write(IBufferWriter<byte> output, ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(output.GetSpan(bytes.Length));
        output.Advance(bytes.Length);
    }
}
