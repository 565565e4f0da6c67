using System.Text;
using System.Text.Json.Nodes;

namespace Relay.Configuration;

/// <summary>Replaces <c>${NAME}</c> and <c>${NAME:-default}</c> in every string value of the config.</summary>
/// <remarks>A variable that is unset and has no default is an error naming the key, so a provider never starts
/// with an empty API key by accident.</remarks>
internal static class EnvironmentSubstitution
{
    public static void Apply(JsonObject root, string fileName, Func<string, string?> environment) =>
        Visit(root, "", fileName, environment);

    private static void Visit(JsonNode node, string key, string fileName, Func<string, string?> environment)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (name, child) in obj.ToList())
                {
                    var childKey = key.Length == 0 ? name : $"{key}.{name}";
                    if (child is JsonValue value && value.TryGetValue<string>(out var text) && text.Contains("${", StringComparison.Ordinal))
                    {
                        obj[name] = Substitute(text, childKey, fileName, environment);
                    }
                    else if (child is not null)
                    {
                        Visit(child, childKey, fileName, environment);
                    }
                }

                break;
            case JsonArray array:
                for (var i = 0; i < array.Count; i++)
                {
                    var childKey = $"{key}[{i}]";
                    if (array[i] is JsonValue value && value.TryGetValue<string>(out var text) && text.Contains("${", StringComparison.Ordinal))
                    {
                        array[i] = Substitute(text, childKey, fileName, environment);
                    }
                    else if (array[i] is { } child)
                    {
                        Visit(child, childKey, fileName, environment);
                    }
                }

                break;
            default:
                break;
        }
    }

    public static string Substitute(string text, string key, string fileName, Func<string, string?> environment)
    {
        var result = new StringBuilder(text.Length);
        var position = 0;
        while (position < text.Length)
        {
            var start = text.IndexOf("${", position, StringComparison.Ordinal);
            if (start < 0)
            {
                result.Append(text, position, text.Length - position);
                break;
            }

            var end = text.IndexOf('}', start + 2);
            if (end < 0)
            {
                throw new ConfigException($"{fileName}: key {key}: '${{' without a closing '}}'.");
            }

            result.Append(text, position, start - position);
            var expression = text[(start + 2)..end];
            var separator = expression.IndexOf(":-", StringComparison.Ordinal);
            var name = separator < 0 ? expression : expression[..separator];
            if (name.Length == 0)
            {
                throw new ConfigException($"{fileName}: key {key}: '${{}}' names no environment variable.");
            }

            var value = environment(name);
            if (string.IsNullOrEmpty(value))
            {
                value = separator < 0
                    ? throw new ConfigException($"{fileName}: key {key}: environment variable {name} is not set (use ${{{name}:-default}} to give a default).")
                    : expression[(separator + 2)..];
            }

            result.Append(value);
            position = end + 1;
        }

        return result.ToString();
    }
}
