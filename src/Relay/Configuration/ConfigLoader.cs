using System.Text.Json;
using System.Text.Json.Nodes;

namespace Relay.Configuration;

/// <summary>Reads relay.json: JSON with comments, <c>${ENV_VAR}</c> substitution in strings, then validation.</summary>
internal static class ConfigLoader
{
    private static readonly JsonDocumentOptions DocumentOptions = new()
    {
        CommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
    };

    /// <exception cref="ConfigException">The file is missing, malformed or invalid.</exception>
    public static RelayConfig Load(string path, Func<string, string?>? environment = null)
    {
        var fullPath = Path.GetFullPath(path);
        string text;
        try
        {
            text = File.ReadAllText(fullPath);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ConfigException($"{fullPath}: cannot be read: {ex.Message}");
        }

        var config = Parse(text, fullPath, environment ?? Environment.GetEnvironmentVariable);
        config.SourcePath = fullPath;
        ConfigValidator.Validate(config, fullPath, environment);
        return config;
    }

    /// <summary>Parses config text without validating it (the caller validates).</summary>
    public static RelayConfig Parse(string text, string fileName, Func<string, string?> environment)
    {
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(text, documentOptions: DocumentOptions);
        }
        catch (JsonException ex)
        {
            throw new ConfigException($"{fileName}: not valid JSON (line {ex.LineNumber + 1}, column {ex.BytePositionInLine + 1}): {FirstSentence(ex.Message)}");
        }

        if (root is not JsonObject rootObject)
        {
            throw new ConfigException($"{fileName}: the file must hold one JSON object.");
        }

        EnvironmentSubstitution.Apply(rootObject, fileName, environment);
        try
        {
            return rootObject.Deserialize(ConfigJsonContext.Default.RelayConfig)
                ?? throw new ConfigException($"{fileName}: the file must hold one JSON object.");
        }
        catch (JsonException ex)
        {
            throw new ConfigException($"{fileName}: {DescribeJsonError(ex)}");
        }
    }

    private static string DescribeJsonError(JsonException ex)
    {
        var key = KeyFromPath(ex.Path);
        var message = ex.Message;
        if (message.Contains("could not be mapped", StringComparison.Ordinal))
        {
            // "The JSON property 'baseURL' could not be mapped to any .NET member contained in type …"
            var start = message.IndexOf('\'', StringComparison.Ordinal);
            var end = start < 0 ? -1 : message.IndexOf('\'', start + 1);
            var name = end > start ? message[(start + 1)..end] : "?";
            // The exception's path already ends at the unknown property itself; append the name only if it does not.
            var full = key == name || key.EndsWith("." + name, StringComparison.Ordinal) ? key : key.Length == 0 ? name : $"{key}.{name}";
            return $"key {full}: unknown setting (check its spelling and case).";
        }

        if (message.Contains("could not be converted", StringComparison.Ordinal))
        {
            return $"key {key}: has the wrong type of value.";
        }

        return $"key {key}: {FirstSentence(message)}";
    }

    /// <summary>Turns System.Text.Json's <c>$.providers.demo.type</c> or <c>$['a.b']</c> into <c>providers.demo.type</c>.</summary>
    private static string KeyFromPath(string? path)
    {
        if (string.IsNullOrEmpty(path) || path == "$")
        {
            return "";
        }

        var key = path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path.TrimStart('$');
        return key.Replace("['", ".", StringComparison.Ordinal).Replace("']", "", StringComparison.Ordinal).TrimStart('.');
    }

    private static string FirstSentence(string message)
    {
        var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        return cut > 0 ? message[..cut] : message;
    }
}
