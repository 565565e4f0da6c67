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

    /// <summary>An optional second address, such as <c>http://10.0.0.5:9464</c>, that serves only <c>GET /metrics</c>,
    /// without a key, for a Prometheus scraper on a private network; the main listener asks for the admin key.</summary>
    public string? MetricsListen { get; set; }

    /// <summary>A path prefix such as <c>/claude</c>; the API is then served under <c>/claude/v1/…</c>.</summary>
    public string BasePath { get; set; } = "";

    /// <summary>Where the state lives: a SQLite file (relative to the config file), or a PostgreSQL server that several
    /// instances share, as a <c>postgresql://USER:PASSWORD@HOST:PORT/DB</c> URL or an Npgsql <c>Host=…</c> string.</summary>
    public string Database { get; set; } = RelayDefaults.DatabaseFile;

    /// <summary>Optional Redis for the rate limits, concurrency slots and change feed every instance shares:
    /// <c>redis://[:PASSWORD@]HOST:PORT[/DB]</c>, <c>rediss://</c> for TLS, or StackExchange.Redis's own form.</summary>
    public string? Redis { get; set; }

    /// <summary>Put before every Redis key and channel name (default <c>relay:</c>), so stations can share one Redis.</summary>
    public string? RedisPrefix { get; set; }

    /// <summary>The largest request body accepted, in MiB (Anthropic's own limit is 32 MB).</summary>
    [JsonPropertyName("maxRequestBodyMB")]
    public int MaxRequestBodyMB { get; set; } = 32;

    /// <summary>On a graceful stop (Ctrl-C, SIGTERM), how long open requests may still run before Relay ends them.</summary>
    public int ShutdownDrainSeconds { get; set; } = 30;

    /// <summary>The certificate for <c>https://</c> listen URLs.</summary>
    public TlsConfig? Tls { get; set; }

    public Dictionary<string, ProviderConfig> Providers { get; set; } = new(StringComparer.Ordinal);

    public Dictionary<string, ModelConfig> Models { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Prices per model name, <c>provider/upstream-model</c> or pattern; they override Relay's shipped
    /// defaults, and admin-set prices override them.</summary>
    public Dictionary<string, PriceConfig> Prices { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Rules that send some kinds of request to a dedicated model name, whatever name was asked for.</summary>
    public ScenarioConfig? Scenarios { get; set; }

    /// <summary>The key that opens admin endpoints such as <c>/v1/routes</c>; <c>RELAY_ADMIN_KEY</c> also sets it.</summary>
    public string? AdminKey { get; set; }

    /// <summary>When a route is taken out of rotation after repeated failures, and for how long.</summary>
    public CircuitBreakerConfig CircuitBreaker { get; set; } = new();

    /// <summary>How many requests without a valid key one client address may make before they get 429.</summary>
    public UnauthenticatedLimitConfig UnauthenticatedLimit { get; set; } = new();

    /// <summary>Reverse proxies (addresses or CIDR ranges) whose <c>X-Forwarded-For</c> Relay believes, so key address
    /// lists and the per-address limit see the client instead of the proxy. Empty: the TCP peer is the client.</summary>
    public List<string> TrustedProxies { get; set; } = [];

    /// <summary>Where usage records wait on disk while the database does not answer, and how much room they may take.</summary>
    public UsageSpoolConfig UsageSpool { get; set; } = new();

    /// <summary>The file this came from (null when built in code); relative paths resolve against its folder.</summary>
    [JsonIgnore]
    public string? SourcePath { get; set; }

    /// <summary>Set by <c>relay bridge</c> only (not a file setting): the provider that gets every request with the
    /// client's own credential and answers <c>/v1/models</c> too; Relay then checks no keys itself.</summary>
    [JsonIgnore]
    public string? BridgeProvider { get; set; }

    /// <summary>Whether <see cref="Database"/> names a PostgreSQL server rather than a SQLite file.</summary>
    [JsonIgnore]
    public bool DatabaseIsPostgres => Storage.Postgres.PostgresConnection.IsPostgres(Database);

    /// <summary>The SQLite database path made absolute against the config file's folder.</summary>
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
    /// <summary><c>anthropic</c> (pass-through), <c>openai</c> (translated to Chat Completions) or <c>mock</c> (built in).</summary>
    public string Type { get; set; } = "";

    public string? BaseUrl { get; set; }

    /// <summary>The provider's key, or <c>passthrough</c> to forward the client's own credentials.</summary>
    public string? ApiKey { get; set; }

    /// <summary>How the key is sent: <c>x-api-key</c> (default for anthropic) or <c>bearer</c> (default for openai).</summary>
    public string? AuthScheme { get; set; }

    /// <summary>Extra headers sent on every request to this provider.</summary>
    public Dictionary<string, string>? Headers { get; set; }

    /// <summary>How long to wait for the response to start (the first byte).</summary>
    public int? TimeoutSeconds { get; set; }

    /// <summary>How long to wait for a TCP/TLS connection.</summary>
    public int? ConnectTimeoutSeconds { get; set; }

    /// <summary>How long a started response may go without sending anything; pings keep the client alive meanwhile.</summary>
    public int? IdleTimeoutSeconds { get; set; }

    /// <summary>How long a stream may be silent before Relay sends the client a <c>ping</c> event (default 15).</summary>
    public int? PingIntervalSeconds { get; set; }

    /// <summary>The longest one request may take from start to end.</summary>
    public int? TotalTimeoutSeconds { get; set; }

    /// <summary>An optional active probe that marks the provider down before users hit it.</summary>
    public HealthCheckConfig? HealthCheck { get; set; }

    /// <summary>Mock only: the pause between streamed chunks, in milliseconds.</summary>
    public int? ChunkDelayMs { get; set; }

    /// <summary>OpenAI only: the provider family whose quirks translation follows (see ChatPresets.Names).</summary>
    public string? Preset { get; set; }

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
    /// <summary>The fallback chain, in order of preference: <c>"provider/model"</c> strings or route objects.</summary>
    public List<RouteConfig> Routes { get; set; } = [];

    /// <summary>Attempts per request across all routes, retries included (default: one per route, plus one).</summary>
    public int? MaxAttempts { get; set; }

    /// <summary>How long a request may spend retrying before the last failure is returned (default 60).</summary>
    public int? RetryBudgetSeconds { get; set; }

    /// <summary>The Claude family tier Claude Desktop should place this name in: sonnet, opus, haiku…</summary>
    public string? Family { get; set; }

    public string? DisplayName { get; set; }
}

/// <summary>One route of a model: a target and how to use it. Written as a string when only the target matters.</summary>
[System.Text.Json.Serialization.JsonConverter(typeof(RouteConfigConverter))]
internal sealed class RouteConfig
{
    /// <summary><c>provider/upstream-model</c>, split at the first '/'.</summary>
    public string Route { get; set; } = "";

    /// <summary>Share of load among adjacent weighted routes; routes with a weight form one load-balanced tier.</summary>
    public int? Weight { get; set; }

    /// <summary>Caps <c>max_tokens</c> for this route (the upstream model's output limit).</summary>
    public int? MaxTokens { get; set; }

    /// <summary>Overrides the provider's first-byte timeout on this route.</summary>
    public int? TimeoutSeconds { get; set; }

    public static implicit operator RouteConfig(string route) => new() { Route = route };
}

/// <summary>The <c>scenarios</c> block: each names a model under <c>models</c>.</summary>
internal sealed class ScenarioConfig
{
    /// <summary>Claude Code's small/fast calls: any requested name containing "haiku".</summary>
    public string? Background { get; set; }

    /// <summary>Requests with <c>thinking.type</c> "enabled".</summary>
    public string? Thinking { get; set; }

    /// <summary>Requests whose estimated input exceeds <see cref="LongContextThreshold"/> tokens.</summary>
    public string? LongContext { get; set; }

    public int LongContextThreshold { get; set; } = 60_000;

    /// <summary>Requests carrying an image anywhere in the conversation.</summary>
    public string? Image { get; set; }

    /// <summary>Requests offering a web search server tool.</summary>
    public string? WebSearch { get; set; }
}

internal sealed class CircuitBreakerConfig
{
    /// <summary>Consecutive failures that open a route's circuit.</summary>
    public int Failures { get; set; } = 5;

    /// <summary>How long an open route is skipped before one probe request is let through.</summary>
    public int CooldownSeconds { get; set; } = 30;
}

/// <summary>A token bucket per client address, taken from only by requests that fail authentication.</summary>
internal sealed class UnauthenticatedLimitConfig
{
    /// <summary>How many such requests per second an address may make in the long run.</summary>
    public double PerSecond { get; set; } = 2;

    /// <summary>How many it may make at once before the rate applies.</summary>
    public int Burst { get; set; } = 30;
}

/// <summary>The <c>usageSpool</c> block: usage records the store could not take are appended here and replayed later.</summary>
internal sealed class UsageSpoolConfig
{
    /// <summary>A folder, relative to the config file; shared safely by instances on one machine.</summary>
    public string Path { get; set; } = RelayDefaults.UsageSpoolFolder;

    /// <summary>The most the folder may hold; when it is full, requests wait for the store instead. 0 turns the spool off.</summary>
    public int MaxMegabytes { get; set; } = 1024;
}

internal sealed class HealthCheckConfig
{
    public int IntervalSeconds { get; set; } = 30;

    /// <summary>The path probed with GET (with the provider's key); any answer below 500 except 401/403 is healthy.
    /// Default: <c>/v1/models</c> under an anthropic provider's root, <c>/models</c> under an openai base URL.</summary>
    public string? Path { get; set; }
}

internal static class RelayDefaults
{
    public const string ListenUrl = "http://127.0.0.1:8787";
    public const string ConfigFile = "relay.json";
    public const string DatabaseFile = "relay.db";
    public const string UsageSpoolFolder = "relay-spool";
    public const int TimeoutSeconds = 600;
    public const int ConnectTimeoutSeconds = 10;
    public const int IdleTimeoutSeconds = 300;
    public const int TotalTimeoutSeconds = 3600;
    public const int RetryBudgetSeconds = 60;
    public const string PassthroughKey = "passthrough";
}
