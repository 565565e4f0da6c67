namespace Relay.Protocol.Anthropic;

/// <summary>The top-level <c>type</c> of an Anthropic response body or stream event, as far as Relay cares.</summary>
public enum AnthropicObjectKind
{
    Unknown,
    Message,
    MessageStart,
    MessageDelta,
    MessageStop,
    Error,
    Other,
}
