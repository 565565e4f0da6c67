using Relay.Storage.Accounts;
using Relay.Storage.Sqlite;
using Relay.Tests.Infrastructure;

namespace Relay.Tests;

/// <summary><c>relay prices</c> as an operator runs it: the table with each price's source, and which price a model gets.</summary>
public sealed class PricesCommandTests
{
    private const string Config = """
        {
          "providers": {
            "ds": { "type": "openai", "baseUrl": "https://api.deepseek.com/v1", "apiKey": "sk-ds-0123456789" },
            "up": { "type": "anthropic", "baseUrl": "https://api.anthropic.com", "apiKey": "sk-ant-0123456789" }
          },
          "models": {
            "claude-*": { "routes": ["up/claude-sonnet-4-6-20260101"] },
            "deepseek-chat": { "routes": ["ds/deepseek-chat"] },
            "cheap-*": { "routes": ["ds/deepseek-chat"] }
          },
          "prices": {
            "deepseek-chat": { "input": 0.27, "output": 1.10, "cacheRead": 0.07 },
            "ds/*": { "input": 0.5, "output": 2 },
            "claude-haiku-4-5": { "input": 0.5, "output": 2.5 }
          }
        }
        """;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<TempDirectory> StationAsync()
    {
        var dir = new TempDirectory();
        await File.WriteAllTextAsync(dir.File("relay.json"), Config, Ct);
        await using var store = new SqliteRelayStore(dir.File("relay.db"));
        await store.InitializeAsync(Ct);
        await store.SetPriceAsync("claude-opus-4-6", new PriceRates { Input = 4m, Output = 20m, CacheRead = 0.2m }, Ct);
        return dir;
    }

    [Fact]
    public async Task Table_ShowsEveryPriceWithItsSource_AndWhichOnesAreOverridden()
    {
        using var dir = await StationAsync();

        var (exit, stdout, stderr) = await RelayProcess.RunAsync(dir.Path, "prices");

        Assert.True(exit == 0, stderr);
        var rows = stdout.Split('\n');
        string Row(string model, string source) => Assert.Single(rows, r => r.Contains($"│ {model} ", StringComparison.Ordinal) && r.Contains($"│ {source}", StringComparison.Ordinal));
        // Admin-set: cache writes follow the input price (1.25x and 2x) when not given.
        Assert.Matches(@"\$4\.00 +│ +\$20\.00 +│ +\$5\.00 +│ +\$8\.00 +│ +\$0\.20 +│ +\$0\.00 ", Row("claude-opus-4-6", "admin"));
        Assert.Matches(@"\$0\.27 +│ +\$1\.10 +│ +\$0\.3375 +│ +\$0\.54 +│ +\$0\.07 ", Row("deepseek-chat", "relay.json"));
        Assert.Contains("relay.json", Row("ds/*", "relay.json"), StringComparison.Ordinal);
        Assert.Contains("admin, over default", Row("claude-opus-4-6", "admin"), StringComparison.Ordinal);
        Assert.Matches(@"\$0\.50 +│ +\$2\.50 .*relay\.json, over default", Row("claude-haiku-4-5", "relay.json"));
        Assert.Contains("> 100,000: $0.50 / $2.50, 5m $0.625, 1h $1.00, read $0.05", Row("claude-haiku-5-5", "default"), StringComparison.Ordinal);
        Assert.DoesNotContain(rows, r => r.Contains("│ default", StringComparison.Ordinal) && (r.Contains("claude-opus-4-6 ", StringComparison.Ordinal) || r.Contains("claude-haiku-4-5 ", StringComparison.Ordinal)));
        Assert.Matches(@"\$3\.00 +│ +\$15\.00 +│ +\$3\.75 +│ +\$6\.00 +│ +\$0\.30 +│ +\$0\.01 ", Row("claude-sonnet-4-6", "default"));
    }

    [Theory]
    [InlineData("deepseek-chat", "priced by the relay.json entry 'deepseek-chat'")]
    [InlineData("cheap-1", "(routed to ds/deepseek-chat): priced by the relay.json entry 'ds/*'")]
    [InlineData("claude-anything", "(routed to up/claude-sonnet-4-6-20260101): priced by the default (taken ")]
    [InlineData("claude-opus-4-6[1m]", "priced by the admin entry 'claude-opus-4-6'")]
    public async Task Model_SaysWhichEntryItResolvesTo(string model, string expected)
    {
        using var dir = await StationAsync();

        var (exit, stdout, stderr) = await RelayProcess.RunAsync(dir.Path, "prices", "--model", model);

        Assert.True(exit == 0, stderr);
        Assert.Contains(expected, stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Model_WithoutAnyPrice_SaysSoAndFails()
    {
        using var dir = await StationAsync();

        var (exit, stdout, _) = await RelayProcess.RunAsync(dir.Path, "prices", "--model", "llama-local");

        Assert.Equal(1, exit);
        Assert.Contains("llama-local: no price", stdout, StringComparison.Ordinal);
    }
}
