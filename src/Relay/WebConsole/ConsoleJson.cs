using System.Text.Json.Serialization;

namespace Relay.WebConsole;

/// <summary>A signed-in session as the console's script sees it: the token its changes must send, and whose session it
/// is (<see cref="Operator"/> or <see cref="KeyHolder"/>).</summary>
internal sealed class ConsoleSessionView
{
    public const string Operator = "operator";
    public const string KeyHolder = "keyHolder";

    public required string Kind { get; init; }

    public required string CsrfToken { get; init; }

    public required DateTimeOffset ExpiresAt { get; init; }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(ConsoleSessionView))]
internal sealed partial class ConsoleJsonContext : JsonSerializerContext;
