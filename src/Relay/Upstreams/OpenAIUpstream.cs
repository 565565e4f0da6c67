using System.Buffers;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;
using Relay.Configuration;
using Relay.Doors;
using Relay.Errors;
using Relay.Protocol.Anthropic;
using Relay.Protocol.Corrections;
using Relay.Protocol.OpenAI;
using Relay.Protocol.Text;
using Relay.Protocol.Translation;

namespace Relay.Upstreams;

/// <summary>
/// Serves Anthropic Messages requests from an OpenAI-compatible Chat Completions endpoint (OpenRouter, DeepSeek, Kimi,
/// GLM, Qwen, Groq, Together, Ollama, vLLM, Gemini, any relay's <c>/v1</c>): the request is translated for the
/// provider's preset, and the answer, streamed or not, is translated back as it arrives.
/// </summary>
/// <remarks>
/// <para>Errors before the provider's first byte are ordinary Anthropic-shaped HTTP errors (so clients retry as they do
/// with Anthropic); once a stream has begun, failures become an SSE <c>error</c> event and the stream ends. The client's
/// <c>message_start</c> goes out as soon as the provider answers 200, and <c>ping</c>s keep it alive while a reasoning
/// model is silent.</para>
/// <para>Usage is the provider's own: input = prompt − cached, cache reads = cached, output = completion. A stream that
/// ends without the provider's output count (cut short, or a provider that reports none) records an output estimate
/// from the text relayed (<see cref="Relay.Protocol.Anthropic.OutputEstimate"/>). <c>count_tokens</c> is a local estimate (<see cref="TokenEstimator"/>), and so is the input
/// count of a stream's <c>message_start</c>; the usage record and <c>message_delta</c> keep the provider's numbers.</para>
/// </remarks>
internal sealed class OpenAIUpstream : IUpstream, IDisposable
{

    private readonly UpstreamTransport _transport;
    private readonly Uri _chatUri;
    private readonly SameProtocolPassThrough _passThrough;
    private readonly OpenAIModelOptions _models;
    private readonly string _baseUrl;

    public OpenAIUpstream(string name, ProviderConfig config, TimeProvider time, ILogger logger)
    {
        Name = name;
        _baseUrl = config.BaseUrl!.TrimEnd('/');
        _transport = new UpstreamTransport(name, config, new ProviderCredentials(config, config.ApiKey, bearerByDefault: true), time, logger);
        _models = new OpenAIModelOptions(config);
        _chatUri = UpstreamConnections.OpenAIEndpoint(config.BaseUrl!, "/chat/completions");
        _passThrough = new SameProtocolPassThrough(_transport, _chatUri, name, ChatDialect.Instance);
        TokenEstimator.LoadInBackground();
    }

    public string Name { get; }

    public bool ForwardsClientCredentials => false;

    /// <summary>Probes <c>{baseUrl}/models</c> by default (the path is appended to the OpenAI-style base URL).</summary>
    public Task<string?> ProbeAsync(string? path, CancellationToken cancellationToken) =>
        _transport.ProbeAsync(_baseUrl + (path ?? "/models"), null, cancellationToken);

    /// <summary>count_tokens is a local estimate: these providers have no such endpoint.</summary>
    public bool AnswersLocally(MessagesEndpointKind endpoint) => endpoint == MessagesEndpointKind.CountTokens;

    public bool CanApply(CorrectionKind kind) => true;

    public int? ConfiguredMaxTokens(string upstreamModel) => _models.ConfiguredMaxTokens(upstreamModel);

    public async Task<UpstreamResult> SendAsync(UpstreamRequest request, CancellationToken cancellationToken)
    {
        if (request.Endpoint == MessagesEndpointKind.CountTokens)
        {
            return await TranslatedAnswers.CountTokensAsync(request, cancellationToken);
        }

        if (request.Door is ChatDoor { Request: not null } chatClient)
        {
            return await _passThrough.SendAsync(request, chatClient, cancellationToken);
        }

        var quirks = _models.For(request.Target.UpstreamModel, request.Corrections);
        return await TranslatedAnswers.SendAsync(_transport, _chatUri, request,
            body => ChatRequestTranslator.Write(request.Body, request.Target.UpstreamModel, quirks, body),
            (exchange, context) => StreamAsync(request, exchange, context, cancellationToken),
            (exchange, context) => MessageAsync(request, exchange, context, cancellationToken),
            cancellationToken);
    }

    private Task<UpstreamResult> StreamAsync(UpstreamRequest request, UpstreamExchange exchange, TranslationContext context,
        CancellationToken cancellationToken) =>
        TranslatedAnswers.StreamAsync(_transport, request, exchange, events => new ChatStreamTranslator(events, context), ChatStreamPump.RunAsync,
            static (translator, body) =>
            {
                // The provider ignored stream:true and answered one JSON body; its message is a whole chunk.
                if (JsonSerializer.Deserialize(body, OpenAIJsonContext.Default.ChatCompletionChunk) is not { } chunk)
                {
                    throw new JsonException("an empty body");
                }

                translator.OnChunk(chunk);
                translator.OnDone();
            }, "a chat completion", cancellationToken);

    private async Task<UpstreamResult> MessageAsync(UpstreamRequest request, UpstreamExchange exchange, TranslationContext context,
        CancellationToken cancellationToken)
    {
        ChatCompletionChunk? completion;
        try
        {
            // A whole chat.completion reads as one chunk whose choice carries a message instead of a delta.
            var bytes = await exchange.ReadWholeAsync(TranslatedAnswers.MaxResponseBody, cancellationToken);
            completion = JsonSerializer.Deserialize(bytes, OpenAIJsonContext.Default.ChatCompletionChunk);
        }
        catch (JsonException ex)
        {
            return UpstreamResult.NotSent(new RelayError(502, ErrorTypes.Api, $"Provider '{Name}' answered something that is not a chat completion: {ex.Message}", true));
        }
        catch (IOException ex)
        {
            _transport.LogFailure(request.Context.TraceIdentifier, ex.Message);
            return UpstreamResult.NotSent(RelayError.Unreachable(Name, ex.Message));
        }

        if (completion is null || (completion.Choices is not { Count: > 0 } && completion.Error is not null))
        {
            var error = completion?.Error;
            var info = new ChatErrorInfo(error?.Message ?? "empty answer", error?.Type, error?.Code);
            return UpstreamResult.NotSent(new RelayError(502, ErrorTypes.Api, ChatErrorMapper.Describe(Name, info), true));
        }

        // The same translation as a stream's, into the door's whole-answer writer.
        var output = new ArrayBufferWriter<byte>(4096);
        var writer = request.Door.CreateMessageWriter(output);
        ChatResponseResult result;
        using (writer as IDisposable)
        {
            result = ChatResponseTranslator.Translate(completion, context, writer);
        }

        TranslatedAnswers.LogRepairs(_transport, request, result.RepairedToolCalls, result.InvalidToolCalls);
        if (result.Failed)
        {
            return UpstreamResult.NotSent(new RelayError(502, result.ErrorType!, result.ErrorMessage ?? $"Provider '{Name}' answered an error.", true));
        }

        await TranslatedAnswers.WriteMessageAsync(request, output, cancellationToken);
        return new UpstreamResult(200, result.Usage, null, null, null, false, null);
    }

    public void Dispose() => _transport.Dispose();
}
