using System.Buffers;
using System.Text.Json;

namespace Relay.Protocol.Json;

/// <summary>Leaves named top-level properties out of a JSON object, copying every other member's bytes unchanged.</summary>
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

    private static void Write(IBufferWriter<byte> output, ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(output.GetSpan(bytes.Length));
        output.Advance(bytes.Length);
    }
}
