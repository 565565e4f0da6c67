using System.Text.Json.Serialization;

namespace Relay.Diagnostics;

/// <summary>The minimal Messages request <c>relay doctor</c> sends.</summary>
internal sealed record DoctorMessage(string Model, int MaxTokens, bool Stream, IReadOnlyList<DoctorTurn> Messages);

internal sealed record DoctorTurn(string Role, string Content);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(DoctorMessage))]
internal sealed partial class DoctorWireContext : JsonSerializerContext;
