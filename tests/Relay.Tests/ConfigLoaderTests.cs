using Relay.Configuration;

namespace Relay.Tests;

/// <summary>relay.json is read leniently as JSON (comments, trailing commas) and strictly as configuration: every
/// problem fails with the file, the key and what is wrong.</summary>
public sealed class ConfigLoaderTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "relay-config-tests", Guid.NewGuid().ToString("N"));

    public ConfigLoaderTests() => Directory.CreateDirectory(_directory);

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string Write(string json, string name = "relay.json")
    {
        var path = Path.Combine(_directory, name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, json);
        return path;
    }

    private static Func<string, string?> Env(params (string Name, string Value)[] variables) =>
        name => variables.FirstOrDefault(v => v.Name == name).Value;

    private static readonly Func<string, string?> NoEnv = _ => null;

    /// <summary>A minimal valid config with <paramref name="provider"/> as provider "deepseek" and one model routed to it.</summary>
    private static string WithProvider(string provider, string model = """{ "routes": ["deepseek/deepseek-chat"] }""") => $$"""
        {
          "providers": { "deepseek": {{provider}} },
          "models": { "deepseek-chat": {{model}} }
        }
        """;

    private ConfigException LoadFails(string json, Func<string, string?>? env = null)
    {
        var path = Write(json);
        var ex = Assert.Throws<ConfigException>(() => ConfigLoader.Load(path, env ?? NoEnv));
        Assert.StartsWith(path + ":", ex.Message, StringComparison.Ordinal);
        return ex;
    }

    [Fact]
    public void CommentsAndTrailingCommas_AreAccepted()
    {
        var path = Write("""
            // A line comment before the object.
            {
              /* A block comment. */
              "listen": ["http://127.0.0.1:9000", "http://[::1]:9000",], // trailing comma in an array
              "providers": {
                "demo": { "type": "mock", }, // trailing comma in an object
              },
              "models": {
                "m": { "routes": ["demo/echo",], "family": "sonnet", },
              },
            }
            """);

        var config = ConfigLoader.Load(path, NoEnv);

        Assert.Equal(["http://127.0.0.1:9000", "http://[::1]:9000"], config.Listen);
        Assert.Equal("mock", config.Providers["demo"].Type);
        Assert.Equal(["demo/echo"], config.Models["m"].Routes.Select(r => r.Route));
        Assert.Equal("sonnet", config.Models["m"].Family);
        Assert.Equal(Path.GetFullPath(path), config.SourcePath);
    }

    [Fact]
    public void DefaultConfigFile_Loads()
    {
        var config = ConfigLoader.Load(Write(DefaultConfigFile.Text), NoEnv);

        Assert.Equal([RelayDefaults.ListenUrl], config.Listen);
        Assert.Equal("mock", config.Providers["demo"].Type);
        Assert.Contains("claude-*", config.Models.Keys);
    }

    [Fact]
    public void EnvironmentVariables_AreSubstituted()
    {
        var path = Write(WithProvider("""
            {
              "type": "anthropic",
              "baseUrl": "${DS_URL:-https://api.deepseek.com/anthropic}",
              "apiKey": "${DEEPSEEK_API_KEY}",
              "headers": { "x-team": "team-${TEAM}-${REGION:-eu}" },
              "authScheme": "${SCHEME:-bearer}"
            }
            """));

        var config = ConfigLoader.Load(path, Env(("DEEPSEEK_API_KEY", "sk-ds-123"), ("TEAM", "blue"), ("SCHEME", "x-api-key")));

        var provider = config.Providers["deepseek"];
        Assert.Equal("sk-ds-123", provider.ApiKey);
        Assert.Equal("https://api.deepseek.com/anthropic", provider.BaseUrl);
        Assert.Equal("team-blue-eu", provider.Headers!["x-team"]);
        Assert.Equal("x-api-key", provider.AuthScheme);
    }

    [Fact]
    public void EmptyVariable_TakesTheDefault()
    {
        var path = Write("""{ "listen": "${RELAY_LISTEN:-http://127.0.0.1:9999}", "database": "${RELAY_DB:-fallback.db}" }""");

        var config = ConfigLoader.Load(path, Env(("RELAY_LISTEN", "")));

        Assert.Equal(["http://127.0.0.1:9999"], config.Listen);
        Assert.Equal("fallback.db", config.Database);
    }

    [Fact]
    public void VariablesInArrays_AreSubstituted()
    {
        var path = Write("""{ "listen": ["http://127.0.0.1:${PORT}", "${SECOND:-http://127.0.0.1:2}"] }""");

        var config = ConfigLoader.Load(path, Env(("PORT", "4321")));

        Assert.Equal(["http://127.0.0.1:4321", "http://127.0.0.1:2"], config.Listen);
    }

    [Fact]
    public void UnsetVariableWithoutDefault_FailsNamingFileKeyAndVariable()
    {
        var ex = LoadFails(WithProvider("""{ "type": "anthropic", "baseUrl": "https://api.deepseek.com/anthropic", "apiKey": "${DEEPSEEK_API_KEY}" }"""));

        Assert.Contains("providers.deepseek.apiKey", ex.Message, StringComparison.Ordinal);
        Assert.Contains("DEEPSEEK_API_KEY", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void UnsetVariableInAnArray_FailsNamingTheElement()
    {
        var ex = LoadFails("""{ "listen": ["http://127.0.0.1:1", "http://127.0.0.1:${PORT}"] }""");

        Assert.Contains("listen[1]", ex.Message, StringComparison.Ordinal);
        Assert.Contains("PORT", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void UnknownKey_FailsNamingIt()
    {
        var ex = LoadFails(WithProvider("""{ "type": "anthropic", "baseURL": "https://api.deepseek.com/anthropic", "apiKey": "k" }"""));

        Assert.Contains("key providers.deepseek.baseURL:", ex.Message, StringComparison.Ordinal);
        Assert.Contains("unknown", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void UnknownTopLevelKey_FailsNamingIt()
    {
        var ex = LoadFails("""{ "modles": {} }""");

        Assert.Contains("key modles:", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{ "maxRequestBodyMB": "big" }""", "key maxRequestBodyMB:")]
    [InlineData("""{ "providers": { "p": { "type": "mock", "timeoutSeconds": "ten" } } }""", "key providers.p.timeoutSeconds:")]
    [InlineData("""{ "providers": { "p": { "type": "mock" } }, "models": { "m": { "routes": "p/x" } } }""", "key models.m.routes:")]
    [InlineData("""{ "listen": 8787 }""", "key listen:")]
    [InlineData("""{ "providers": [] }""", "key providers:")]
    public void WrongType_FailsNamingTheKey(string json, string expected)
    {
        var ex = LoadFails(json);

        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{ "usageSpool": { "path": " " } }""", "key usageSpool.path:")]
    [InlineData("""{ "usageSpool": { "maxMegabytes": -1 } }""", "key usageSpool.maxMegabytes:")]
    [InlineData("""{ "usageSpool": { "maxMegabytes": 2000000 } }""", "key usageSpool.maxMegabytes:")]
    [InlineData("""{ "usageSpool": { "folder": "x" } }""", "key usageSpool.folder:")]
    public void BadUsageSpool_FailsNamingTheKey(string json, string expected)
    {
        var ex = LoadFails(json);

        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RouteToUndefinedProvider_Fails()
    {
        var ex = LoadFails("""{ "providers": { "demo": { "type": "mock" } }, "models": { "m": { "routes": ["demo/a", "nosuch/model"] } } }""");

        Assert.Contains("key models.m.routes[1]", ex.Message, StringComparison.Ordinal);
        Assert.Contains("'nosuch'", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("\"localhost:8787\"", "key listen:")]
    [InlineData("\"ftp://127.0.0.1:8787\"", "key listen:")]
    [InlineData("\"http://127.0.0.1:8787/relay\"", "key listen:")]
    [InlineData("\"https://127.0.0.1:8787\"", "key listen:")]
    [InlineData("[]", "key listen:")]
    [InlineData("[\"http://127.0.0.1:1\", \"127.0.0.1:2\"]", "key listen[1]:")]
    public void BadListenUrl_Fails(string listen, string expected)
    {
        var ex = LoadFails($$"""{ "listen": {{listen}} }""");

        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void BadFamily_Fails()
    {
        var ex = LoadFails("""{ "providers": { "demo": { "type": "mock" } }, "models": { "m": { "routes": ["demo/a"], "family": "gpt" } } }""");

        Assert.Contains("key models.m.family", ex.Message, StringComparison.Ordinal);
        Assert.Contains("'gpt'", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{ "type": "grpc" }""", "providers.deepseek.type")]
    [InlineData("""{ "type": "openai" }""", "providers.deepseek.baseUrl")]
    [InlineData("""{ "type": "openai-responses" }""", "providers.deepseek.baseUrl")]
    [InlineData("""{ "type": "openai-responses", "baseUrl": "https://api.openai.com/v1", "apiKey": "passthrough" }""", "providers.deepseek.apiKey")]
    [InlineData("""{ "type": "openai-responses", "baseUrl": "https://api.openai.com/v1", "preset": "openai" }""", "providers.deepseek.preset")]
    [InlineData("""{ "type": "anthropic", "apiKey": "k" }""", "providers.deepseek.baseUrl")]
    [InlineData("""{ "type": "anthropic", "baseUrl": "api.deepseek.com", "apiKey": "k" }""", "providers.deepseek.baseUrl")]
    [InlineData("""{ "type": "anthropic", "baseUrl": "https://api.deepseek.com" }""", "providers.deepseek.apiKey")]
    [InlineData("""{ "type": "anthropic", "baseUrl": "https://api.deepseek.com", "apiKey": "k", "authScheme": "basic" }""", "providers.deepseek.authScheme")]
    [InlineData("""{ "type": "mock", "timeoutSeconds": 0 }""", "providers.deepseek.timeoutSeconds")]
    [InlineData("""{ "type": "mock", "headers": { "bad header": "x" } }""", "providers.deepseek.headers")]
    public void BadProvider_FailsNamingTheKey(string provider, string key)
    {
        var ex = LoadFails(WithProvider(provider));

        Assert.Contains("key " + key, ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{ "basePath": "claude" }""", "key basePath")]
    [InlineData("""{ "basePath": "/claude/" }""", "key basePath")]
    [InlineData("""{ "maxRequestBodyMB": 0 }""", "key maxRequestBodyMB")]
    [InlineData("""{ "providers": { "demo": { "type": "mock" } }, "models": { "m": { "routes": [] } } }""", "key models.m.routes")]
    [InlineData("""{ "providers": { "demo": { "type": "mock" } }, "models": { "m": { "routes": ["demo"] } } }""", "key models.m.routes[0]")]
    public void OtherBadValues_FailNamingTheKey(string json, string key)
    {
        var ex = LoadFails(json);

        Assert.Contains(key, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RelativeDatabase_ResolvesNextToTheConfigFile()
    {
        var path = Write("""{ "database": "data/relay.db" }""", Path.Combine("nested", "relay.json"));

        var config = ConfigLoader.Load(path, NoEnv);

        Assert.Equal(Path.Combine(_directory, "nested", "data", "relay.db"), config.DatabasePath);
    }

    [Fact]
    public void AbsoluteDatabase_IsKept()
    {
        var absolute = Path.Combine(_directory, "elsewhere", "usage.db");
        var path = Write($$"""{ "database": "{{absolute.Replace("\\", "\\\\", StringComparison.Ordinal)}}" }""", Path.Combine("nested", "relay.json"));

        Assert.Equal(absolute, ConfigLoader.Load(path, NoEnv).DatabasePath);
    }

    [Fact]
    public void Defaults_AreFilledIn()
    {
        var config = ConfigLoader.Load(Write("{}"), NoEnv);

        Assert.Equal([RelayDefaults.ListenUrl], config.Listen);
        Assert.Equal("", config.BasePath);
        Assert.Equal(32, config.MaxRequestBodyMB);
        Assert.Equal(Path.Combine(_directory, RelayDefaults.DatabaseFile), config.DatabasePath);
    }

    [Fact]
    public void Listen_AsString()
    {
        var config = ConfigLoader.Load(Write("""{ "listen": "http://127.0.0.1:8080" }"""), NoEnv);

        Assert.Equal(["http://127.0.0.1:8080"], config.Listen);
    }

    [Fact]
    public void Listen_AsArray()
    {
        var config = ConfigLoader.Load(Write("""{ "listen": ["http://127.0.0.1:8080", "http://0.0.0.0:8081"] }"""), NoEnv);

        Assert.Equal(["http://127.0.0.1:8080", "http://0.0.0.0:8081"], config.Listen);
    }

    [Fact]
    public void InvalidJson_FailsWithTheLine()
    {
        var ex = LoadFails("{\n  \"listen\": \"http://127.0.0.1:1\"\n  \"basePath\": \"\"\n}");

        Assert.Contains("not valid JSON", ex.Message, StringComparison.Ordinal);
        Assert.Contains("line 3", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MissingFile_FailsNamingIt()
    {
        var path = Path.Combine(_directory, "absent.json");

        var ex = Assert.Throws<ConfigException>(() => ConfigLoader.Load(path, NoEnv));

        Assert.Contains(path, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NonObjectRoot_Fails()
    {
        var ex = LoadFails("[1, 2]");

        Assert.Contains("one JSON object", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ShortAdminKey_InTheFileOrTheEnvironment_IsRefusedByTheSameRule()
    {
        var inFile = LoadFails("""{ "adminKey": "shortkey" }""");
        var inEnvironment = LoadFails("{}", Env(("RELAY_ADMIN_KEY", "shortkey")));

        const string rule = "must be at least 16 characters; it guards the admin endpoints.";
        Assert.EndsWith("key adminKey: " + rule, inFile.Message, StringComparison.Ordinal);
        Assert.EndsWith(rule, inEnvironment.Message, StringComparison.Ordinal);
        Assert.Contains("RELAY_ADMIN_KEY", inEnvironment.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("shortkey", inEnvironment.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AdminKey_FromTheEnvironment_IsUsedOnlyWhenTheFileSetsNone()
    {
        var fromFile = ConfigLoader.Load(Write("""{ "adminKey": "file-admin-key-0123456789" }"""), Env(("RELAY_ADMIN_KEY", "shortkey")));
        var fromEnvironment = ConfigLoader.Load(Write("{}"), Env(("RELAY_ADMIN_KEY", "env-admin-key-0123456789")));

        Assert.Equal("file-admin-key-0123456789", AdminKey.Resolve(fromFile, Env(("RELAY_ADMIN_KEY", "shortkey"))));
        Assert.Equal("env-admin-key-0123456789", AdminKey.Resolve(fromEnvironment, Env(("RELAY_ADMIN_KEY", "env-admin-key-0123456789"))));
    }

    [Theory]
    [InlineData("""{ "unauthenticatedLimit": { "perSecond": 0 } }""", "unauthenticatedLimit.perSecond")]
    [InlineData("""{ "unauthenticatedLimit": { "burst": 0 } }""", "unauthenticatedLimit.burst")]
    public void UnauthenticatedLimit_OutOfRange_IsAConfigError(string json, string key)
    {
        Assert.Contains("key " + key + ":", LoadFails(json).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("proxy.example.com")]
    [InlineData("10.0.0.0/33")]
    [InlineData("")]
    public void TrustedProxies_ThatAreNotAddressesOrRanges_AreAConfigError(string entry)
    {
        var message = LoadFails($$"""{ "trustedProxies": ["127.0.0.1", "{{entry}}"] }""").Message;

        Assert.Contains("key trustedProxies:", message, StringComparison.Ordinal);
        Assert.Contains($"'{entry}'", message, StringComparison.Ordinal);
    }

    [Fact]
    public void TrustedProxies_AddressesAndRanges_Load()
    {
        var config = ConfigLoader.Load(Write("""{ "trustedProxies": ["127.0.0.1", "10.0.0.0/8", "::1", "2001:db8::/32"] }"""), Env());

        Assert.Equal(["127.0.0.1", "10.0.0.0/8", "::1", "2001:db8::/32"], config.TrustedProxies);
    }
}
