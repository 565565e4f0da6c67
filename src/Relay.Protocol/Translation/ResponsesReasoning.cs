namespace Relay.Protocol.Translation;

/// <summary>Carries reasoning state across the Responses API and Anthropic's thinking blocks, without state in Relay.</summary>
/// <remarks>
/// <para>A Responses client gets Anthropic's thinking block as a <c>reasoning</c> item whose <c>encrypted_content</c>
/// holds the block's signature behind <see cref="EncryptedPrefix"/>; Codex sends reasoning items back with
/// <c>store: false</c>, and the prefix tells Relay's own items (turned back into the thinking block, which Anthropic
/// requires before a tool call when thinking is on) from OpenAI's (dropped: no other provider can read them).</para>
/// <para>The other way, an OpenAI reasoning item's <c>encrypted_content</c> travels as the thinking block's signature
/// behind <see cref="SignaturePrefix"/>, so the reasoning goes back to OpenAI in the next turn. It starts with
/// <c>relay-</c>, so <c>RelayThinkingFilter</c> keeps such blocks away from Anthropic upstreams.</para>
/// </remarks>
public static class ResponsesReasoning
{
    public const string SignaturePrefix = "relay-responses-reasoning-v1:";

    public const string EncryptedPrefix = "relay-thinking-v1:";

    /// <summary>The thinking signature that carries an OpenAI reasoning item's encrypted content.</summary>
    public static string SignatureFor(string encryptedContent) => SignaturePrefix + encryptedContent;

    /// <summary>The encrypted content a thinking signature carries, if Relay made it from a reasoning item.</summary>
    public static bool TryGetEncryptedContent(string? signature, out string encryptedContent)
    {
        if (signature is not null && signature.StartsWith(SignaturePrefix, StringComparison.Ordinal) && signature.Length > SignaturePrefix.Length)
        {
            encryptedContent = signature[SignaturePrefix.Length..];
            return true;
        }

        encryptedContent = "";
        return false;
    }

    /// <summary>The <c>encrypted_content</c> a Responses client gets for a thinking block's signature.</summary>
    public static string EncryptedContentFor(string signature) => EncryptedPrefix + signature;

    /// <summary>The thinking signature a reasoning item carries, if Relay gave the item to the client.</summary>
    public static bool TryGetSignature(string? encryptedContent, out string signature)
    {
        if (encryptedContent is not null && encryptedContent.StartsWith(EncryptedPrefix, StringComparison.Ordinal) && encryptedContent.Length > EncryptedPrefix.Length)
        {
            signature = encryptedContent[EncryptedPrefix.Length..];
            return true;
        }

        signature = "";
        return false;
    }
}
