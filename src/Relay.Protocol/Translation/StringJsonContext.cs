using System.Text.Json.Serialization;

namespace Relay.Protocol.Translation;

/// <summary>Source-generated (de)serialization of plain strings, for decoding doubly-encoded tool arguments.</summary>
[JsonSerializable(typeof(string))]
internal sealed partial class StringJsonContext : JsonSerializerContext;
