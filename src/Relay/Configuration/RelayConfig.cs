using System.Text.Json.Serialization;

namespace Relay.Configuration;

/// <summary>The whole of <c>relay.json</c>. Property names are the file's keys in camelCase.</summary>
internal sealed class RelayConfig
{
    [JsonPropertyName("$schema")]
    public string? Schema { get; set; }

    /// <summary>URLs to listen on; the file may give one string or an array.</summary>
    [JsonConverter(typeof(StringOrArrayConverter))]
    public List<string> Listen { get; set; } = [RelayDefaults.ListenUrl];

    /// <summary>A path prefix such as <c>/claude</c>; the API is then served under <c>/claude/v1/…</c>.</summary>
    public string BasePath { get; set; } = "";

    /// <summary>The SQLite file, relative to the config file.</summary>
    public string Database { get; set; } = RelayDefaults.DatabaseFile;

    /// <summary>The largest request body accepted, in MiB (Anthropic's own limit is 32 MB).</summary>
    [JsonPropertyName("maxRequestBodyMB")]
    public int MaxRequestBodyMB { get; set; } = 32;

    public Dictionary<string, ProviderConfig> Providers { get; set; } = new(StringComparer.Ordinal);

    public Dictionary<string, ModelConfig> Models { get; set; } = new(StringComparer.Ordinal);

    /// <summary>The file this came from (null when built in code); relative paths resolve against its folder.</summary>
    [JsonIgnore]
    public string? SourcePath { get; set; }

    /// <summary>The database path made absolute against the config file's folder.</summary>
    [JsonIgnore]
    public string DatabasePath =>
        Path.GetFullPath(Database, SourcePath is null ? Environment.CurrentDirectory : Path.GetDirectoryName(Path.GetFullPath(SourcePath))!);
}

/// <summary>One upstream provider under <c>providers</c>.</summary>
internal sealed class ProviderConfig
{
    /// <summary><c>anthropic</c> (pass-through), <c>openai</c> (translated to Chat Completions) or <c>mock</c> (built in).</summary>
    public string Type { get; set; } = "";

    public string? BaseUrl { get; set; }

    /// <summary>The provider's key, or <c>passthrough</c> to forward the client's own credentials.</summary>
    public string? ApiKey { get; set; }

    /// <summary>How the key is sent: <c>x-api-key</c> (default for anthropic) or <c>bearer</c> (default for openai).</summary>
    public string? AuthScheme { get; set; }

    /// <summary>Extra headers sent on every request to this provider.</summary>
    public Dictionary<string, string>? Headers { get; set; }

    /// <summary>How long to wait for the response to start, and for each next piece of a stream.</summary>
    public int? TimeoutSeconds { get; set; }

    /// <summary>Mock only: the pause between streamed chunks, in milliseconds.</summary>
    public int? ChunkDelayMs { get; set; }

    /// <summary>OpenAI only: the provider family whose quirks translation follows (see ChatPresets.Names).</summary>
    public string? Preset { get; set; }

    /// <summary>OpenAI only: seconds of silence after which a translated stream sends the client a <c>ping</c>.</summary>
    public int? PingSeconds { get; set; }

    /// <summary>OpenAI only: settings per upstream model name (or <c>*</c> pattern), overriding the preset.</summary>
    public Dictionary<string, UpstreamModelConfig>? Models { get; set; }
}

/// <summary>What one upstream model of an openai provider accepts, under <c>providers.NAME.models</c>.</summary>
internal sealed class UpstreamModelConfig
{
    /// <summary>The model's output limit; a larger client <c>max_tokens</c> is clamped to it.</summary>
    public int? MaxTokens { get; set; }

    /// <summary>False replaces images with a placeholder (for text-only models, which answer 400 to images).</summary>
    public bool? Vision { get; set; }

    /// <summary>False never sends reasoning parameters; true sends the preset's (or <c>reasoning_effort</c>).</summary>
    public bool? Reasoning { get; set; }
}

/// <summary>One client-facing model name (or <c>*</c> pattern) under <c>models</c>.</summary>
internal sealed class ModelConfig
{
    /// <summary><c>provider/upstream-model</c> entries, in order of preference.</summary>
    public List<string> Routes { get; set; } = [];

    /// <summary>The Claude family tier Claude Desktop should place this name in: sonnet, opus, haiku…</summary>
    public string? Family { get; set; }

    public string? DisplayName { get; set; }
}

internal static class RelayDefaults
{
    public const string ListenUrl = "http://127.0.0.1:8787";
    public const string ConfigFile = "relay.json";
    public const string DatabaseFile = "relay.db";
    public const int TimeoutSeconds = 600;
    public const string PassthroughKey = "passthrough";
}
