using Relay.Accounting;
using Relay.Protocol.Translation;

namespace Relay.Configuration;

/// <summary>Checks a parsed config and names the first problem by its key.</summary>
internal static class ConfigValidator
{
    public static readonly string[] ProviderTypes = ["anthropic", "openai", "openai-responses", "mock"];
    public static readonly string[] Families = ["opus", "sonnet", "haiku", "fable", "mythos"];
    public static readonly string[] AuthSchemes = ["x-api-key", "bearer"];

    /// <summary>The admin key's one rule, for the config file's <c>adminKey</c> and <c>RELAY_ADMIN_KEY</c> alike.</summary>
    public const int MinAdminKeyLength = 16;

    private const string AdminKeyRule = "must be at least 16 characters; it guards the admin endpoints.";

    /// <param name="environment">Where <c>RELAY_ADMIN_KEY</c> is read (the process environment by default).</param>
    public static void Validate(RelayConfig config, string fileName, Func<string, string?>? environment = null)
    {
        void Fail(string key, string problem) => throw new ConfigException($"{fileName}: key {key}: {problem}");

        if (config.Listen.Count == 0)
        {
            Fail("listen", "give at least one URL, such as \"http://127.0.0.1:8787\".");
        }

        for (var i = 0; i < config.Listen.Count; i++)
        {
            var url = config.Listen[i];
            var key = config.Listen.Count == 1 ? "listen" : $"listen[{i}]";
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            {
                Fail(key, $"'{url}' is not an http:// or https:// URL such as \"http://127.0.0.1:8787\".");
            }
            else if (uri.Scheme == "https" && config.Tls is null)
            {
                Fail(key, $"'{url}' is https:// and needs a certificate: add \"tls\": {{ \"certificate\": \"relay.crt\", \"key\": \"relay.key\" }} "
                    + "(or { \"pfx\": \"relay.pfx\" }); `relay cert` makes a self-signed one for testing.");
            }
            else if (uri.AbsolutePath != "/")
            {
                Fail(key, $"'{url}' has a path; put path prefixes in \"basePath\" instead.");
            }
        }

        if (config.MetricsListen is { } metrics)
        {
            if (!Uri.TryCreate(metrics, UriKind.Absolute, out var uri) || uri.Scheme != "http" || uri.AbsolutePath != "/")
            {
                Fail("metricsListen", $"'{metrics}' is not an http:// URL without a path, such as \"http://10.0.0.5:9464\".");
            }
            else if (config.Listen.Any(listen => Uri.TryCreate(listen, UriKind.Absolute, out var main) && main.Port == uri.Port && main.Port != 0))
            {
                Fail("metricsListen", $"'{metrics}' uses the port of a listen URL; give the metrics listener a port of its own.");
            }
        }

        if (config.Tls is { } tls)
        {
            ValidateTls(config, tls, fileName, Fail);
        }

        if (config.BasePath.Length > 0 && (!config.BasePath.StartsWith('/') || config.BasePath.EndsWith('/') || config.BasePath.Contains("//", StringComparison.Ordinal)))
        {
            Fail("basePath", $"'{config.BasePath}' must start with '/' and not end with one, such as \"/claude\".");
        }

        if (config.MaxRequestBodyMB is < 1 or > 1024)
        {
            Fail("maxRequestBodyMB", "must be between 1 and 1024.");
        }

        if (config.ShutdownDrainSeconds is < 0 or > 3600)
        {
            Fail("shutdownDrainSeconds", "must be between 0 and 3600.");
        }

        if (string.IsNullOrWhiteSpace(config.Database))
        {
            Fail("database", "must name a SQLite file, such as \"relay.db\", or a PostgreSQL server, such as \"postgresql://USER:PASSWORD@HOST:5432/relay\".");
        }
        else if (config.DatabaseIsPostgres)
        {
            try
            {
                Storage.Postgres.PostgresConnection.Parse(config.Database);
            }
            catch (FormatException ex)
            {
                // The message names the part at fault, never the password.
                Fail("database", ex.Message);
            }
        }

        ValidateRedis(config, Fail);

        foreach (var (name, provider) in config.Providers)
        {
            ValidateProvider(name, provider, Fail);
        }

        if (config.CircuitBreaker.Failures < 1)
        {
            Fail("circuitBreaker.failures", "must be at least 1.");
        }

        if (config.CircuitBreaker.CooldownSeconds < 1)
        {
            Fail("circuitBreaker.cooldownSeconds", "must be at least 1 second.");
        }

        if (!(config.UnauthenticatedLimit.PerSecond is > 0 and <= 1_000_000))
        {
            Fail("unauthenticatedLimit.perSecond", "must be a number above 0 (requests per second per client address).");
        }

        if (config.UnauthenticatedLimit.Burst < 1)
        {
            Fail("unauthenticatedLimit.burst", "must be at least 1.");
        }

        if (string.IsNullOrWhiteSpace(config.UsageSpool.Path))
        {
            Fail("usageSpool.path", "must name a folder, such as \"relay-spool\".");
        }

        if (config.UsageSpool.MaxMegabytes is < 0 or > 1_048_576)
        {
            Fail("usageSpool.maxMegabytes", "must be between 0 (no spool: requests wait while the database is down) and 1048576.");
        }

        foreach (var proxy in config.TrustedProxies)
        {
            if (!Hosting.TrustedProxies.TryParse(proxy, out _))
            {
                Fail("trustedProxies", $"'{proxy}' is not an IP address or a CIDR range such as 10.0.0.0/8.");
            }
        }

        if (config.AdminKey is { Length: < MinAdminKeyLength })
        {
            Fail("adminKey", AdminKeyRule);
        }

        // The variable is used only when the file sets no adminKey, and then it must meet the same rule.
        if (config.AdminKey is null && AdminKey.FromEnvironment(environment) is { Length: < MinAdminKeyLength })
        {
            throw new ConfigException($"{fileName}: environment variable {AdminKey.EnvironmentVariable} (the admin key, as the file sets no adminKey): {AdminKeyRule}");
        }

        if (config.Scenarios is { } scenarios)
        {
            void CheckScenario(string name, string? model)
            {
                if (model is not null && (!config.Models.ContainsKey(model) || model.Contains('*', StringComparison.Ordinal)))
                {
                    Fail($"scenarios.{name}", $"'{model}' is not an exact model name under \"models\".");
                }
            }

            CheckScenario("background", scenarios.Background);
            CheckScenario("thinking", scenarios.Thinking);
            CheckScenario("longContext", scenarios.LongContext);
            CheckScenario("image", scenarios.Image);
            CheckScenario("webSearch", scenarios.WebSearch);
            if (scenarios.LongContextThreshold < 1)
            {
                Fail("scenarios.longContextThreshold", "must be a positive number of tokens.");
            }
        }

        foreach (var (model, price) in config.Prices)
        {
            ValidatePrice(config, model, price, Fail);
        }

        foreach (var (name, model) in config.Models)
        {
            var key = $"models.{name}";
            if (name.Length == 0 || name.Trim() != name)
            {
                Fail(key, "a model name must not be empty or have surrounding spaces.");
            }

            if (model.Routes.Count == 0)
            {
                Fail($"{key}.routes", "give at least one route, such as \"demo/echo\".");
            }

            for (var i = 0; i < model.Routes.Count; i++)
            {
                var routeKey = $"{key}.routes[{i}]";
                var routeConfig = model.Routes[i];
                var route = routeConfig.Route;
                var slash = route.IndexOf('/', StringComparison.Ordinal);
                if (slash <= 0 || slash == route.Length - 1)
                {
                    Fail(routeKey, $"'{route}' must be \"provider/upstream-model\".");
                }

                var provider = route[..slash];
                if (!config.Providers.ContainsKey(provider))
                {
                    Fail(routeKey, $"provider '{provider}' is not defined under \"providers\" (defined: {string.Join(", ", config.Providers.Keys)}).");
                }

                if (routeConfig.Weight is <= 0)
                {
                    Fail($"{routeKey}.weight", "must be a positive whole number.");
                }

                if (routeConfig.MaxTokens is <= 0)
                {
                    Fail($"{routeKey}.maxTokens", "must be a positive whole number.");
                }

                if (routeConfig.TimeoutSeconds is <= 0)
                {
                    Fail($"{routeKey}.timeoutSeconds", "must be a positive number of seconds.");
                }
            }

            if (model.MaxAttempts is < 1 or > 20)
            {
                Fail($"{key}.maxAttempts", "must be between 1 and 20.");
            }

            if (model.RetryBudgetSeconds is <= 0)
            {
                Fail($"{key}.retryBudgetSeconds", "must be a positive number of seconds.");
            }

            if (model.Family is not null && !Families.Contains(model.Family))
            {
                Fail($"{key}.family", $"'{model.Family}' is not one of {string.Join(", ", Families)}.");
            }
        }
    }

    private static void ValidateRedis(RelayConfig config, Action<string, string> fail)
    {
        if (config.RedisPrefix is { } prefix && (prefix.Length is 0 or > 64 || prefix.Any(char.IsWhiteSpace)))
        {
            fail("redisPrefix", "must be 1 to 64 characters without spaces, such as \"relay:\".");
        }

        if (config.Redis is null)
        {
            return;
        }

        try
        {
            Storage.Redis.RedisConnection.Parse(config.Redis);
        }
        catch (FormatException ex)
        {
            // The message never repeats the value, which may hold a password.
            fail("redis", ex.Message);
        }
    }

    private static void ValidatePrice(RelayConfig config, string model, PriceConfig price, Action<string, string> fail)
    {
        var key = $"prices.{model}";
        if (PriceRules.ModelProblem(model) is { } modelProblem)
        {
            fail(key, modelProblem);
        }

        // A provider/model key whose provider does not exist could never match: most likely a typo.
        var slash = model.IndexOf('/', StringComparison.Ordinal);
        if (slash > 0 && !model[..slash].Contains('*', StringComparison.Ordinal) && !config.Providers.ContainsKey(model[..slash]))
        {
            fail(key, $"provider '{model[..slash]}' is not defined under \"providers\" (defined: {string.Join(", ", config.Providers.Keys)}); "
                + "a key is a requested model name, \"provider/upstream-model\", or a * pattern of either.");
        }

        foreach (var (tier, rates) in new[] { ("", price), ("longPrompt.", price.LongPrompt) })
        {
            if (rates is not null && (rates.Input is null || rates.Output is null))
            {
                fail($"{key}.{tier}{(rates.Input is null ? "input" : "output")}",
                    "is required: US dollars per million tokens, such as { \"input\": 3, \"output\": 15 }.");
            }
        }

        if (PriceRules.RatesProblem(price.ToRates()) is { } problem)
        {
            fail($"{key}.{problem.Field}", problem.Problem);
        }
    }

    private static void ValidateTls(RelayConfig config, TlsConfig tls, string fileName, Action<string, string> fail)
    {
        if (!config.Listen.Any(l => l.StartsWith("https://", StringComparison.OrdinalIgnoreCase)))
        {
            fail("tls", "is set, but no listen URL is https://; use one such as \"https://0.0.0.0:8443\", or remove \"tls\".");
        }

        var pem = tls.Certificate is not null || tls.Key is not null;
        if (pem == (tls.Pfx is not null))
        {
            fail("tls", "give either \"certificate\" and \"key\" (PEM files) or \"pfx\" (with \"password\" if it has one).");
        }

        if (pem && (string.IsNullOrWhiteSpace(tls.Certificate) || string.IsNullOrWhiteSpace(tls.Key)))
        {
            fail(tls.Certificate is null ? "tls.certificate" : "tls.key", "PEM needs both \"certificate\" and \"key\".");
        }

        if (pem && tls.Password is not null)
        {
            fail("tls.password", "applies to \"pfx\" only; PEM keys must be unencrypted.");
        }

        // Load it now, so a wrong path or a mismatched key is a config error naming the key, not a failed start.
        using var certificate = Tls.TlsCertificateLoader.Load(config, fileName);
    }

    private static void ValidateProvider(string name, ProviderConfig provider, Action<string, string> fail)
    {
        var key = $"providers.{name}";
        if (name.Length == 0 || name.Contains('/', StringComparison.Ordinal))
        {
            fail(key, "a provider name must not be empty or contain '/'.");
        }

        if (!ProviderTypes.Contains(provider.Type))
        {
            fail($"{key}.type", $"'{provider.Type}' is not one of {string.Join(", ", ProviderTypes)}.");
        }

        if (provider.Type == "anthropic")
        {
            if (string.IsNullOrWhiteSpace(provider.BaseUrl))
            {
                fail($"{key}.baseUrl", "is required for an anthropic provider, such as \"https://api.anthropic.com\".");
            }
            else if (!Uri.TryCreate(provider.BaseUrl, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            {
                fail($"{key}.baseUrl", $"'{provider.BaseUrl}' is not an http:// or https:// URL.");
            }

            if (string.IsNullOrEmpty(provider.ApiKey))
            {
                fail($"{key}.apiKey", "is required: the provider's key (\"${ENV_VAR}\" reads it from the environment), or \"passthrough\" to forward the client's key.");
            }
        }

        if (provider.Type == "openai")
        {
            ValidateOpenAI(key, provider, fail);
        }
        else
        {
            if (provider.Type == "openai-responses")
            {
                ValidateOpenAIBase(key, provider, "/responses", "https://api.openai.com/v1", fail);
            }

            if (provider.Preset is not null)
            {
                fail($"{key}.preset", $"applies only to \"type\": \"openai\" providers (this one is '{provider.Type}').");
            }

            if (provider.Models is not null)
            {
                fail($"{key}.models", $"applies only to \"type\": \"openai\" providers (this one is '{provider.Type}').");
            }

        }

        if (provider.AuthScheme is not null && !AuthSchemes.Contains(provider.AuthScheme))
        {
            fail($"{key}.authScheme", $"'{provider.AuthScheme}' is not one of {string.Join(", ", AuthSchemes)}.");
        }

        foreach (var (setting, value) in new[]
        {
            ("timeoutSeconds", provider.TimeoutSeconds), ("connectTimeoutSeconds", provider.ConnectTimeoutSeconds),
            ("idleTimeoutSeconds", provider.IdleTimeoutSeconds), ("totalTimeoutSeconds", provider.TotalTimeoutSeconds),
            ("pingIntervalSeconds", provider.PingIntervalSeconds),
        })
        {
            if (value is <= 0)
            {
                fail($"{key}.{setting}", "must be a positive number of seconds.");
            }
        }

        if (provider.HealthCheck is { } health)
        {
            if (health.IntervalSeconds < 1)
            {
                fail($"{key}.healthCheck.intervalSeconds", "must be at least 1 second.");
            }

            if (health.Path is not null && !health.Path.StartsWith('/'))
            {
                fail($"{key}.healthCheck.path", $"'{health.Path}' must start with '/'.");
            }
        }

        if (provider.ChunkDelayMs is < 0 or > 60_000)
        {
            fail($"{key}.chunkDelayMs", "must be between 0 and 60000.");
        }

        foreach (var header in provider.Headers ?? [])
        {
            if (header.Key.Length == 0 || header.Key.Any(c => c <= ' ' || c == ':' || c > '~'))
            {
                fail($"{key}.headers", $"'{header.Key}' is not a valid header name.");
            }
        }
    }

    private static void ValidateOpenAI(string key, ProviderConfig provider, Action<string, string> fail)
    {
        ValidateOpenAIBase(key, provider, "/chat/completions", "https://openrouter.ai/api/v1", fail);

        if (provider.Preset is not null && !ChatPresets.Names.Contains(provider.Preset))
        {
            fail($"{key}.preset", $"'{provider.Preset}' is not one of {string.Join(", ", ChatPresets.Names)}.");
        }


        foreach (var (model, options) in provider.Models ?? [])
        {
            if (model.Length == 0 || model.Trim() != model)
            {
                fail($"{key}.models", $"'{model}' is not a model name: it must not be empty or have surrounding spaces.");
            }

            if (options.MaxTokens is < 1)
            {
                fail($"{key}.models.{model}.maxTokens", "must be a positive number of tokens, such as 8192.");
            }
        }
    }

    /// <summary>What both OpenAI-style kinds need: an http(s) base URL (the path is appended to it) and a key of their own.</summary>
    private static void ValidateOpenAIBase(string key, ProviderConfig provider, string appended, string example, Action<string, string> fail)
    {
        if (string.IsNullOrWhiteSpace(provider.BaseUrl))
        {
            fail($"{key}.baseUrl", $"is required for an {provider.Type} provider: the OpenAI-style base URL Relay appends {appended} to, such as \"{example}\".");
        }
        else if (!Uri.TryCreate(provider.BaseUrl, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            fail($"{key}.baseUrl", $"'{provider.BaseUrl}' is not an http:// or https:// URL.");
        }

        if (string.Equals(provider.ApiKey, RelayDefaults.PassthroughKey, StringComparison.Ordinal))
        {
            fail($"{key}.apiKey", "\"passthrough\" is only for anthropic providers: a client's Anthropic key means nothing to an OpenAI-compatible server.");
        }
    }
}
