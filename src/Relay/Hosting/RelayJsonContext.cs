using System.Text.Json.Serialization;
using Relay.Endpoints;

namespace Relay.Hosting;

/// <summary>Source-generated JSON for Relay's own (non-Anthropic) endpoints.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = false)]
[JsonSerializable(typeof(RouteStatusList))]
[JsonSerializable(typeof(KeyStatus))]
internal sealed partial class RelayJsonContext : JsonSerializerContext;
