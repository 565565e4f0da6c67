using System.Net;
using Microsoft.Extensions.Logging;
using Relay.Configuration;
using Relay.Tests.Infrastructure;

namespace Relay.Tests;

/// <summary>A provider that echoes the key it received ("Incorrect API key provided: sk-…") must not get that key to
/// a client or into Relay's log.</summary>
public sealed class SecretRedactionTests : IAsyncLifetime
{
    private const string AnthropicKey = "sk-ant-api03-provider-secret-0123456789";
    private const string OpenAIKey = "sk-proj-station-secret-9876543210";
    private const string HeaderSecret = "portkey-secret-value-55555";

    private readonly CountingLoggerProvider _logs = new(LogLevel.Warning);
    private FakeUpstream _upstream = null!;
    private RelayTestServer _relay = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _upstream = await FakeUpstream.StartAsync();
        var config = RelayTestServer.DefaultConfig(null);
        config.Providers["anth"] = new ProviderConfig { Type = "anthropic", BaseUrl = _upstream.BaseUrl, ApiKey = AnthropicKey };
        config.Models["anth-model"] = new ModelConfig { Routes = ["anth/m"], MaxAttempts = 1 };
        config.Providers["oai"] = new ProviderConfig
        {
            Type = "openai", BaseUrl = _upstream.BaseUrl + "/v1", ApiKey = OpenAIKey,
            Headers = new() { ["x-portkey-api-key"] = HeaderSecret },
        };
        config.Models["oai-model"] = new ModelConfig { Routes = ["oai/m"], MaxAttempts = 1 };
        _relay = await RelayTestServer.StartAsync(config, builder => builder.Logging.AddProvider(_logs));
    }

    public async ValueTask DisposeAsync()
    {
        await _relay.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    [Theory]
    [InlineData("anth-model", 401)]
    [InlineData("anth-model", 500)]
    [InlineData("oai-model", 401)]
    [InlineData("oai-model", 400)]
    public async Task EchoedProviderCredentials_AreRedactedFromTheAnswerAndTheLog(string model, int status)
    {
        _upstream.Handler = (ctx, request) =>
        {
            var key = request.Header("x-api-key") ?? request.Header("authorization")?["Bearer ".Length..];
            var message = $"Incorrect API key provided: {key}. Header was {request.Header("x-portkey-api-key")}.";
            return model.StartsWith("anth", StringComparison.Ordinal)
                ? Responses.Json(ctx, status, Responses.ErrorJson(status == 401 ? "authentication_error" : "api_error", message))
                : Responses.Json(ctx, status, $$$"""{"error":{"message":"{{{message}}}","type":"invalid_request_error","code":"invalid_api_key"}}""");
        };

        using var response = await _relay.Client.PostAsync("v1/messages", JsonBody.Of(JsonBody.Message(model)), Ct);
        var body = await response.Content.ReadAsStringAsync(Ct);

        Assert.Equal(status, (int)response.StatusCode);
        Assert.Contains("Incorrect API key provided", body, StringComparison.Ordinal);
        Assert.Contains("[redacted]", body, StringComparison.Ordinal);
        foreach (var secret in new[] { AnthropicKey, OpenAIKey, HeaderSecret })
        {
            Assert.DoesNotContain(secret, body, StringComparison.Ordinal);
            Assert.DoesNotContain(_logs.Entries, entry => entry.Message.Contains(secret, StringComparison.Ordinal));
        }

        Assert.NotEmpty(_logs.Entries); // the failure was logged, without the secret
    }
}
