using System.Text;
using Relay.Protocol.Anthropic;

namespace Relay.Protocol.Tests.Anthropic;

public sealed class MessagesRequestInspectorTests
{
    private const string Messages = """[{"role":"user","content":"Hello"}]""";

    private static bool Inspect(string body, out MessagesRequestInfo info, out string error, MessagesEndpointKind kind = MessagesEndpointKind.Messages) =>
        MessagesRequestInspector.TryInspect(Encoding.UTF8.GetBytes(body), kind, out info, out error);

    private static string Fails(string body, MessagesEndpointKind kind = MessagesEndpointKind.Messages)
    {
        Assert.False(Inspect(body, out _, out var error, kind), "the body should have been rejected");
        Assert.False(string.IsNullOrWhiteSpace(error));
        return error;
    }

    private static string ModelTokenText(string body, MessagesRequestInfo info)
    {
        var bytes = Encoding.UTF8.GetBytes(body);
        return Encoding.UTF8.GetString(bytes.AsSpan(info.ModelTokenStart, info.ModelTokenEnd - info.ModelTokenStart));
    }

    [Fact]
    public void TryInspect_ValidBody_ReturnsModelAndStream()
    {
        var body = $$"""{"model":"claude-sonnet-4-6","max_tokens":1024,"messages":{{Messages}},"stream":true}""";

        Assert.True(Inspect(body, out var info, out var error));

        Assert.Equal("claude-sonnet-4-6", info.Model);
        Assert.True(info.Stream);
        Assert.Equal("", error);
    }

    [Theory]
    [InlineData(",\"stream\":true", true)]
    [InlineData(",\"stream\":false", false)]
    [InlineData(",\"stream\":null", false)]
    [InlineData("", false)]
    public void TryInspect_StreamField_ReadAsBoolean(string streamProperty, bool expected)
    {
        var body = $$"""{"model":"m","max_tokens":1,"messages":[]{{streamProperty}}}""";

        Assert.True(Inspect(body, out var info, out _));
        Assert.Equal(expected, info.Stream);
    }

    [Theory]
    [InlineData("""{"model":"claude-sonnet-4-6","max_tokens":1,"messages":[]}""")]
    [InlineData("""{"max_tokens":1,"messages":[],"model":"claude-sonnet-4-6"}""")]
    [InlineData("""{ "max_tokens" : 1 ,	"model"	:   "claude-sonnet-4-6"   , "messages" : [ ] }""")]
    [InlineData("{\r\n  \"messages\": [],\r\n  \"max_tokens\": 1,\r\n  \"model\": \"claude-sonnet-4-6\"\r\n}\r\n")]
    [InlineData("""{"messages":[{"role":"user","content":"héllo ☕ \u00e9"}],"max_tokens":1,"model":"claude-sonnet-4-6"}""")]
    public void TryInspect_ValidBody_ModelTokenSpansExactlyTheQuotedString(string body)
    {
        Assert.True(Inspect(body, out var info, out _));

        Assert.Equal("\"claude-sonnet-4-6\"", ModelTokenText(body, info));
        var expectedStart = Encoding.UTF8.GetByteCount(body[..body.IndexOf("\"claude-sonnet-4-6\"", StringComparison.Ordinal)]);
        Assert.Equal(expectedStart, info.ModelTokenStart);
        Assert.Equal(expectedStart + "\"claude-sonnet-4-6\"".Length, info.ModelTokenEnd);
    }

    [Theory]
    [InlineData("""claude\u002dsonnet""", "claude-sonnet")]
    [InlineData("""claude-sonnet\u002D4""", "claude-sonnet-4")]
    [InlineData("""anthropic\/claude""", "anthropic/claude")]
    [InlineData("""we\"ird\\name""", "we\"ird\\name")]
    [InlineData("""mod\u00e8le""", "modèle")]
    [InlineData("""mod\ud83d\ude00""", "mod😀")]
    public void TryInspect_EscapedModelName_DecodedAndTokenKeepsRawBytes(string rawModel, string expected)
    {
        var body = $$"""{"model": "{{rawModel}}", "max_tokens": 1, "messages": []}""";

        Assert.True(Inspect(body, out var info, out _));

        Assert.Equal(expected, info.Model);
        Assert.Equal("\"" + rawModel + "\"", ModelTokenText(body, info));
    }

    [Fact]
    public void TryInspect_EscapedPropertyName_RecognisedAsModel()
    {
        // JSON parsers upstream unescape keys; "mod\u0065l" is the model field there too.
        var body = """{"mod\u0065l":"claude-haiku-4-5","max_tokens":1,"messages":[]}""";

        Assert.True(Inspect(body, out var info, out _));
        Assert.Equal("claude-haiku-4-5", info.Model);
        Assert.Equal("\"claude-haiku-4-5\"", ModelTokenText(body, info));
    }

    [Theory]
    [InlineData("""{"max_tokens":1,"messages":[]}""", MessagesEndpointKind.Messages, "model: Field required")]
    [InlineData("""{"model":"m","max_tokens":1}""", MessagesEndpointKind.Messages, "messages: Field required")]
    [InlineData("""{"model":"m","messages":[]}""", MessagesEndpointKind.Messages, "max_tokens: Field required")]
    [InlineData("""{"messages":[]}""", MessagesEndpointKind.CountTokens, "model: Field required")]
    [InlineData("""{"model":"m"}""", MessagesEndpointKind.CountTokens, "messages: Field required")]
    [InlineData("""{"model":"","max_tokens":1,"messages":[]}""", MessagesEndpointKind.Messages, "model: String should have at least 1 character")]
    public void TryInspect_MissingRequiredField_AnthropicStyleMessage(string body, MessagesEndpointKind kind, string expected)
    {
        Assert.Equal(expected, Fails(body, kind));
    }

    [Fact]
    public void TryInspect_CountTokensWithoutMaxTokens_Accepted()
    {
        var body = """{"model":"claude-sonnet-4-6","messages":[{"role":"user","content":"count me"}]}""";

        Assert.True(Inspect(body, out var info, out var error, MessagesEndpointKind.CountTokens), error);
        Assert.Equal("claude-sonnet-4-6", info.Model);
    }

    [Theory]
    [InlineData("""{"model":42,"max_tokens":1,"messages":[]}""", "model: Input should be a valid string")]
    [InlineData("""{"model":null,"max_tokens":1,"messages":[]}""", "model: Input should be a valid string")]
    [InlineData("""{"model":["claude"],"max_tokens":1,"messages":[]}""", "model: Input should be a valid string")]
    [InlineData("""{"model":"m","max_tokens":1,"messages":{"role":"user"}}""", "messages: Input should be a valid list")]
    [InlineData("""{"model":"m","max_tokens":1,"messages":"hi"}""", "messages: Input should be a valid list")]
    [InlineData("""{"model":"m","max_tokens":1,"messages":[],"stream":"true"}""", "stream: Input should be a valid boolean")]
    [InlineData("""{"model":"m","max_tokens":1,"messages":[],"stream":1}""", "stream: Input should be a valid boolean")]
    [InlineData("""{"model":"m","max_tokens":-1,"messages":[]}""", "max_tokens: Input should be a valid non-negative integer")]
    [InlineData("""{"model":"m","max_tokens":"1024","messages":[]}""", "max_tokens: Input should be a valid non-negative integer")]
    [InlineData("""{"model":"m","max_tokens":10.5,"messages":[]}""", "max_tokens: Input should be a valid non-negative integer")]
    [InlineData("""{"model":"m","max_tokens":99999999999999999999,"messages":[]}""", "max_tokens: Input should be a valid non-negative integer")]
    [InlineData("""{"model":"m","max_tokens":null,"messages":[]}""", "max_tokens: Input should be a valid non-negative integer")]
    public void TryInspect_WrongFieldType_AnthropicStyleMessage(string body, string expected)
    {
        Assert.Equal(expected, Fails(body));
    }

    [Fact]
    public void TryInspect_WrongType_ReportedEvenForCountTokens()
    {
        Assert.Equal("model: Input should be a valid string", Fails("""{"model":7,"messages":[]}""", MessagesEndpointKind.CountTokens));
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("\r\n")]
    public void TryInspect_EmptyBody_SaysEmpty(string body)
    {
        Assert.Equal("The request body is empty; expected a JSON object.", Fails(body));
    }

    [Theory]
    [InlineData("[]")]
    [InlineData("""[{"model":"m","max_tokens":1,"messages":[]}]""")]
    [InlineData("\"claude-sonnet-4-6\"")]
    [InlineData("42")]
    [InlineData("null")]
    [InlineData("true")]
    public void TryInspect_NonObjectBody_MustBeObject(string body)
    {
        Assert.Equal("The request body must be a JSON object.", Fails(body));
    }

    [Theory]
    [InlineData("""{"model":"m","max_tokens":1,"messages":[]""")]
    [InlineData("""{"model":"m","max_tokens":1,"messages":[""")]
    [InlineData("""{"model":"m","max_tokens":1,"messages":[],}""")]
    [InlineData("""{model:"m","max_tokens":1,"messages":[]}""")]
    [InlineData("""{"model":'m',"max_tokens":1,"messages":[]}""")]
    [InlineData("""{"model":"m" "max_tokens":1,"messages":[]}""")]
    [InlineData("""{"model":"m","max_tokens":1,"messages":[]} // comment""")]
    [InlineData("""{"model":"unterminated,"max_tokens":1,"messages":[]}""")]
    [InlineData("{")]
    [InlineData("not json")]
    public void TryInspect_MalformedJson_NotValidJson(string body)
    {
        Assert.StartsWith("The request body is not valid JSON", Fails(body), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"model":"m","max_tokens":1,"messages":[]}{}""")]
    [InlineData("""{"model":"m","max_tokens":1,"messages":[]} {"model":"other"}""")]
    [InlineData("""{"model":"m","max_tokens":1,"messages":[]}x""")]
    [InlineData("""{"model":"m","max_tokens":1,"messages":[]}]""")]
    [InlineData("""{"model":"m","max_tokens":1,"messages":[]}1""")]
    public void TryInspect_TrailingGarbageAfterObject_Rejected(string body)
    {
        var error = Fails(body);

        Assert.True(
            error.StartsWith("The request body is not valid JSON", StringComparison.Ordinal)
            || error == "The request body must hold exactly one JSON object.",
            error);
    }

    [Theory]
    [InlineData("\n")]
    [InlineData("\r\n")]
    [InlineData("  \t ")]
    public void TryInspect_TrailingWhitespace_Accepted(string trailing)
    {
        var body = """{"model":"m","max_tokens":1,"messages":[]}""" + trailing;

        Assert.True(Inspect(body, out var info, out var error), error);
        Assert.Equal("m", info.Model);
    }

    [Fact]
    public void TryInspect_UnknownExtraFields_Accepted()
    {
        var body = """
            {"model":"claude-opus-4-1","max_tokens":32000,"messages":[{"role":"user","content":[{"type":"text","text":"hi","cache_control":{"type":"ephemeral"}}]}],
             "system":[{"type":"text","text":"You are Claude Code."}],"thinking":{"type":"enabled","budget_tokens":31999},
             "context_management":{"edits":[{"type":"clear_tool_uses_20250919"}]},"metadata":{"user_id":"u_1"},
             "tools":[],"tool_choice":{"type":"auto"},"temperature":1,"top_k":null,"stop_sequences":["\n\nHuman:"],
             "some_future_field":[1,2.5,-3e8,true,false,null,{"deep":[[[{}]]]}],"service_tier":"auto"}
            """;

        Assert.True(Inspect(body, out var info, out var error), error);
        Assert.Equal("claude-opus-4-1", info.Model);
        Assert.False(info.Stream);
    }

    [Fact]
    public void TryInspect_NestedModelKeys_IgnoredInFavourOfTopLevel()
    {
        var body = """{"metadata":{"model":"nested-1","stream":"nope"},"messages":[{"role":"user","content":[{"type":"tool_result","content":[{"type":"text","text":"x","model":"nested-2","max_tokens":"x"}]}]}],"tools":[{"name":"t","input_schema":{"properties":{"model":{"type":"string"}}}}],"model":"claude-sonnet-4-6","max_tokens":5,"extra":{"model":7}}""";

        Assert.True(Inspect(body, out var info, out var error), error);

        Assert.Equal("claude-sonnet-4-6", info.Model);
        Assert.Equal("\"claude-sonnet-4-6\"", ModelTokenText(body, info));
        Assert.Equal(body.IndexOf("\"claude-sonnet-4-6\"", StringComparison.Ordinal), info.ModelTokenStart);
        Assert.False(info.Stream);
    }

    [Fact]
    public void TryInspect_OnlyNestedModel_ModelFieldRequired()
    {
        var body = """{"metadata":{"model":"nested"},"messages":[{"role":"user","content":"{\"model\":\"in-text\"}"}],"max_tokens":5}""";

        Assert.Equal("model: Field required", Fails(body));
    }

    [Fact]
    public void TryInspect_ModelValueLooksLikeJson_TakenLiterally()
    {
        var body = """{"model":"{\"model\":\"x\"}","max_tokens":1,"messages":[]}""";

        Assert.True(Inspect(body, out var info, out _));
        Assert.Equal("{\"model\":\"x\"}", info.Model);
        Assert.Equal("\"{\\\"model\\\":\\\"x\\\"}\"", ModelTokenText(body, info));
    }

    [Theory]
    [InlineData("\"thinking\":{\"type\":\"enabled\",\"budget_tokens\":\"1024\"}", "thinking.budget_tokens: Input should be a valid integer")]
    [InlineData("\"thinking\":[]", "thinking: Input should be a valid dictionary")]
    [InlineData("\"tools\":[[]]", "tools.0: Input should be a valid dictionary")]
    [InlineData("\"tools\":[{\"name\":7}]", "tools.0.name: Input should be a valid string")]
    [InlineData("\"system\":[\"text\"]", "system.0: Input should be a valid dictionary")]
    [InlineData("\"stop_sequences\":[1]", "stop_sequences.0: Input should be a valid string")]
    [InlineData("\"temperature\":\"hot\"", "temperature: Input should be a valid number")]
    [InlineData("\"temperature\":1e400", "temperature: Input should be a finite number")]
    [InlineData("\"top_k\":0.5", "top_k: Input should be a valid integer")]
    [InlineData("\"tool_choice\":\"auto\"", "tool_choice: Input should be a valid dictionary")]
    [InlineData("\"metadata\":{\"user_id\":[]}", "metadata.user_id: Input should be a valid string")]
    public void TryInspect_FieldRelayReadsWithTheWrongType_NamesIt(string field, string expected)
    {
        var error = Fails($$"""{"model":"m","max_tokens":5,{{field}},"messages":{{Messages}}}""");

        Assert.Equal(expected, error);
    }

    [Theory]
    [InlineData("""[1]""", "messages.0: Input should be a valid dictionary")]
    [InlineData("""[{"role":"user","content":7}]""", "messages.0.content: Input should be a valid string or list of content blocks")]
    [InlineData("""[{"role":"user","content":[{"type":"text","text":"a"},"b"]}]""", "messages.0.content.1: Input should be a valid dictionary")]
    [InlineData("""[{"role":"user","content":[{"type":"tool_result","tool_use_id":"t","content":[{"type":"image","source":"x"}]}]}]""", "messages.0.content.0.content.0.source: Input should be a valid dictionary")]
    [InlineData("""[{"role":"user","content":[{"type":"text","text":"a","cache_control":"ephemeral"}]}]""", "messages.0.content.0.cache_control: Input should be a valid dictionary")]
    public void TryInspect_MessageOfTheWrongShape_NamesThePath(string messages, string expected)
    {
        var error = Fails($$"""{"model":"m","max_tokens":5,"messages":{{messages}}}""");

        Assert.Equal(expected, error);
    }

    [Theory]
    [InlineData("\\ud800")]
    [InlineData("\\udfff")]
    [InlineData("a\\ud83d\\u0041")]
    [InlineData("a\\ud83dx")]
    [InlineData("\\ud83d\\n")]
    [InlineData("end\\ud83d")]
    public void TryInspect_LoneSurrogateEscape_IsNotText(string text)
    {
        var error = Fails($$"""{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"{{text}}"}]}""");

        Assert.StartsWith("messages.0.content: Input should be valid UTF-8 text", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("\\ud83d\\ude00")]
    [InlineData("\\u00e9\\n\\u4e2d")]
    [InlineData("plain \\\\ud800 backslash")]
    public void TryInspect_ValidEscapes_AreText(string text)
    {
        Assert.True(Inspect($$"""{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"{{text}}"}]}""", out _, out var error), error);
    }

    [Theory]
    [InlineData(new byte[] { 0xFF })]
    [InlineData(new byte[] { 0xC3, 0x28 })]
    [InlineData(new byte[] { 0xED, 0xA0, 0x80 })] // a surrogate encoded as UTF-8
    [InlineData(new byte[] { 0xE2, 0x82 })] // truncated
    public void TryInspect_InvalidUtf8_AnywhereInTheBody_NamesTheField(byte[] bad)
    {
        byte[] Body(string before, string after) => [.. Encoding.UTF8.GetBytes(before), .. bad, .. Encoding.UTF8.GetBytes(after)];

        Assert.False(MessagesRequestInspector.TryInspect(Body("{\"model\":\"m", "\",\"max_tokens\":5,\"messages\":[]}"), MessagesEndpointKind.Messages, out _, out var model));
        Assert.False(MessagesRequestInspector.TryInspect(Body("{\"model\":\"m\",\"max_tokens\":5,\"context_management\":{\"edits\":[{\"note\":\"x", "\"}]},\"messages\":[]}"), MessagesEndpointKind.Messages, out _, out var unknown));
        Assert.False(MessagesRequestInspector.TryInspect(Body("{\"model\":\"m\",\"max_tokens\":5,\"messages\":[],\"x", "\":1}"), MessagesEndpointKind.Messages, out _, out var name));

        Assert.StartsWith("model: ", model, StringComparison.Ordinal);
        Assert.StartsWith("context_management.edits.0.note: ", unknown, StringComparison.Ordinal);
        Assert.Contains("field name", name, StringComparison.Ordinal);
    }

    [Fact]
    public void TryInspect_NullOptionalFields_AreAccepted()
    {
        var body = """{"model":"m","max_tokens":5,"system":null,"tools":null,"thinking":null,"tool_choice":null,"stop_sequences":null,"metadata":null,"temperature":null,"top_k":null,"messages":[{"role":"user","content":[{"type":"text","text":"a","cache_control":null}]}]}""";

        Assert.True(Inspect(body, out _, out var error), error);
    }

    [Theory]
    [InlineData("claude-code-2.1.330-interactive-automode.json")]
    [InlineData("claude-code-2.1.330-title-smallfast.json")]
    [InlineData("claude-code-2.1.330-tool-followup.json")]
    public void TryInspect_BodiesClaudeCodeSent_AreAccepted(string fixture)
    {
        var body = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", fixture));

        Assert.True(Inspect(body, out _, out var error), error);
    }
}
