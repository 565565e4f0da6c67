using System.Net.Http.Headers;
using Relay.Configuration;

namespace Relay.Upstreams;

/// <summary>How Relay authenticates to one provider: its key in the header <c>authScheme</c> names, then the
/// configured extra <c>headers</c>. Requests, health probes and model lists all use this one path, so a probe is
/// authenticated exactly like the requests it vouches for.</summary>
internal sealed class ProviderCredentials
{
    /// <summary>Configured header values shorter than this are names or flags, not secrets.</summary>
    private const int MinSecretLength = 12;
    private const string Redacted = "[redacted]";

    private readonly string? _apiKey;
    private readonly bool _bearer;
    private readonly KeyValuePair<string, string>[] _headers;
    private readonly string[] _secrets;
    private readonly byte[][] _secretBytes;

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
        _secrets = new[] { _apiKey }.Concat(_headers.Select(h => h.Value))
            .OfType<string>().Where(v => v.Length >= MinSecretLength).Distinct(StringComparer.Ordinal).ToArray();
        _secretBytes = _secrets.Select(System.Text.Encoding.UTF8.GetBytes).ToArray();
    }

    /// <summary>The text with every credential Relay sends this provider replaced: a provider that echoes the key it
    /// got ("Incorrect API key provided: sk-…") must not pass it on to a client or into a log.</summary>
    public string Redact(string text)
    {
        foreach (var secret in _secrets)
        {
            text = text.Replace(secret, Redacted, StringComparison.Ordinal);
        }

        return text;
    }

    /// <inheritdoc cref="Redact(string)"/>
    public byte[] Redact(byte[] body)
    {
        foreach (var secret in _secretBytes)
        {
            if (body.AsSpan().IndexOf(secret) >= 0)
            {
                // Rare (an error body that quotes the key): the simple way is fine.
                body = System.Text.Encoding.UTF8.GetBytes(Redact(System.Text.Encoding.UTF8.GetString(body)));
                break;
            }
        }

        return body;
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
