using System.Globalization;
using System.Text.Json;

namespace Relay.Protocol.Anthropic;

/// <summary>Replaces the model name (and, when a route caps it, <c>max_tokens</c>) in a request body, leaving every
/// other byte as the client sent it.</summary>
public static class ModelNameRewriter
{
    /// <summary>The model name as a JSON string token, quotes included, ready to splice.</summary>
    public static byte[] EncodeToken(string model)
    {
        var encoded = JsonEncodedText.Encode(model).EncodedUtf8Bytes;
        var token = new byte[encoded.Length + 2];
        token[0] = (byte)'"';
        encoded.CopyTo(token.AsSpan(1));
        token[^1] = (byte)'"';
        return token;
    }

    /// <summary>A number as a JSON token.</summary>
    public static byte[] EncodeNumber(long value) => System.Text.Encoding.ASCII.GetBytes(value.ToString(CultureInfo.InvariantCulture));

    /// <summary>The length of the body once rewritten.</summary>
    public static int RewrittenLength(int bodyLength, in MessagesRequestInfo info, ReadOnlySpan<byte> modelToken) =>
        RewrittenLength(bodyLength, info, modelToken, default);

    /// <summary>The length of the body once rewritten; an empty <paramref name="maxTokensToken"/> keeps max_tokens.</summary>
    public static int RewrittenLength(int bodyLength, in MessagesRequestInfo info, ReadOnlySpan<byte> modelToken, ReadOnlySpan<byte> maxTokensToken)
    {
        var length = bodyLength - (info.ModelTokenEnd - info.ModelTokenStart) + modelToken.Length;
        if (!maxTokensToken.IsEmpty)
        {
            length += maxTokensToken.Length - (info.MaxTokensTokenEnd - info.MaxTokensTokenStart);
        }

        return length;
    }

    /// <summary>Writes the body with <paramref name="modelToken"/> in place of the model string; returns bytes written.</summary>
    public static int Rewrite(ReadOnlySpan<byte> body, in MessagesRequestInfo info, ReadOnlySpan<byte> modelToken, Span<byte> destination) =>
        Rewrite(body, info, modelToken, default, destination);

    /// <summary>Writes the body with the model replaced and, unless <paramref name="maxTokensToken"/> is empty, max_tokens.</summary>
    public static int Rewrite(ReadOnlySpan<byte> body, in MessagesRequestInfo info, ReadOnlySpan<byte> modelToken, ReadOnlySpan<byte> maxTokensToken, Span<byte> destination)
    {
        var replaceMaxTokens = !maxTokensToken.IsEmpty && info.MaxTokensTokenEnd > info.MaxTokensTokenStart;
        if (!replaceMaxTokens)
        {
            return Splice(body, info.ModelTokenStart, info.ModelTokenEnd, modelToken, body.Length, body.Length, default, destination);
        }

        return info.ModelTokenStart < info.MaxTokensTokenStart
            ? Splice(body, info.ModelTokenStart, info.ModelTokenEnd, modelToken, info.MaxTokensTokenStart, info.MaxTokensTokenEnd, maxTokensToken, destination)
            : Splice(body, info.MaxTokensTokenStart, info.MaxTokensTokenEnd, maxTokensToken, info.ModelTokenStart, info.ModelTokenEnd, modelToken, destination);
    }

    /// <summary>Copies <paramref name="body"/> replacing two non-overlapping ranges, the first before the second.</summary>
    private static int Splice(ReadOnlySpan<byte> body, int start1, int end1, ReadOnlySpan<byte> token1,
        int start2, int end2, ReadOnlySpan<byte> token2, Span<byte> destination)
    {
        var written = 0;
        body[..start1].CopyTo(destination);
        written += start1;
        token1.CopyTo(destination[written..]);
        written += token1.Length;
        body[end1..start2].CopyTo(destination[written..]);
        written += start2 - end1;
        token2.CopyTo(destination[written..]);
        written += token2.Length;
        body[end2..].CopyTo(destination[written..]);
        written += body.Length - end2;
        return written;
    }
}
