namespace Relay.Protocol.Translation;

/// <summary>The signature Relay puts on thinking blocks it made from a provider's reasoning text.</summary>
/// <remarks>
/// Clients require a <c>signature</c> on every thinking block and send the block back in later turns. The value is
/// recognisable so that such blocks are never forwarded to a real Anthropic upstream, which would reject them as
/// forged ("Invalid signature in thinking block", CLIProxyAPI#1584).
/// </remarks>
public static class ThinkingSignature
{
    public const string Value = "relay-translated-thinking-v1";

    public static bool IsRelayMinted(string? signature) =>
        signature is not null && signature.StartsWith("relay-translated-thinking", StringComparison.Ordinal);
}
