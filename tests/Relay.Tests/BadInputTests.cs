using System.Net;
using System.Text;
using Relay.Tests.Infrastructure;

namespace Relay.Tests;

/// <summary>Bodies Relay cannot use are the client's mistake: a 400 naming the field, decided before any provider is asked,
/// on pass-through and translated routes alike.</summary>
public sealed class BadInputTests : RelayWithTwoProviders
{
    public static TheoryData<string, string> Models => new() { { PassThroughModel, "v1/messages" }, { TranslatedModel, "v1/messages" },
        { PassThroughModel, "v1/messages/count_tokens" }, { TranslatedModel, "v1/messages/count_tokens" } };

    private static byte[] Body(string model, string messageText, string extra = "") =>
        [.. Encoding.UTF8.GetBytes($$"""{"model":"{{model}}","max_tokens":10,{{extra}}"messages":[{"role":"user","content":"""), .. Encoding.UTF8.GetBytes("\""), ..
            Encoding.Latin1.GetBytes(messageText), .. "\"}]}"u8];

    private async Task AssertRefusedAsync(HttpResponseMessage response, string field)
    {
        var error = await AnthropicAssert.IsErrorAsync(response, HttpStatusCode.BadRequest, "invalid_request_error");
        Assert.StartsWith(field, error.Message, StringComparison.Ordinal);
        Assert.Empty(Upstream.Requests);
    }

    [Theory]
    [MemberData(nameof(Models))]
    public async Task InvalidUtf8InMessageText_Is400(string model, string path)
    {
        // 0xC3 0x28 is an invalid two-byte sequence; 0xFF never occurs in UTF-8.
        using var response = await PostBytesAsync(path, Body(model, "hi \u00c3( and \u00ff"));

        await AssertRefusedAsync(response, "messages.0.content:");
    }

    [Theory]
    [MemberData(nameof(Models))]
    public async Task InvalidUtf8InModel_Is400(string model, string path)
    {
        var body = Encoding.UTF8.GetBytes($$"""{"model":"{{model}}X","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}""");
        body[Array.IndexOf(body, (byte)'X')] = 0xFF;

        using var response = await PostBytesAsync(path, body);

        await AssertRefusedAsync(response, "model:");
    }

    [Theory]
    [InlineData(PassThroughModel, "\\ud800")]
    [InlineData(TranslatedModel, "\\ud800")]
    [InlineData(PassThroughModel, "\\udfff")]
    [InlineData(TranslatedModel, "\\udfff")]
    [InlineData(TranslatedModel, "a\\ud83d\\u0041")]
    public async Task LoneSurrogateEscape_Is400(string model, string text)
    {
        using var response = await PostBytesAsync("v1/messages", Body(model, text));

        await AssertRefusedAsync(response, "messages.0.content:");
    }

    [Fact]
    public async Task EscapedSurrogatePair_IsAccepted()
    {
        using var response = await PostBytesAsync("v1/messages", Body(TranslatedModel, "smile \\ud83d\\ude00"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    [InlineData("null")]
    [InlineData("true")]
    [InlineData("\"\"")]
    [InlineData("[]")]
    [InlineData("{}")]
    [InlineData("1.5")]
    public async Task NonIntegerThinkingBudget_Is400(string budget)
    {
        using var response = await PostBytesAsync("v1/messages", Body(TranslatedModel, "hi", $$"""
            "thinking":{"type":"enabled","budget_tokens":{{budget}}},
            """));

        await AssertRefusedAsync(response, "thinking.budget_tokens:");
    }

    [Theory]
    [MemberData(nameof(Models))]
    public async Task ToolThatIsNotAnObject_Is400(string model, string path)
    {
        using var response = await PostAsync(path, $$"""{"model":"{{model}}","max_tokens":10,"tools":[[]],"messages":[{"role":"user","content":"hi"}]}""");

        await AssertRefusedAsync(response, "tools.0:");
    }

    public static TheoryData<string, string, byte[]> RawHeaderBytes()
    {
        var data = new TheoryData<string, string, byte[]>();
        foreach (var header in new[] { "x-note", "anthropic-beta" })
        {
            foreach (var model in new[] { PassThroughModel, TranslatedModel })
            {
                foreach (var bytes in new byte[][] { [0x01], [0x1B, 0x5B, 0x32, 0x4A], [0xC3, 0xA9], [0xFF], [0x00], [0x7F], [0xE2, 0x80, 0xAE] })
                {
                    data.Add(header, model, bytes);
                }
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(RawHeaderBytes))]
    public async Task RawBytesInAHeader_AreNeverA5xx_AndOnlyKestrelAnswersWithoutARequestId(string header, string model, byte[] bad)
    {
        // Sent over a raw socket: HttpClient refuses such header values. docs/configuration.md ("Errors") describes what
        // Kestrel refuses before Relay's code runs: the one answer without a request-id.
        var kestrelRefuses = bad.Contains((byte)0) || !System.Text.Unicode.Utf8.IsValid(bad);
        var uri = new Uri(Server.BaseUrl);
        var body = Encoding.UTF8.GetBytes(JsonBody.Message(model));
        byte[] request = [.. Encoding.ASCII.GetBytes($"POST {uri.AbsolutePath.TrimEnd('/')}/v1/messages HTTP/1.1\r\nHost: {uri.Authority}\r\nx-api-key: {Server.Key}\r\n"
            + $"content-type: application/json\r\ncontent-length: {body.Length}\r\nanthropic-version: 2023-06-01\r\n{header}: a"), .. bad, .. "b\r\n\r\n"u8, .. body];
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(uri.Host, uri.Port, Ct);
        var stream = tcp.GetStream();
        await stream.WriteAsync(request, Ct);
        using var reader = new StreamReader(stream, Encoding.Latin1);

        var statusLine = await reader.ReadLineAsync(Ct);
        var headers = new List<string>();
        while (await reader.ReadLineAsync(Ct) is { Length: > 0 } line)
        {
            headers.Add(line);
        }

        var hasRequestId = headers.Exists(h => h.StartsWith("request-id:", StringComparison.OrdinalIgnoreCase));
        if (kestrelRefuses)
        {
            Assert.Equal(("HTTP/1.1 400 Bad Request", false), (statusLine, hasRequestId));
            Assert.Empty(Upstream.Requests);
        }
        else
        {
            Assert.Equal(("HTTP/1.1 200 OK", true), (statusLine, hasRequestId));
        }
    }
}
