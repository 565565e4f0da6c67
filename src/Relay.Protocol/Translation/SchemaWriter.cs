using System.Text.Json;

namespace Relay.Protocol.Translation;

/// <summary>Writes a tool's JSON Schema in the dialect the provider accepts.</summary>
/// <remarks>
/// Claude Code's schemas are draft 2020-12 with <c>$schema</c>, <c>additionalProperties:false</c>,
/// <c>exclusiveMinimum</c>, huge <c>maximum</c>s and enums. Every provider gets them without <c>$schema</c>/<c>$id</c>
/// (Groq rejects <c>$schema</c>). Gemini accepts only an OpenAPI subset and answers 400 to the rest
/// (llmgateway#1763, vibeproxy#338), so for it the schema is rebuilt from an allowlist: <c>$ref</c> inlined,
/// <c>allOf</c> merged, <c>oneOf</c> read as <c>anyOf</c>, <c>["T","null"]</c> made <c>T</c> + <c>nullable</c>,
/// <c>const</c> made a one-value enum, exclusive bounds made inclusive, <c>required</c> limited to listed properties.
/// </remarks>
/// <param name="dropped">Keywords the provider refused, left out wherever they appear as a schema keyword.</param>
internal sealed class SchemaWriter(JsonElement root, SchemaDialect dialect, IReadOnlySet<string> dropped)
{
    private const int MaxRefDepth = 8;

    private static readonly HashSet<string> SchemaMaps = ["properties", "$defs", "definitions", "patternProperties", "dependentSchemas"];
    private static readonly HashSet<string> SchemaValues = ["items", "additionalProperties", "not", "contains", "propertyNames", "if", "then", "else", "unevaluatedProperties", "unevaluatedItems", "additionalItems"];
    private static readonly HashSet<string> SchemaArrays = ["anyOf", "oneOf", "allOf", "prefixItems"];
    private static readonly HashSet<string> GeminiCopied = ["description", "title", "minItems", "maxItems", "minLength", "maxLength", "pattern", "minProperties", "maxProperties", "minimum", "maximum", "propertyOrdering"];

    /// <summary>Whether a schema object has anything for Gemini to see (an empty object schema is rejected there).</summary>
    public static bool HasProperties(JsonElement schema) =>
        schema.ValueKind == JsonValueKind.Object && schema.TryGetProperty("properties", out var p)
        && p.ValueKind == JsonValueKind.Object && p.EnumerateObject().Any();

    public void Write(Utf8JsonWriter writer, JsonElement schema)
    {
        if (dialect == SchemaDialect.Gemini)
        {
            WriteGemini(writer, schema, 0);
        }
        else
        {
            WriteStandard(writer, schema);
        }
    }

    private void WriteStandard(Utf8JsonWriter writer, JsonElement schema)
    {
        if (schema.ValueKind != JsonValueKind.Object)
        {
            schema.WriteTo(writer);
            return;
        }

        writer.WriteStartObject();
        foreach (var property in schema.EnumerateObject())
        {
            var name = property.Name;
            if (name is "$schema" or "$id" || dropped.Contains(name))
            {
                continue;
            }

            writer.WritePropertyName(name);
            var value = property.Value;
            if (SchemaMaps.Contains(name) && value.ValueKind == JsonValueKind.Object)
            {
                writer.WriteStartObject();
                foreach (var entry in value.EnumerateObject())
                {
                    writer.WritePropertyName(entry.Name);
                    WriteStandard(writer, entry.Value);
                }

                writer.WriteEndObject();
            }
            else if (SchemaArrays.Contains(name) && value.ValueKind == JsonValueKind.Array)
            {
                writer.WriteStartArray();
                foreach (var item in value.EnumerateArray())
                {
                    WriteStandard(writer, item);
                }

                writer.WriteEndArray();
            }
            else if (SchemaValues.Contains(name))
            {
                WriteStandard(writer, value);
            }
            else
            {
                value.WriteTo(writer);
            }
        }

        writer.WriteEndObject();
    }

    private void WriteGemini(Utf8JsonWriter writer, JsonElement schema, int depth)
    {
        schema = Resolve(schema, ref depth);
        if (schema.ValueKind != JsonValueKind.Object)
        {
            // `true` / `{}`-like schemas: anything goes; Gemini needs a type.
            writer.WriteStartObject();
            writer.WriteString("type", "string");
            writer.WriteEndObject();
            return;
        }

        // Merge allOf members into one view of properties and required names.
        var properties = new List<JsonProperty>();
        var required = new List<string>();
        Collect(schema, properties, required, depth);

        string? type = null;
        var nullable = false;
        if (schema.TryGetProperty("type", out var typeElement))
        {
            if (typeElement.ValueKind == JsonValueKind.String)
            {
                type = typeElement.GetString();
            }
            else if (typeElement.ValueKind == JsonValueKind.Array)
            {
                foreach (var t in typeElement.EnumerateArray())
                {
                    var name = t.GetString();
                    if (name == "null")
                    {
                        nullable = true;
                    }
                    else
                    {
                        type ??= name;
                    }
                }
            }
        }

        if (schema.TryGetProperty("nullable", out var nullableElement) && nullableElement.ValueKind == JsonValueKind.True)
        {
            nullable = true;
        }

        var anyOf = schema.TryGetProperty("anyOf", out var a) && a.ValueKind == JsonValueKind.Array ? a
            : schema.TryGetProperty("oneOf", out var o) && o.ValueKind == JsonValueKind.Array ? o
            : default;
        if (type is null && properties.Count > 0)
        {
            type = "object";
        }

        writer.WriteStartObject();
        if (type is not null)
        {
            writer.WriteString("type", type);
        }
        else if (anyOf.ValueKind != JsonValueKind.Array)
        {
            writer.WriteString("type", "string");
        }

        if (nullable)
        {
            writer.WriteBoolean("nullable", true);
        }

        foreach (var property in schema.EnumerateObject())
        {
            if (GeminiCopied.Contains(property.Name) && !dropped.Contains(property.Name) && property.Value.ValueKind is JsonValueKind.String or JsonValueKind.Number or JsonValueKind.Array)
            {
                writer.WritePropertyName(property.Name);
                property.Value.WriteTo(writer);
            }
        }

        if (schema.TryGetProperty("exclusiveMinimum", out var exMin) && exMin.ValueKind == JsonValueKind.Number && !schema.TryGetProperty("minimum", out _))
        {
            writer.WritePropertyName("minimum");
            exMin.WriteTo(writer);
        }

        if (schema.TryGetProperty("exclusiveMaximum", out var exMax) && exMax.ValueKind == JsonValueKind.Number && !schema.TryGetProperty("maximum", out _))
        {
            writer.WritePropertyName("maximum");
            exMax.WriteTo(writer);
        }

        if (type == "string" && schema.TryGetProperty("format", out var format) && format.ValueKind == JsonValueKind.String
            && format.GetString() is "enum" or "date-time")
        {
            writer.WriteString("format", format.GetString());
        }

        WriteGeminiEnum(writer, schema);

        if (type == "array" && schema.TryGetProperty("items", out var items))
        {
            writer.WritePropertyName("items");
            WriteGemini(writer, items, depth + 1);
        }

        if (properties.Count > 0)
        {
            writer.WriteStartObject("properties");
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var property in properties)
            {
                if (seen.Add(property.Name))
                {
                    writer.WritePropertyName(property.Name);
                    WriteGemini(writer, property.Value, depth + 1);
                }
            }

            writer.WriteEndObject();
            var listed = required.Where(seen.Contains).Distinct(StringComparer.Ordinal).ToList();
            if (listed.Count > 0)
            {
                writer.WriteStartArray("required");
                foreach (var name in listed)
                {
                    writer.WriteStringValue(name);
                }

                writer.WriteEndArray();
            }
        }

        if (type is null && anyOf.ValueKind == JsonValueKind.Array)
        {
            writer.WriteStartArray("anyOf");
            foreach (var option in anyOf.EnumerateArray())
            {
                WriteGemini(writer, option, depth + 1);
            }

            writer.WriteEndArray();
        }

        writer.WriteEndObject();
    }

    private static void WriteGeminiEnum(Utf8JsonWriter writer, JsonElement schema)
    {
        if (schema.TryGetProperty("enum", out var values) && values.ValueKind == JsonValueKind.Array
            && values.EnumerateArray().All(v => v.ValueKind == JsonValueKind.String))
        {
            writer.WritePropertyName("enum");
            values.WriteTo(writer);
        }
        else if (schema.TryGetProperty("const", out var constant) && constant.ValueKind == JsonValueKind.String)
        {
            writer.WriteStartArray("enum");
            writer.WriteStringValue(constant.GetString());
            writer.WriteEndArray();
        }
    }

    private void Collect(JsonElement schema, List<JsonProperty> properties, List<string> required, int depth)
    {
        if (schema.TryGetProperty("properties", out var props) && props.ValueKind == JsonValueKind.Object)
        {
            properties.AddRange(props.EnumerateObject());
        }

        if (schema.TryGetProperty("required", out var req) && req.ValueKind == JsonValueKind.Array)
        {
            required.AddRange(req.EnumerateArray().Where(r => r.ValueKind == JsonValueKind.String).Select(r => r.GetString()!));
        }

        if (schema.TryGetProperty("allOf", out var all) && all.ValueKind == JsonValueKind.Array && depth < MaxRefDepth)
        {
            foreach (var member in all.EnumerateArray())
            {
                var d = depth + 1;
                var resolved = Resolve(member, ref d);
                if (resolved.ValueKind == JsonValueKind.Object)
                {
                    Collect(resolved, properties, required, d);
                }
            }
        }
    }

    /// <summary>Follows local <c>$ref</c>s (<c>#/$defs/X</c>, <c>#/definitions/X</c>), a bounded number of times.</summary>
    private JsonElement Resolve(JsonElement schema, ref int depth)
    {
        while (schema.ValueKind == JsonValueKind.Object && schema.TryGetProperty("$ref", out var reference)
            && reference.ValueKind == JsonValueKind.String && depth < MaxRefDepth)
        {
            depth++;
            var path = reference.GetString()!;
            if (!path.StartsWith("#/", StringComparison.Ordinal))
            {
                return default;
            }

            var target = root;
            foreach (var segment in path[2..].Split('/'))
            {
                var key = segment.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal);
                if (target.ValueKind != JsonValueKind.Object || !target.TryGetProperty(key, out target))
                {
                    return default;
                }
            }

            schema = target;
        }

        return depth >= MaxRefDepth && schema.ValueKind == JsonValueKind.Object && schema.TryGetProperty("$ref", out _) ? default : schema;
    }
}
