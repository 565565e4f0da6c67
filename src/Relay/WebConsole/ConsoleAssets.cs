using System.Net;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using Relay.Configuration;

namespace Relay.WebConsole;

/// <summary>The console's files, embedded in the assembly (<c>WebConsole/wwwroot</c>): nothing is read from disk and
/// nothing needs Node.js. The app shell gets the base path written into its <c>&lt;base href&gt;</c>.</summary>
internal sealed class ConsoleAssets
{
    private const string ResourcePrefix = "Relay.Console/";

    private readonly Dictionary<string, Asset> _assets = new(StringComparer.Ordinal);

    public ConsoleAssets(RelayConfig config)
    {
        var assembly = typeof(ConsoleAssets).Assembly;
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.StartsWith(ResourcePrefix, StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(name)!;
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            var path = name[ResourcePrefix.Length..].Replace('\\', '/');
            var bytes = copy.ToArray();
            if (path == "index.html")
            {
                var baseHref = WebUtility.HtmlEncode(config.BasePath + "/console/");
                bytes = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(bytes).Replace("{{baseHref}}", baseHref, StringComparison.Ordinal));
            }

            _assets[path] = new Asset(bytes, ContentType(path), "\"" + Convert.ToHexString(SHA256.HashData(bytes))[..16] + "\"");
        }
    }

    public Asset Shell => _assets["index.html"];

    public Asset? Find(string path) => _assets.GetValueOrDefault(path);

    private static string ContentType(string path) => Path.GetExtension(path) switch
    {
        ".html" => "text/html; charset=utf-8",
        ".js" => "text/javascript; charset=utf-8",
        ".css" => "text/css; charset=utf-8",
        ".svg" => "image/svg+xml",
        ".json" => "application/json",
        _ => "application/octet-stream",
    };

    internal sealed record Asset(byte[] Bytes, string ContentType, string ETag);
}
