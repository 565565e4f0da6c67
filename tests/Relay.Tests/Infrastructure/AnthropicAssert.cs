using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Relay.Tests.Infrastructure;

/// <summary>An Anthropic error response as read off the wire.</summary>
public sealed record ErrorResponse(string Body, string Type, string Message);

/// <summary>Assertions for what Relay promises on every response: its own request-id and Anthropic's error shape.</summary>
public static partial class AnthropicAssert
{
    [GeneratedRegex("^req_[0-9A-Za-z]{24}$")]
    private static partial Regex RelayRequestId();

    /// <summary>Asserts the response carries exactly one Relay request-id (<c>req_</c> and 24 base62 characters).</summary>
    public static string HasRelayRequestId(HttpResponseMessage response)
    {
        Assert.True(response.Headers.TryGetValues("request-id", out var values), "request-id header is missing");
        var id = Assert.Single(values);
        Assert.Matches(RelayRequestId(), id);
        return id;
    }

    /// <summary>
    /// Asserts an Anthropic-shaped error: the status, <c>{"type":"error","error":{"type":…,"message":…}}</c> and nothing
    /// else, a request-id, and <c>x-should-retry: false</c> exactly when the error is not retryable.
    /// </summary>
    public static async Task<ErrorResponse> IsErrorAsync(HttpResponseMessage response, HttpStatusCode status, string type, bool retryable = false)
    {
        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(status == response.StatusCode, $"expected {(int)status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        HasRelayRequestId(response);
        if (retryable)
        {
            Assert.False(response.Headers.Contains("x-should-retry"), "a retryable error must not say x-should-retry: false");
        }
        else
        {
            Assert.True(response.Headers.TryGetValues("x-should-retry", out var retry), "x-should-retry header is missing");
            Assert.Equal("false", Assert.Single(retry));
        }

        using var document = JsonDocument.Parse(body);
        var root = document.RootElement;
        Assert.Equal(JsonValueKind.Object, root.ValueKind);
        Assert.Equal(["type", "error"], root.EnumerateObject().Select(p => p.Name));
        Assert.Equal("error", root.GetProperty("type").GetString());
        var error = root.GetProperty("error");
        Assert.Equal(["type", "message"], error.EnumerateObject().Select(p => p.Name));
        Assert.Equal(type, error.GetProperty("type").GetString());
        var message = error.GetProperty("message").GetString();
        Assert.False(string.IsNullOrWhiteSpace(message), "error.message is empty");
        return new ErrorResponse(body, type, message!);
    }
}
