using System.Text;
using Microsoft.AspNetCore.Http;
using Relay.Configuration;

namespace Relay.Tests.Infrastructure;

/// <summary>Relay with one pass-through route (<c>claude-sonnet-4-6</c> → anthropic provider "up") and one translated route
/// (<see cref="TranslatedModel"/> → openai provider "router"), both served by one fake upstream that answers every request
/// with a valid response of its kind.</summary>
public abstract class RelayWithTwoProviders : RelayWithUpstream
{
    public const string PassThroughModel = "claude-sonnet-4-6";
    public const string TranslatedModel = "claude-opus-4-6";

    private protected override void Configure(RelayConfig config)
    {
        Upstream.Handler = AnswerValidlyAsync;
        config.Providers["router"] = new ProviderConfig
        {
            Type = "openai",
            BaseUrl = Upstream.BaseUrl.TrimEnd('/') + "/api/v1",
            ApiKey = "sk-or-secret-123456",
            Preset = "openrouter",
            TimeoutSeconds = 5,
        };
        config.Models[TranslatedModel] = new ModelConfig { Routes = ["router/deepseek/deepseek-chat"], Family = "opus" };
    }

    /// <summary>A valid Anthropic or Chat Completions answer, streamed when the request asked for a stream.</summary>
    protected static Task AnswerValidlyAsync(HttpContext context, CapturedRequest request)
    {
        var stream = request.Body.AsSpan().IndexOf("\"stream\":true"u8) >= 0;
        if (request.PathAndQuery.StartsWith("/api/v1/", StringComparison.Ordinal))
        {
            return stream
                ? Responses.Stream(context, [
                    "data: {\"id\":\"c1\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"},\"finish_reason\":\"stop\"}]}\n\n",
                    "data: {\"id\":\"c1\",\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":1}}\n\n",
                    "data: [DONE]\n\n"])
                : Responses.Json(context, 200, """{"id":"c1","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"Hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":1}}""");
        }

        if (request.PathAndQuery.Contains("count_tokens", StringComparison.Ordinal))
        {
            return Responses.Json(context, 200, """{"input_tokens":3}""");
        }

        return stream ? Responses.Stream(context, Responses.StreamEvents(["Hi"])) : Responses.Json(context, 200, Responses.MessageJson());
    }

    /// <summary>Posts raw bytes as a JSON body with the test key.</summary>
    protected Task<HttpResponseMessage> PostBytesAsync(string path, byte[] body)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        return Server.Client.PostAsync(path, content, Ct);
    }

    protected Task<HttpResponseMessage> PostAsync(string path, string body) => PostBytesAsync(path, Encoding.UTF8.GetBytes(body));
}
