using System.Text.Json.Serialization;

namespace Relay.Protocol.Anthropic;

/// <summary>The body of every Anthropic error response: <c>{"type":"error","error":{"type":…,"message":…}}</c>.</summary>
public sealed class ErrorEnvelope
{
    public ErrorEnvelope(string type, string message)
    {
        Error = new ErrorDetail { Type = type, Message = message };
    }

    [JsonPropertyOrder(0)]
    public string Type => "error";

    [JsonPropertyOrder(1)]
    public ErrorDetail Error { get; }
}

public sealed class ErrorDetail
{
    public required string Type { get; init; }

    public required string Message { get; init; }
}
