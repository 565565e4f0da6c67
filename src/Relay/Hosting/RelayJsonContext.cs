using System.Text.Json.Serialization;
using Relay.Endpoints;
using Relay.Storage;

namespace Relay.Hosting;

/// <summary>Source-generated JSON for Relay's own (non-Anthropic) endpoints, and the lines of the usage spool.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = false)]
[JsonSerializable(typeof(RouteStatusList))]
[JsonSerializable(typeof(KeyStatus))]
[JsonSerializable(typeof(UsageRecord))]
internal sealed partial class RelayJsonContext : JsonSerializerContext;
