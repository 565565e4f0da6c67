using Relay.Configuration;

namespace Relay.Cli;

/// <summary>What <c>relay serve</c> prints once listening: where, with which key, and how to connect clients.</summary>
internal static class Banner
{
    /// <param name="database">The store's description: a file path or a PostgreSQL server, never a password.</param>
    public static async Task WriteAsync(TextWriter output, RelayConfig config, string database, bool createdConfig, IReadOnlyList<string> addresses, string? newKey,
        IReadOnlyList<string> warnings)
    {
        var baseUrl = ClientBaseUrl(addresses.Count > 0 ? addresses[0] : config.Listen[0]) + config.BasePath;
        await output.WriteLineAsync($"Relay {typeof(Banner).Assembly.GetName().Version?.ToString(3)} is listening on {string.Join(", ", addresses)}{config.BasePath}");
        await output.WriteLineAsync($"  config:   {config.SourcePath}{(createdConfig ? "  (created with the built-in demo provider)" : "")}");
        await output.WriteLineAsync($"  database: {database}");
        if (config.Redis is { } redis)
        {
            // Validated before this: it parses. The description never holds the password.
            await output.WriteLineAsync($"  redis:    {Relay.Storage.Redis.RedisConnection.Parse(redis, config.RedisPrefix).Description}");
        }

        await output.WriteLineAsync($"  models:   {string.Join(", ", config.Models.Keys)}");
        await WriteWarningsAsync(output, warnings);

        await output.WriteLineAsync();
        if (newKey is not null)
        {
            await output.WriteLineAsync("Created API key \"default\" (shown only now; `relay keys create --name NAME` makes more):");
            await output.WriteLineAsync($"  {newKey}");
            await output.WriteLineAsync();
        }

        var token = newKey ?? "<your Relay key>";
        await output.WriteLineAsync("Claude Code: put this in ~/.claude/settings.json under \"env\", or export it:");
        await output.WriteLineAsync($"  export ANTHROPIC_BASE_URL={baseUrl}");
        await output.WriteLineAsync($"  export ANTHROPIC_AUTH_TOKEN={token}");
        await output.WriteLineAsync($"Claude Desktop: Developer > Configure third-party inference > Gateway, base URL {baseUrl} (no /v1), auth scheme bearer.");
        await output.WriteLineAsync("Try it:");
        await output.WriteLineAsync($"  curl {baseUrl}/v1/messages -H 'x-api-key: {token}' -H 'content-type: application/json' \\");
        await output.WriteLineAsync("    -d '{\"model\":\"claude-sonnet-4-6\",\"max_tokens\":100,\"messages\":[{\"role\":\"user\",\"content\":\"Hello\"}]}'");
        await output.WriteLineAsync("Press Ctrl+C to stop.");
    }

    public static async Task WriteWarningsAsync(TextWriter output, IEnumerable<string> warnings)
    {
        foreach (var warning in warnings)
        {
            await output.WriteLineAsync($"  warning:  {warning}");
        }
    }

    /// <summary>The URL a client on this machine should use: wildcard hosts become 127.0.0.1.</summary>
    public static string ClientBaseUrl(string address)
    {
        var url = address.Replace("://0.0.0.0", "://127.0.0.1", StringComparison.Ordinal)
            .Replace("://[::]", "://127.0.0.1", StringComparison.Ordinal)
            .Replace("://+", "://127.0.0.1", StringComparison.Ordinal)
            .Replace("://*", "://127.0.0.1", StringComparison.Ordinal);
        return url.TrimEnd('/');
    }
}
