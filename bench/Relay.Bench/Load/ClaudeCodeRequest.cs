using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Relay.Bench.Load;

/// <summary>
/// A request shaped like Claude Code's <c>POST /v1/messages?beta=true</c>: its headers, a model, billing and system
/// blocks with cache_control, one user turn and two tools; about 3 KB, built once and sent unchanged every time.
/// </summary>
internal sealed class ClaudeCodeRequest
{
    public const string Model = "claude-sonnet-4-6";

    private const string BodyResource = "Relay.Bench.Load.claude-code-request.json";

    private static readonly MediaTypeHeaderValue JsonType = new("application/json");
    private static readonly JsonSerializerOptions WireFormat = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly Uri _uri;
    private readonly KeyValuePair<string, string>[] _headers;

    public ClaudeCodeRequest(Uri baseUrl, string key, bool stream)
    {
        var root = baseUrl.ToString().TrimEnd('/');
        _uri = new Uri(root + "/v1/messages?beta=true");
        Body = BuildBody(stream);
        _headers =
        [
            new("accept", "application/json"),
            new("x-api-key", key),
            new("user-agent", "claude-cli/2.1.330 (external, sdk-cli)"),
            new("x-app", "cli"),
            new("x-claude-code-session-id", "5f0c8a52-93f1-4d0e-b7a4-2f6f1c0b9e11"),
            new("x-stainless-arch", "x64"),
            new("x-stainless-lang", "js"),
            new("x-stainless-os", "Linux"),
            new("x-stainless-package-version", "0.128.0"),
            new("x-stainless-retry-count", "0"),
            new("x-stainless-runtime", "node"),
            new("x-stainless-runtime-version", "v26.12.1"),
            new("x-stainless-timeout", "600"),
            new("anthropic-beta", "claude-code-20250219,interleaved-thinking-2025-05-14,context-management-2025-06-27,effort-2025-11-24"),
            new("anthropic-dangerous-direct-browser-access", "true"),
            new("anthropic-version", "2023-06-01"),
        ];
    }

    public byte[] Body { get; }

    public Uri Uri => _uri;

    public HttpRequestMessage CreateMessage()
    {
        var content = new ByteArrayContent(Body);
        content.Headers.ContentType = JsonType;
        var message = new HttpRequestMessage(HttpMethod.Post, _uri)
        {
            Version = HttpVersion.Version11,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = content,
        };
        foreach (var (name, value) in _headers)
        {
            message.Headers.TryAddWithoutValidation(name, value);
        }

        return message;
    }

    /// <summary>Loads <c>claude-code-request.json</c> (kept readable in the repo) and sends it compact, with
    /// <c>stream</c> set as asked.</summary>
    private static byte[] BuildBody(bool stream)
    {
        using var resource = typeof(ClaudeCodeRequest).Assembly.GetManifestResourceStream(BodyResource)
            ?? throw new InvalidOperationException($"The embedded resource {BodyResource} is missing.");
        var body = JsonNode.Parse(resource)!.AsObject();
        body["model"] = Model;
        body["stream"] = stream;
        // Written as JavaScript's JSON.stringify would (Claude Code's own serialiser): no \u escapes for ' < > &.
        return Encoding.UTF8.GetBytes(body.ToJsonString(WireFormat));
    }
}
