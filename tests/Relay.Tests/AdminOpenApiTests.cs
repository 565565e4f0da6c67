using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Routing;
using Relay.Configuration;
using Relay.Tests.Infrastructure;

namespace Relay.Tests;

/// <summary>The OpenAPI document Relay serves describes exactly the admin routes it maps (and <c>GET /v1/key</c>), so
/// neither can change without the other.</summary>
public sealed partial class AdminOpenApiTests : RelayWithUpstream
{
    private protected override void Configure(RelayConfig config)
    {
        config.AdminKey = AdminClient.AdminKey;
        config.BasePath = "/gw";
    }

    [Fact]
    public async Task Document_DescribesEveryMappedAdminRoute_AndNoOther()
    {
        var document = await ServedDocumentAsync();
        var described = document.GetProperty("paths").EnumerateObject()
            .SelectMany(path => path.Value.EnumerateObject().Where(op => op.Name != "parameters").Select(op => $"{op.Name.ToUpperInvariant()} {path.Name}"))
            .Order(StringComparer.Ordinal)
            .ToList();

        var mapped = ((IEndpointRouteBuilder)Server.App).DataSources.SelectMany(d => d.Endpoints).OfType<RouteEndpoint>()
            .Select(e => (Pattern: e.RoutePattern.RawText!, Methods: e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? []))
            .Select(e => (Path: Regex.Replace(e.Pattern, @"\{\*\*", "{").Replace("/gw/", "/", StringComparison.Ordinal), e.Methods))
            .Where(e => e.Path.StartsWith("/admin/api/", StringComparison.Ordinal) || e.Path == "/v1/key")
            .SelectMany(e => e.Methods.Select(m => $"{m} {e.Path}"))
            .Order(StringComparer.Ordinal)
            .ToList();

        Assert.True(mapped.Count >= 18, string.Join("\n", mapped));
        Assert.Equal(mapped, described);
    }

    [Fact]
    public async Task Document_IsOpenApi31_ServedAtTheBasePath_AndEveryReferenceResolves()
    {
        var document = await ServedDocumentAsync();

        Assert.Equal("3.1.0", document.GetProperty("openapi").GetString());
        Assert.Equal("/gw", document.GetProperty("servers")[0].GetProperty("url").GetString());
        var components = document.GetProperty("components");
        var references = RefPattern().Matches(document.GetRawText()).Select(m => (Kind: m.Groups[1].Value, Name: m.Groups[2].Value)).Distinct().ToList();
        Assert.NotEmpty(references);
        Assert.All(references, r => Assert.True(components.GetProperty(r.Kind).TryGetProperty(r.Name, out _), $"#/components/{r.Kind}/{r.Name} is not defined"));
        foreach (var path in document.GetProperty("paths").EnumerateObject())
        {
            foreach (var operation in path.Value.EnumerateObject().Where(op => op.Name != "parameters"))
            {
                Assert.True(operation.Value.TryGetProperty("operationId", out _), $"{operation.Name} {path.Name} has no operationId");
                Assert.True(operation.Value.GetProperty("responses").EnumerateObject().Any(r => r.Name.StartsWith('2')), $"{operation.Name} {path.Name} has no success answer");
            }
        }
    }

    [Fact]
    public async Task Document_NeedsTheAdminKey()
    {
        using var client = Server.CreateClient(Server.Key);

        using var response = await client.GetAsync("admin/api/openapi.json", Ct);

        await AnthropicAssert.IsErrorAsync(response, HttpStatusCode.Forbidden, "permission_error");
    }

    private async Task<JsonElement> ServedDocumentAsync()
    {
        using var admin = Server.CreateClient(AdminClient.AdminKey);
        using var response = await admin.GetAsync("admin/api/openapi.json", Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct));
        return json.RootElement.Clone();
    }

    [GeneratedRegex("\"#/components/(\\w+)/(\\w+)\"")]
    private static partial Regex RefPattern();
}
