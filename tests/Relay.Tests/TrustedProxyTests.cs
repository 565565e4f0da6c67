using System.Net;
using Relay.Configuration;
using Relay.Storage.Accounts;
using Relay.Tests.Infrastructure;

namespace Relay.Tests;

/// <summary>
/// Behind a reverse proxy listed in <c>trustedProxies</c>, a key's address list sees the client named in
/// <c>X-Forwarded-For</c>; from anywhere else the header is ignored, so a client cannot claim an address by sending it.
/// Every request here comes from 127.0.0.1, which plays the proxy.
/// </summary>
public sealed class TrustedProxyTests : RelayWithUpstream
{
    private protected override void Configure(RelayConfig config) => config.TrustedProxies = ["127.0.0.1", "10.0.0.0/8"];

    [Fact]
    public async Task ThroughATrustedProxy_TheForwardedClientAddressIsChecked()
    {
        var key = await LimitedKeys.CreateAsync(Server, new KeyLimits { AllowedIps = ["203.0.113.0/24"] });

        using var allowed = await SendAsync(key, "203.0.113.7");
        using var refused = await SendAsync(key, "198.51.100.1");
        // The proxy chain 203.0.113.7 → 10.1.2.3 (a trusted inner proxy) → 127.0.0.1: the client is the first untrusted hop.
        using var chained = await SendAsync(key, "203.0.113.9, 10.1.2.3");
        // A client that forges the header before an untrusted hop is that hop, not what it claimed.
        using var forged = await SendAsync(key, "203.0.113.7, 198.51.100.1");

        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        Assert.Equal(HttpStatusCode.OK, chained.StatusCode);
        var message = await LimitedKeys.AssertErrorAsync(refused, "messages", HttpStatusCode.Forbidden, "permission_error", retryable: false);
        Assert.Contains("198.51.100.1", message, StringComparison.Ordinal);
        var forgedMessage = await LimitedKeys.AssertErrorAsync(forged, "messages", HttpStatusCode.Forbidden, "permission_error", retryable: false);
        Assert.Contains("198.51.100.1", forgedMessage, StringComparison.Ordinal);
        Assert.Equal(2, Upstream.Requests.Count);
    }

    private async Task<HttpResponseMessage> SendAsync(string key, string forwardedFor)
    {
        using var client = Server.CreateClient(key);
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/messages") { Content = JsonBody.Of(JsonBody.Message("claude-sonnet-4-6")) };
        request.Headers.Add("X-Forwarded-For", forwardedFor);
        return await client.SendAsync(request, Ct);
    }
}

/// <summary>Without <c>trustedProxies</c>, <c>X-Forwarded-For</c> changes nothing: the TCP peer is the client.</summary>
public sealed class UntrustedForwardedForTests : RelayWithUpstream
{
    [Fact]
    public async Task WithoutTrustedProxies_XForwardedForIsIgnored()
    {
        var key = await LimitedKeys.CreateAsync(Server, new KeyLimits { AllowedIps = ["203.0.113.0/24"] });
        using var client = Server.CreateClient(key);
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/messages") { Content = JsonBody.Of(JsonBody.Message("claude-sonnet-4-6")) };
        request.Headers.Add("X-Forwarded-For", "203.0.113.7");

        using var response = await client.SendAsync(request, Ct);

        var message = await LimitedKeys.AssertErrorAsync(response, "messages", HttpStatusCode.Forbidden, "permission_error", retryable: false);
        Assert.Contains("127.0.0.1", message, StringComparison.Ordinal);
        Assert.Empty(Upstream.Requests);
    }
}
