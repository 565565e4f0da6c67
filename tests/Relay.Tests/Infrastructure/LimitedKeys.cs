using System.Net;
using System.Text.Json.Nodes;
using Relay.Auth;
using Relay.Storage;
using Relay.Storage.Accounts;

namespace Relay.Tests.Infrastructure;

/// <summary>Keys with limits on a test server, requests through each front door, and the door's error shape.</summary>
public static class LimitedKeys
{
    /// <summary>The front doors: Anthropic Messages, OpenAI Chat Completions, OpenAI Responses.</summary>
    public static TheoryData<string> Doors => new() { "messages", "chat", "responses" };

    private static int _next;

    /// <summary>Creates a key with these limits (and user) in the server's store; returns the secret.</summary>
    public static async Task<string> CreateAsync(RelayTestServer server, KeyLimits limits, string? user = null)
    {
        var secret = ApiKeys.Generate();
        var name = "limited-" + Interlocked.Increment(ref _next);
        await server.Store.CreateKeyAsync(new NewApiKey(name, ApiKeys.Hash(secret), ApiKeys.DisplayPrefix(secret)) { Limits = limits, UserName = user },
            TestContext.Current.CancellationToken);
        return secret;
    }

    /// <summary>A one-message request for <paramref name="model"/> through <paramref name="door"/>.</summary>
    public static async Task<HttpResponseMessage> SendAsync(RelayTestServer server, string door, string key, string model, int maxTokens = 256,
        CancellationToken? cancellationToken = null)
    {
        using var client = server.CreateClient(key, bearer: door != "messages");
        var (path, body) = door switch
        {
            "messages" => ("v1/messages", JsonBody.Message(model, maxTokens: maxTokens)),
            "chat" => ("v1/chat/completions", $$"""{"model":"{{model}}","max_tokens":{{maxTokens}},"messages":[{"role":"user","content":"Hello"}]}"""),
            _ => ("v1/responses", $$"""{"model":"{{model}}","max_output_tokens":{{maxTokens}},"input":"Hello"}"""),
        };
        return await client.PostAsync(path, JsonBody.Of(body), cancellationToken ?? TestContext.Current.CancellationToken);
    }

    /// <summary>Asserts an error in the door's own shape (Anthropic's, or OpenAI's with the Anthropic type as
    /// <c>code</c>) with Relay's request-id and <c>x-should-retry: false</c> exactly when not retryable; returns the message.</summary>
    public static async Task<string> AssertErrorAsync(HttpResponseMessage response, string door, HttpStatusCode status, string type, bool retryable)
    {
        if (door == "messages")
        {
            return (await AnthropicAssert.IsErrorAsync(response, status, type, retryable)).Message;
        }

        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(status == response.StatusCode, $"expected {(int)status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        AnthropicAssert.HasRelayRequestId(response);
        Assert.Equal(retryable ? null : "false", response.Headers.TryGetValues("x-should-retry", out var retry) ? Assert.Single(retry) : null);
        var error = JsonNode.Parse(body)!["error"]!;
        Assert.Equal(type, (string?)error["code"]);
        Assert.Equal(OpenAIType(type), (string?)error["type"]);
        var message = (string?)error["message"];
        Assert.False(string.IsNullOrWhiteSpace(message));
        return message!;
    }

    public static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? Assert.Single(values) : null;

    private static string OpenAIType(string anthropicType) => anthropicType switch
    {
        "billing_error" => "insufficient_quota",
        "api_error" => "server_error",
        _ => anthropicType,
    };
}
