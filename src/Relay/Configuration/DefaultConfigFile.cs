namespace Relay.Configuration;

/// <summary>The commented relay.json written on first run: it works offline with the built-in mock provider.</summary>
internal static class DefaultConfigFile
{
    public const string Text = """
        // Relay configuration. JSON with comments; "${ENV_VAR}" in any string is read from the environment
        // ("${ENV_VAR:-default}" gives a default). Relative paths are relative to this file.
        // Full reference: docs/configuration.md
        {
          // Where Relay listens: a URL or an array of URLs. Claude Desktop accepts plain http:// only on loopback.
          "listen": "http://127.0.0.1:8787",

          // Serve the API under a path prefix, e.g. "/claude" gives http://127.0.0.1:8787/claude/v1/messages.
          "basePath": "",

          // SQLite file for API keys and usage records.
          "database": "relay.db",

          // Upstream providers. Types: "anthropic" (an Anthropic-compatible endpoint, forwarded faithfully),
          // "openai" (a Chat Completions endpoint, translated; "preset" names its family),
          // "openai-responses" (OpenAI's Responses API, translated; for models such as gpt-5.x-codex) and
          // "mock" (built in, answers offline; good for checking a setup).
          "providers": {
            "demo": { "type": "mock" }

            // Examples — uncomment, set the environment variable, and point a model at them:
            // "anthropic": { "type": "anthropic", "baseUrl": "https://api.anthropic.com", "apiKey": "${ANTHROPIC_API_KEY}" },
            // "deepseek":  { "type": "anthropic", "baseUrl": "https://api.deepseek.com/anthropic", "apiKey": "${DEEPSEEK_API_KEY}" },
            // "kimi":      { "type": "anthropic", "baseUrl": "https://api.moonshot.cn/anthropic", "apiKey": "${MOONSHOT_API_KEY}" },
            // "glm":       { "type": "anthropic", "baseUrl": "https://open.bigmodel.cn/api/anthropic", "apiKey": "${ZHIPU_API_KEY}", "authScheme": "bearer" },
            // "minimax":   { "type": "anthropic", "baseUrl": "https://api.minimaxi.com/anthropic", "apiKey": "${MINIMAX_API_KEY}" },
            // "openrouter": { "type": "openai", "preset": "openrouter", "baseUrl": "https://openrouter.ai/api/v1", "apiKey": "${OPENROUTER_API_KEY}" },
            // "ollama":     { "type": "openai", "preset": "ollama", "baseUrl": "http://127.0.0.1:11434/v1" },
            // "codex":      { "type": "openai-responses", "baseUrl": "https://api.openai.com/v1", "apiKey": "${OPENAI_API_KEY}" },
            // A plain-HTTP gateway that already has its own keys: forward each client's key as it came.
            // "mybridge":  { "type": "anthropic", "baseUrl": "http://gateway.example:3000", "apiKey": "passthrough" }
          },

          // The model names clients send, mapped to "provider/upstream-model" routes: a fallback chain, tried in
          // order when a provider fails (docs/routing.md). Exact names win over "*" patterns; a "[1m]" suffix is
          // ignored for routing. "family" lets Claude Desktop place the name.
          "models": {
            "claude-opus-4-7":   { "routes": ["demo/echo"], "family": "opus" },
            "claude-sonnet-4-6": { "routes": ["demo/echo"], "family": "sonnet" },
            "claude-haiku-4-5":  { "routes": ["demo/echo"], "family": "haiku" },
            // Any other Claude name (Claude Code's defaults change with each release):
            "claude-*":          { "routes": ["demo/echo"] }
            // "deepseek-chat":  { "routes": ["deepseek/deepseek-chat"] }
          }
        }

        """;
}
