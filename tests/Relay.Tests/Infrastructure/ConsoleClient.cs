using System.Net;
using System.Text.Json;

namespace Relay.Tests.Infrastructure;

/// <summary>The web console's API as its page calls it: a cookie jar for the session and the CSRF token from sign-in.</summary>
public sealed class ConsoleClient : IDisposable
{
    private readonly HttpClient _http;

    public ConsoleClient(RelayTestServer server)
    {
        Cookies = new CookieContainer();
        _http = new HttpClient(new HttpClientHandler { CookieContainer = Cookies, UseCookies = true }) { BaseAddress = new Uri(server.BaseUrl + "/console/") };
    }

    public CookieContainer Cookies { get; }

    public string? CsrfToken { get; set; }

    /// <summary>Signs in; the answer as it came (the token is kept when it succeeded).</summary>
    public async Task<AdminAnswer> SignInAsync(string adminKey)
    {
        var answer = await SendAsync(HttpMethod.Post, "api/session", JsonSerializer.Serialize(new Dictionary<string, string> { ["adminKey"] = adminKey }), csrf: false);
        if (answer.Status == HttpStatusCode.OK)
        {
            CsrfToken = answer["csrfToken"].GetString();
        }

        return answer;
    }

    public async Task<AdminAnswer> SendAsync(HttpMethod method, string path, string? json = null, bool csrf = true)
    {
        using var request = new HttpRequestMessage(method, path);
        if (json is not null)
        {
            request.Content = JsonBody.Of(json);
        }

        if (csrf && CsrfToken is not null)
        {
            request.Headers.Add("X-Relay-Csrf", CsrfToken);
        }

        return await AdminClient.SendAsync(_http, request);
    }

    public void Dispose() => _http.Dispose();
}
