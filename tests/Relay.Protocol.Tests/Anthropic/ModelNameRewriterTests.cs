using System.Text;
using System.Text.Json;
using Relay.Protocol.Anthropic;

namespace Relay.Protocol.Tests.Anthropic;

public sealed class ModelNameRewriterTests
{
    /// <summary>Inspects, encodes and rewrites as the gateway does; checks the length contract on the way.</summary>
    private static byte[] RewriteModel(byte[] body, string newModel, MessagesEndpointKind kind = MessagesEndpointKind.Messages)
    {
        Assert.True(MessagesRequestInspector.TryInspect(body, kind, out var info, out var error), error);
        var token = ModelNameRewriter.EncodeToken(newModel);
        var length = ModelNameRewriter.RewrittenLength(body.Length, info, token);

        var destination = new byte[length + 16];
        destination.AsSpan().Fill(0xEE);
        var written = ModelNameRewriter.Rewrite(body, info, token, destination);

        Assert.Equal(length, written);
        Assert.All(destination[written..], b => Assert.Equal(0xEE, b));
        return destination[..written];
    }

    private static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    /// <summary>The expected result, built by plain text replacement of the one occurrence of the old token.</summary>
    private static byte[] ReplaceOnce(string body, string oldToken, string newToken)
    {
        var at = body.IndexOf(oldToken, StringComparison.Ordinal);
        Assert.True(at >= 0);
        Assert.Equal(-1, body.IndexOf(oldToken, at + 1, StringComparison.Ordinal));
        return Utf8(string.Concat(body.AsSpan(0, at), newToken, body.AsSpan(at + oldToken.Length)));
    }

    [Fact]
    public void Rewrite_BodyWithOddWhitespaceAndEscapes_EveryOtherByteIdentical()
    {
        var body = "{\n\t\"max_tokens\" :  4096 ,\r\n  \"model\"\t:\t\"claude-sonnet-4-6\"  ,\n  \"messages\":[{\"role\":\"user\",\"content\":\"caf\\u00e9 ☕ é \\ud83d\\ude00 \\\"q\\\" \\/ \\n\"}],"
            + "\"metadata\":{\"user_id\":\"\\u0041\"},\"stream\":true }\n";

        var rewritten = RewriteModel(Utf8(body), "upstream-sonnet");

        Assert.Equal(ReplaceOnce(body, "\"claude-sonnet-4-6\"", "\"upstream-sonnet\""), rewritten);
    }

    [Theory]
    [InlineData("""{"model":"claude-sonnet-4-6","max_tokens":1,"messages":[]}""")]
    [InlineData("""{"max_tokens":1,"messages":[],"model":"claude-sonnet-4-6"}""")]
    [InlineData("""{"max_tokens":1,"messages":[],"model":"claude-sonnet-4-6"   }""")]
    [InlineData("""{"max_tokens":1,"messages":[],"model":"claude-sonnet-4-6"}""" + "\n")]
    [InlineData("""{"metadata":{"model":"claude-haiku"},"model":"claude-sonnet-4-6","max_tokens":1,"messages":[]}""")]
    public void Rewrite_ModelFirstLastOrAmongNestedModels_OnlyTopLevelTokenReplaced(string body)
    {
        var rewritten = RewriteModel(Utf8(body), "x");

        Assert.Equal(ReplaceOnce(body, "\"claude-sonnet-4-6\"", "\"x\""), rewritten);
    }

    [Theory]
    [InlineData("anthropic/claude-sonnet-4.5")]
    [InlineData("us.anthropic.claude-3-7-sonnet-20250219-v1:0")]
    [InlineData("openrouter/anthropic/claude-sonnet-4:beta")]
    [InlineData("qwen3-coder:30b")]
    public void EncodeToken_SlashesAndColons_WrittenPlain(string model)
    {
        Assert.Equal(Utf8("\"" + model + "\""), ModelNameRewriter.EncodeToken(model));
    }

    [Theory]
    [InlineData("anthropic/claude-sonnet-4.5")]
    [InlineData("us.anthropic.claude-3-7-sonnet-20250219-v1:0")]
    [InlineData("my \"quoted\" model")]
    [InlineData("back\\slash\\")]
    [InlineData("\\\"")]
    [InlineData("tab\tnewline\ncontrol\u0001")]
    [InlineData("modèle-日本語-😀")]
    [InlineData("<script>&'+`")]
    [InlineData("")]
    public void EncodeToken_AnyName_IsAJsonStringThatDecodesToTheName(string model)
    {
        var token = ModelNameRewriter.EncodeToken(model);

        Assert.Equal((byte)'"', token[0]);
        Assert.Equal((byte)'"', token[^1]);
        var reader = new Utf8JsonReader(token);
        Assert.True(reader.Read());
        Assert.Equal(JsonTokenType.String, reader.TokenType);
        Assert.Equal(model, reader.GetString());
        Assert.Equal(token.Length, reader.BytesConsumed);
        Assert.False(reader.Read());
    }

    [Theory]
    [InlineData("anthropic/claude-sonnet-4.5")]
    [InlineData("us.anthropic.claude-3-7-sonnet-20250219-v1:0")]
    [InlineData("my \"quoted\" model")]
    [InlineData("back\\slash\\")]
    [InlineData("modèle-日本語-😀")]
    public void Rewrite_NamesNeedingEscapes_BodyStaysValidAndCarriesNewName(string model)
    {
        var body = """{"model":"claude-sonnet-4-6","messages":[{"role":"user","content":"\"model\": \\ hi"}],"max_tokens":7,"stream":true}""";

        var rewritten = RewriteModel(Utf8(body), model);

        using (var document = JsonDocument.Parse(rewritten))
        {
            Assert.Equal(model, document.RootElement.GetProperty("model").GetString());
            Assert.Equal("\"model\": \\ hi", document.RootElement.GetProperty("messages")[0].GetProperty("content").GetString());
        }

        Assert.True(MessagesRequestInspector.TryInspect(rewritten, MessagesEndpointKind.Messages, out var info, out _));
        Assert.Equal(model, info.Model);
        Assert.True(info.Stream);
        Assert.Equal(ModelNameRewriter.EncodeToken(model), rewritten[info.ModelTokenStart..info.ModelTokenEnd]);
        Assert.Equal(ReplaceOnce(body, "\"claude-sonnet-4-6\"", Encoding.UTF8.GetString(ModelNameRewriter.EncodeToken(model))), rewritten);
    }

    [Fact]
    public void Rewrite_EscapedOriginalModel_WholeRawTokenReplaced()
    {
        var body = """{"model":"claude\u002dsonnet\u002d4\u002d6","max_tokens":1,"messages":[]}""";

        var rewritten = RewriteModel(Utf8(body), "upstream");

        Assert.Equal(Utf8("""{"model":"upstream","max_tokens":1,"messages":[]}"""), rewritten);
    }

    [Fact]
    public void Rewrite_SameNameReencoded_BodyUnchanged()
    {
        var body = """{ "model" : "claude-opus-4-1" , "max_tokens": 10, "messages": [ {"role":"user","content":"é"} ] }""";

        Assert.Equal(Utf8(body), RewriteModel(Utf8(body), "claude-opus-4-1"));
    }

    [Theory]
    [InlineData("a")]
    [InlineData("claude-sonnet-4-6")]
    [InlineData("a-much-longer-upstream-model-name-than-the-original-one-2025-09-29")]
    [InlineData("needs \"escaping\" \\ é")]
    public void RewrittenLength_ShorterSameOrLongerName_MatchesBytesWritten(string model)
    {
        var body = Utf8("""{"model":"claude-sonnet-4-6","max_tokens":1,"messages":[{"role":"user","content":"x"}]}""");
        Assert.True(MessagesRequestInspector.TryInspect(body, MessagesEndpointKind.Messages, out var info, out _));
        var token = ModelNameRewriter.EncodeToken(model);

        var expectedLength = body.Length - "\"claude-sonnet-4-6\"".Length + token.Length;
        Assert.Equal(expectedLength, ModelNameRewriter.RewrittenLength(body.Length, info, token));

        var destination = new byte[expectedLength];
        Assert.Equal(expectedLength, ModelNameRewriter.Rewrite(body, info, token, destination));
    }

    [Fact]
    public void Rewrite_CountTokensBody_Rewritten()
    {
        var body = """{"messages":[{"role":"user","content":"count"}],"model":"claude-haiku-4-5"}""";

        var rewritten = RewriteModel(Utf8(body), "upstream-haiku", MessagesEndpointKind.CountTokens);

        Assert.Equal(ReplaceOnce(body, "\"claude-haiku-4-5\"", "\"upstream-haiku\""), rewritten);
    }
}
