using System.Net;
using System.Text.Json;

namespace Relay.Tests.Infrastructure;

/// <summary>One admin API answer: status, body text and (for JSON) the parsed body.</summary>
public sealed record AdminAnswer(HttpStatusCode Status, string Body, JsonElement Json, HttpResponseMessage Response)
{
    public JsonElement this[string property] => Json.GetProperty(property);
}

/// <summary>Relay's admin API as a client calls it: every call sends the admin key (or what the test gives).</summary>
public sealed class AdminClient(HttpClient http) : IDisposable
{
    public const string AdminKey = "admin-key-for-tests-0123456789";

    public Task<AdminAnswer> Get(string path) => Send(HttpMethod.Get, path);

    public Task<AdminAnswer> Post(string path, string? json = null) => Send(HttpMethod.Post, path, json);

    public Task<AdminAnswer> Put(string path, string json) => Send(HttpMethod.Put, path, json);

    public Task<AdminAnswer> Patch(string path, string json) => Send(HttpMethod.Patch, path, json);

    public Task<AdminAnswer> Delete(string path) => Send(HttpMethod.Delete, path);

    public async Task<AdminAnswer> Send(HttpMethod method, string path, string? json = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (json is not null)
        {
            request.Content = JsonBody.Of(json);
        }

        return await SendAsync(http, request);
    }

    /// <summary>Sends <paramref name="request"/> and reads the answer as an <see cref="AdminAnswer"/>.</summary>
    public static async Task<AdminAnswer> SendAsync(HttpClient http, HttpRequestMessage request)
    {
        var response = await http.SendAsync(request, TestContext.Current.CancellationToken);
        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        var parsed = default(JsonElement);
        if (response.Content.Headers.ContentType?.MediaType == "application/json" && body.Length > 0)
        {
            using var document = JsonDocument.Parse(body);
            parsed = document.RootElement.Clone();
        }

        return new AdminAnswer(response.StatusCode, body, parsed, response);
    }

    public void Dispose() => http.Dispose();
}
