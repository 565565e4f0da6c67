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

    /// <summary>The certificate for <c>https://</c> listen URLs.</summary>
    public TlsConfig? Tls { get; set; }

    public Dictionary<string, ProviderConfig> Providers { get; set; } = new(StringComparer.Ordinal);

    public Dictionary<string, ModelConfig> Models { get; set; } = new(StringComparer.Ordinal);

    /// <summary>The file this came from (null when built in code); relative paths resolve against its folder.</summary>
    [JsonIgnore]
    public string? SourcePath { get; set; }

    /// <summary>Set by <c>relay bridge</c> only (not a file setting): the provider that gets every request with the
    /// client's own credential and answers <c>/v1/models</c> too; Relay then checks no keys itself.</summary>
    [JsonIgnore]
    public string? BridgeProvider { get; set; }

    /// <summary>The database path made absolute against the config file's folder.</summary>
    [JsonIgnore]
    public string DatabasePath => ResolvePath(Database);

    /// <summary>A path from the file made absolute against the config file's folder.</summary>
    public string ResolvePath(string path) =>
        Path.GetFullPath(path, SourcePath is null ? Environment.CurrentDirectory : Path.GetDirectoryName(Path.GetFullPath(SourcePath))!);
}

/// <summary>The server certificate under <c>tls</c>: a PEM certificate and key, or a PFX (PKCS#12) file.</summary>
internal sealed class TlsConfig
{
    /// <summary>A PEM certificate file; intermediate certificates may follow the server's own in the same file.</summary>
    public string? Certificate { get; set; }

    /// <summary>The PEM private key for <see cref="Certificate"/> (PKCS#8, RSA or EC; unencrypted).</summary>
    public string? Key { get; set; }

    /// <summary>A PFX / PKCS#12 file holding the certificate and its key.</summary>
    public string? Pfx { get; set; }

    /// <summary>The PFX password, usually <c>${ENV_VAR}</c>.</summary>
    public string? Password { get; set; }
}

/// <summary>One upstream provider under <c>providers</c>.</summary>
internal sealed class ProviderConfig
{
    /// <summary><c>anthropic</c> (pass-through) or <c>mock</c> (built in).</summary>
    public string Type { get; set; } = "";

    public string? BaseUrl { get; set; }

    /// <summary>The provider's key, or <c>passthrough</c> to forward the client's own credentials.</summary>
    public string? ApiKey { get; set; }

    /// <summary>How the key is sent: <c>x-api-key</c> (default) or <c>bearer</c>.</summary>
    public string? AuthScheme { get; set; }

    /// <summary>Extra headers sent on every request to this provider.</summary>
    public Dictionary<string, string>? Headers { get; set; }

    /// <summary>How long to wait for the response to start, and for each next piece of a stream.</summary>
    public int? TimeoutSeconds { get; set; }

    /// <summary>Mock only: the pause between streamed chunks, in milliseconds.</summary>
    public int? ChunkDelayMs { get; set; }
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
