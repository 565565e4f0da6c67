using System.Text.Json;
using System.Text.Json.Serialization;

namespace Relay.Configuration;

/// <summary>Reads relay.json strictly: an unknown key is an error, so a typo never silently does nothing.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    ReadCommentHandling = JsonCommentHandling.Skip,
    AllowTrailingCommas = true,
    WriteIndented = true)]
[JsonSerializable(typeof(RelayConfig))]
internal sealed partial class ConfigJsonContext : JsonSerializerContext;
