using System.Text.Json;

namespace Relay.Protocol.Anthropic;

/// <summary>Replaces the model name in a request body, leaving every other byte as the client sent it.</summary>
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

    /// <summary>The length of the body once rewritten.</summary>
    public static int RewrittenLength(int bodyLength, in MessagesRequestInfo info, ReadOnlySpan<byte> modelToken) =>
        bodyLength - (info.ModelTokenEnd - info.ModelTokenStart) + modelToken.Length;

    /// <summary>Writes the body with <paramref name="modelToken"/> in place of the model string; returns bytes written.</summary>
    public static int Rewrite(ReadOnlySpan<byte> body, in MessagesRequestInfo info, ReadOnlySpan<byte> modelToken, Span<byte> destination)
    {
        var head = body[..info.ModelTokenStart];
        var tail = body[info.ModelTokenEnd..];
        head.CopyTo(destination);
        modelToken.CopyTo(destination[head.Length..]);
        tail.CopyTo(destination[(head.Length + modelToken.Length)..]);
        return head.Length + modelToken.Length + tail.Length;
    }
}
