using System.Net.Http.Headers;
using System.Text;

namespace Relay.Tests.Infrastructure;

public static class JsonBody
{
    public static StringContent Of(string json)
    {
        var content = new StringContent(json, Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return content;
    }

    public static string Message(string model, bool stream = false, string text = "Hello", int maxTokens = 256) =>
        $$"""{"model":"{{model}}","max_tokens":{{maxTokens}},"stream":{{(stream ? "true" : "false")}},"messages":[{"role":"user","content":"{{text}}"}]}""";
}
