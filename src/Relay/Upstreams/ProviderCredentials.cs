using System.Net.Http.Headers;
using Relay.Configuration;

namespace Relay.Upstreams;

/// <summary>How Relay authenticates to one provider: its key in the header <c>authScheme</c> names, then the
/// configured extra <c>headers</c>. Requests, health probes and model lists all use this one path, so a probe is
/// authenticated exactly like the requests it vouches for.</summary>
internal sealed class ProviderCredentials
{
    private readonly string? _apiKey;
    private readonly bool _bearer;
    private readonly KeyValuePair<string, string>[] _headers;

    /// <param name="config">The provider's settings.</param>
    /// <param name="apiKey">The key to send; null when the provider gets the client's own credential.</param>
    /// <param name="bearerByDefault">The provider kind's native scheme when <c>authScheme</c> is not set: Bearer for
    /// OpenAI-compatible servers, <c>x-api-key</c> for Anthropic-compatible ones.</param>
    public ProviderCredentials(ProviderConfig config, string? apiKey, bool bearerByDefault)
    {
        _apiKey = string.IsNullOrEmpty(apiKey) ? null : apiKey;
        _bearer = config.AuthScheme is { } scheme
            ? string.Equals(scheme, "bearer", StringComparison.OrdinalIgnoreCase)
            : bearerByDefault;
        _headers = config.Headers?.ToArray() ?? [];
    }

    /// <summary>The provider's key, then the extra headers (which replace any header of the same name).</summary>
    public void AddTo(HttpRequestMessage message)
    {
        AddKey(message);
        AddConfiguredHeaders(message);
    }

    public void AddKey(HttpRequestMessage message)
    {
        if (_apiKey is null)
        {
            return;
        }

        if (_bearer)
        {
            message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _apiKey);
        }
        else
        {
            message.Headers.TryAddWithoutValidation("x-api-key", _apiKey);
        }
    }

    public void AddConfiguredHeaders(HttpRequestMessage message)
    {
        foreach (var (name, value) in _headers)
        {
            message.Headers.Remove(name);
            message.Headers.TryAddWithoutValidation(name, value);
        }
    }
}
