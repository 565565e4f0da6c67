using System.Text.Json.Nodes;
using Relay.Configuration;

namespace Relay.Endpoints.Admin;

/// <summary>
/// <c>GET /admin/api/openapi.json</c>: the OpenAPI 3.1 document of the admin API and of <c>GET /v1/key</c>.
/// </summary>
/// <remarks>The document is written by hand (<c>openapi.json</c> beside this file, embedded in the assembly): Relay
/// maps its endpoints as plain request delegates without reflection binding, which ASP.NET Core's document generator
/// leaves out entirely. A test compares it with the routes actually mapped, so neither can change without the other.
/// Served with <c>servers</c> set to the configured base path.</remarks>
internal sealed class AdminOpenApi(RelayConfig config)
{
    public const string ResourceName = "Relay.AdminOpenApi.json";

    private readonly Lazy<byte[]> _document = new(() => Load(config.BasePath));

    public async Task ServeAsync(HttpContext context)
    {
        context.Response.ContentType = "application/json";
        await context.Response.Body.WriteAsync(_document.Value, context.RequestAborted);
    }

    /// <summary>The document as shipped, with <c>servers</c> pointing at <paramref name="basePath"/>.</summary>
    public static byte[] Load(string basePath)
    {
        using var stream = typeof(AdminOpenApi).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"The embedded resource {ResourceName} is missing from the build.");
        var document = JsonNode.Parse(stream)!.AsObject();
        document["servers"] = new JsonArray(new JsonObject { ["url"] = basePath.Length == 0 ? "/" : basePath });
        return System.Text.Encoding.UTF8.GetBytes(document.ToJsonString());
    }
}
