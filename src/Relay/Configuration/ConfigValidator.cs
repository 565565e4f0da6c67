namespace Relay.Configuration;

/// <summary>Checks a parsed config and names the first problem by its key.</summary>
internal static class ConfigValidator
{
    public static readonly string[] ProviderTypes = ["anthropic", "mock"];
    public static readonly string[] Families = ["opus", "sonnet", "haiku", "fable", "mythos"];
    public static readonly string[] AuthSchemes = ["x-api-key", "bearer"];

    public static void Validate(RelayConfig config, string fileName)
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

        if (string.IsNullOrWhiteSpace(config.Database))
        {
            Fail("database", "must name a SQLite file, such as \"relay.db\".");
        }

        foreach (var (name, provider) in config.Providers)
        {
            ValidateProvider(name, provider, Fail);
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
                var route = model.Routes[i];
                var slash = route.IndexOf('/', StringComparison.Ordinal);
                if (slash <= 0 || slash == route.Length - 1)
                {
                    Fail($"{key}.routes[{i}]", $"'{route}' must be \"provider/upstream-model\".");
                }

                var provider = route[..slash];
                if (!config.Providers.ContainsKey(provider))
                {
                    Fail($"{key}.routes[{i}]", $"provider '{provider}' is not defined under \"providers\" (defined: {string.Join(", ", config.Providers.Keys)}).");
                }
            }

            if (model.Family is not null && !Families.Contains(model.Family))
            {
                Fail($"{key}.family", $"'{model.Family}' is not one of {string.Join(", ", Families)}.");
            }
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

        if (provider.AuthScheme is not null && !AuthSchemes.Contains(provider.AuthScheme))
        {
            fail($"{key}.authScheme", $"'{provider.AuthScheme}' is not one of {string.Join(", ", AuthSchemes)}.");
        }

        if (provider.TimeoutSeconds is <= 0)
        {
            fail($"{key}.timeoutSeconds", "must be a positive number of seconds.");
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
}
