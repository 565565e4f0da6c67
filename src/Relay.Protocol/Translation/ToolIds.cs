using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace Relay.Protocol.Translation;

/// <summary>Maps tool-call ids between providers and Anthropic, reversibly and without state.</summary>
/// <remarks>
/// Anthropic ids must match <c>^[a-zA-Z0-9_-]+$</c>; Kimi's <c>functions.Bash:0</c> does not, and Kimi degrades unless it
/// gets its own ids back exactly (llxprt-code#712). An id that already fits is used as is; any other is carried as
/// <c>toolu_relay_</c> + base64url of its UTF-8, and decoded on the way back. No map to lose, no session to track.
/// Gemini's thought signature for a call travels the same way (id, a record separator, the signature), because Gemini 3
/// answers 400 when a later turn does not send it back with the call.
/// </remarks>
public static class ToolIds
{
    private const string EncodedPrefix = "toolu_relay_";
    private const char SignatureSeparator = '\u001e';

    /// <summary>The Anthropic id for an id the provider issued (and its thought signature, if any); a missing id gets a
    /// fresh <c>toolu_</c> id.</summary>
    public static string ToAnthropic(string? upstreamId, string? signature = null)
    {
        if (string.IsNullOrEmpty(upstreamId))
        {
            upstreamId = NewId();
        }

        if (string.IsNullOrEmpty(signature))
        {
            if (IsAnthropicSafe(upstreamId) && !upstreamId.StartsWith(EncodedPrefix, StringComparison.Ordinal))
            {
                return upstreamId;
            }

            return EncodedPrefix + Base64Url.EncodeToString(Encoding.UTF8.GetBytes(upstreamId));
        }

        return EncodedPrefix + Base64Url.EncodeToString(Encoding.UTF8.GetBytes(upstreamId + SignatureSeparator + signature));
    }

    /// <summary>The Anthropic id for a call id a client sends back (a Responses client echoes the <c>call_id</c>s Relay
    /// gave it): kept as it is when Anthropic accepts it, Relay's own encoded ids included, so it is never encoded
    /// twice; any other id is encoded.</summary>
    public static string FromClient(string? callId) =>
        !string.IsNullOrEmpty(callId) && IsAnthropicSafe(callId) ? callId : ToAnthropic(callId);

    /// <summary>The id to send the provider for an Anthropic id: the original if Relay encoded it.</summary>
    public static string ToUpstream(string anthropicId) => ToUpstream(anthropicId, out _);

    /// <summary>The id to send the provider, and the thought signature that came with the call, if any.</summary>
    public static string ToUpstream(string anthropicId, out string? signature)
    {
        signature = null;
        if (anthropicId.StartsWith(EncodedPrefix, StringComparison.Ordinal))
        {
            var encoded = anthropicId.AsSpan(EncodedPrefix.Length);
            var bytes = new byte[Base64Url.GetMaxDecodedLength(encoded.Length)];
            if (Base64Url.TryDecodeFromChars(encoded, bytes, out var written))
            {
                var decoded = Encoding.UTF8.GetString(bytes, 0, written);
                var separator = decoded.IndexOf(SignatureSeparator, StringComparison.Ordinal);
                if (separator < 0)
                {
                    return decoded;
                }

                signature = decoded[(separator + 1)..];
                return decoded[..separator];
            }
        }

        return anthropicId;
    }

    /// <summary>The id a Chat Completions client sees for an Anthropic id: the provider's original when Relay encoded
    /// only an id, else the Anthropic id itself (a thought signature has to come back with its call).</summary>
    public static string ToChatClient(string anthropicId)
    {
        var upstream = ToUpstream(anthropicId, out var signature);
        return signature is null ? upstream : anthropicId;
    }

    /// <summary>The Anthropic id for an id a Chat Completions client sent back. Ids Relay encoded stay as they are,
    /// so they still decode to the provider's id (and signature); any other id is mapped by <see cref="ToAnthropic"/>.</summary>
    public static string FromChatClient(string clientId) =>
        clientId.StartsWith(EncodedPrefix, StringComparison.Ordinal) && IsAnthropicSafe(clientId) ? clientId : ToAnthropic(clientId);

    /// <summary>A new id in Anthropic's format, for tool calls that arrive without one.</summary>
    public static string NewId()
    {
        Span<byte> random = stackalloc byte[12];
        RandomNumberGenerator.Fill(random);
        return "toolu_" + Convert.ToHexStringLower(random);
    }

    public static bool IsAnthropicSafe(ReadOnlySpan<char> id)
    {
        if (id.IsEmpty)
        {
            return false;
        }

        foreach (var c in id)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '_' or '-'))
            {
                return false;
            }
        }

        return true;
    }
}
