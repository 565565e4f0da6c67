using Relay.Configuration;
using Relay.Storage.Accounts;

namespace Relay.Tests;

/// <summary>relay.json's <c>prices</c>: read into rates as written, and every mistake named by its key.</summary>
public sealed class PriceConfigTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "relay-config-tests", Guid.NewGuid().ToString("N"));

    public PriceConfigTests() => Directory.CreateDirectory(_directory);

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string Write(string prices)
    {
        var path = Path.Combine(_directory, "relay.json");
        File.WriteAllText(path, $$"""
            {
              "providers": { "deepseek": { "type": "openai", "baseUrl": "https://api.deepseek.com/v1", "apiKey": "sk-0123456789" } },
              "models": { "deepseek-chat": { "routes": ["deepseek/deepseek-chat"] } },
              "prices": {{prices}}
            }
            """);
        return path;
    }

    [Fact]
    public void EveryField_IsReadIntoTheRates()
    {
        var config = ConfigLoader.Load(Write("""
            {
              "deepseek-chat": { "input": 0.27, "output": 1.10, "cacheRead": 0.07 },
              "deepseek/deepseek-reasoner": { "input": 0.55, "output": 2.19, "cacheWrite5m": 0.6, "cacheWrite1h": 1, "serverToolCall": 0.005 },
              "my-*": { "input": 1, "output": 2, "longPromptThreshold": 200000, "longPrompt": { "input": 2, "output": 4, "cacheRead": 0.2 } },
              "deepseek/*": { "input": 0, "output": 0 }
            }
            """), _ => null);

        Assert.Equal(new PriceRates { Input = 0.27m, Output = 1.10m, CacheRead = 0.07m }, config.Prices["deepseek-chat"].ToRates());
        Assert.Equal(new PriceRates { Input = 0.55m, Output = 2.19m, CacheWrite5m = 0.6m, CacheWrite1h = 1m, ServerToolCall = 0.005m },
            config.Prices["deepseek/deepseek-reasoner"].ToRates());
        var tiered = config.Prices["my-*"].ToRates();
        Assert.Equal((200_000L, new PriceRates { Input = 2m, Output = 4m, CacheRead = 0.2m }), (tiered.LongPromptThreshold!.Value, tiered.LongPrompt!));
    }

    [Theory]
    [InlineData("""{ "m": { "input": -1, "output": 2 } }""", "key prices.m.input: must be between 0 and 100000")]
    [InlineData("""{ "m": { "input": 1, "output": 2, "cacheRead": -0.1 } }""", "key prices.m.cacheRead: must be between 0 and 100000")]
    [InlineData("""{ "m": { "input": 1, "output": 2, "serverToolCall": -1 } }""", "key prices.m.serverToolCall: must be between 0 and 1000")]
    [InlineData("""{ "m": { "input": 1, "output": 200000 } }""", "key prices.m.output: must be between 0 and 100000")]
    [InlineData("""{ "m": { "input": 1 } }""", "key prices.m.output: is required")]
    [InlineData("""{ "m": { "output": 1 } }""", "key prices.m.input: is required")]
    [InlineData("""{ "m": { "input": 1, "output": 2, "cache_read": 0.1 } }""", "key prices.m.cache_read: unknown setting")]
    [InlineData("""{ "m": { "input": "cheap", "output": 2 } }""", "key prices.m.input: has the wrong type of value")]
    [InlineData("""{ "m": { "input": 1, "output": 2, "longPromptThreshold": 1000 } }""", "key prices.m.longPrompt: \"longPromptThreshold\" and \"longPrompt\" go together")]
    [InlineData("""{ "m": { "input": 1, "output": 2, "longPrompt": { "input": 2, "output": 4 } } }""", "key prices.m.longPromptThreshold: \"longPromptThreshold\" and \"longPrompt\" go together")]
    [InlineData("""{ "m": { "input": 1, "output": 2, "longPromptThreshold": 0, "longPrompt": { "input": 2, "output": 4 } } }""", "key prices.m.longPromptThreshold: must be a positive number")]
    [InlineData("""{ "m": { "input": 1, "output": 2, "longPromptThreshold": 10, "longPrompt": { "input": 2 } } }""", "key prices.m.longPrompt.output: is required")]
    [InlineData("""{ "m": { "input": 1, "output": 2, "longPromptThreshold": 10, "longPrompt": { "input": -2, "output": 4 } } }""", "key prices.m.longPrompt.input: must be between 0")]
    [InlineData("""{ "m": { "input": 1, "output": 2, "longPromptThreshold": 10, "longPrompt": { "input": 2, "output": 4, "longPromptThreshold": 20, "longPrompt": { "input": 3, "output": 6 } } } }""", "key prices.m.longPrompt.longPrompt: there is one long-prompt tier")]
    [InlineData("""{ "openai/gpt-5": { "input": 1, "output": 2 } }""", "key prices.openai/gpt-5: provider 'openai' is not defined under \"providers\" (defined: deepseek)")]
    [InlineData("""{ " m": { "input": 1, "output": 2 } }""", "key prices. m: a model name must not be empty or have surrounding spaces.")]
    public void Mistakes_AreNamedByTheirKey(string prices, string expected)
    {
        var path = Write(prices);

        var ex = Assert.Throws<ConfigException>(() => ConfigLoader.Load(path, _ => null));

        Assert.Contains($"{path}: {expected}", ex.Message, StringComparison.Ordinal);
    }
}
