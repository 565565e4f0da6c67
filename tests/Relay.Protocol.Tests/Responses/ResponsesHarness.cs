using System.Buffers;
using System.Text;
using System.Text.Json.Nodes;
using Relay.Protocol.Events;
using Relay.Protocol.Tests.Infrastructure;
using Relay.Protocol.Translation;

namespace Relay.Protocol.Tests.Responses;

/// <summary>Runs the Responses API translators on in-memory text.</summary>
public static class ResponsesHarness
{
    public const long CreatedAt = 1_760_000_000;

    public static string Fixture(string name) => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", name));

    /// <summary>The Messages request for a Responses request.</summary>
    public static (JsonObject Request, ResponsesRequestResult Result) ToMessages(string responsesJson)
    {
        var output = new ArrayBufferWriter<byte>();
        var result = ResponsesToMessagesRequest.Write(Encoding.UTF8.GetBytes(responsesJson), output);
        return (JsonNode.Parse(output.WrittenSpan)!.AsObject(), result);
    }

    /// <summary>The Responses request for a Messages request.</summary>
    public static (JsonObject Request, ChatRequestResult Result) ToResponses(string anthropicJson, string model = "gpt-5.1-codex")
    {
        var output = new ArrayBufferWriter<byte>();
        var result = MessagesToResponsesRequest.Write(Encoding.UTF8.GetBytes(anthropicJson), model, output);
        return (JsonNode.Parse(output.WrittenSpan)!.AsObject(), result);
    }

    /// <summary>The Responses SSE text that <paramref name="produce"/> writes through <see cref="ResponsesEvents"/>.</summary>
    public static string Stream(Action<IMessageEvents> produce, IReadOnlySet<string>? customTools = null)
    {
        var output = new ArrayBufferWriter<byte>();
        using (var events = new ResponsesEvents(output, customTools, CreatedAt))
        {
            produce(events);
        }

        return Encoding.UTF8.GetString(output.WrittenSpan);
    }

    /// <summary>A provider's Responses stream, each event as <c>event: TYPE</c> and <c>data: JSON</c>.</summary>
    public static string UpstreamSse(params string[] events) => string.Concat(events.Select(e =>
        $"event: {(string?)JsonNode.Parse(e)!["type"]}\ndata: {e}\n\n"));

    /// <summary>Feeds a provider's Responses SSE through the translator into Anthropic SSE.</summary>
    public static (List<SseEvent> Events, ResponsesStreamTranslator Translator) Translate(string upstreamSse, TranslationContext? context = null, bool endOfInput = true)
    {
        var output = new ArrayBufferWriter<byte>();
        using var writer = new AnthropicSseEvents(output);
        var translator = new ResponsesStreamTranslator(writer, context ?? new TranslationContext("claude-sonnet-4-6", null) { MessageId = "msg_1" });
        translator.Start();
        foreach (var frame in upstreamSse.Split("\n\n", StringSplitOptions.RemoveEmptyEntries))
        {
            var lines = frame.Split('\n');
            var type = lines.FirstOrDefault(l => l.StartsWith("event: ", StringComparison.Ordinal))?["event: ".Length..] ?? "";
            var data = lines.First(l => l.StartsWith("data: ", StringComparison.Ordinal))["data: ".Length..];
            if (ResponsesStreamTranslator.Parse(type, Encoding.UTF8.GetBytes(data)) is { } e)
            {
                translator.OnEvent(e);
            }
        }

        if (endOfInput)
        {
            translator.OnEndOfInput();
        }

        return (AnthropicStream.Parse(Encoding.UTF8.GetString(output.WrittenSpan)), translator);
    }
}
