using System.Buffers;
using System.Net.Http.Headers;
using System.Text.Json;
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
/// Serves Anthropic Messages requests from a provider whose models only speak OpenAI's Responses API (the
/// gpt-5.x-codex class): <c>POST {baseUrl}/responses</c> with the whole conversation and <c>store: false</c>, and the
/// answer, streamed or not, read back as message events for the client's door.
/// </summary>
/// <remarks>
/// Errors before the provider's first byte are ordinary HTTP errors in the client's protocol, refusals (400/422) among
/// them so learned corrections apply; once a stream has begun, failures (<c>response.failed</c>, a cut before
/// <c>response.completed</c>, silence) become an error event. Usage is the provider's, from <c>response.completed</c> (a stream cut before it records
/// an output estimate from the text relayed);
/// <c>count_tokens</c> is a local estimate.
/// </remarks>
internal sealed class ResponsesUpstream : IUpstream, IDisposable
{

    private readonly UpstreamTransport _transport;
    private readonly Uri _responsesUri;
    private readonly SameProtocolPassThrough _passThrough;
    private readonly string _baseUrl;

    public ResponsesUpstream(string name, ProviderConfig config, TimeProvider time, ILogger logger)
    {
        Name = name;
        _baseUrl = config.BaseUrl!.TrimEnd('/');
        _transport = new UpstreamTransport(name, config, new ProviderCredentials(config, config.ApiKey, bearerByDefault: true), time, logger);
        _responsesUri = UpstreamConnections.OpenAIEndpoint(config.BaseUrl!, "/responses");
        _passThrough = new SameProtocolPassThrough(_transport, _responsesUri, name, ResponsesDialect.Instance);
        TokenEstimator.LoadInBackground();
    }

    public string Name { get; }

    public bool ForwardsClientCredentials => false;

    /// <summary>Probes <c>{baseUrl}/models</c> by default (the path is appended to the OpenAI-style base URL).</summary>
    public Task<string?> ProbeAsync(string? path, CancellationToken cancellationToken) =>
        _transport.ProbeAsync(_baseUrl + (path ?? "/models"), null, cancellationToken);

    /// <summary>count_tokens is a local estimate: the Responses API has no such endpoint Relay could translate to.</summary>
    public bool AnswersLocally(MessagesEndpointKind endpoint) => endpoint == MessagesEndpointKind.CountTokens;

    /// <summary>Output limits arrive already applied to the body and become <c>max_output_tokens</c>; refused parameters
    /// and schema keywords are left out. <c>max_completion_tokens</c> is a Chat Completions matter.</summary>
    public bool CanApply(CorrectionKind kind) => kind != CorrectionKind.UseMaxCompletionTokens;

    public int? ConfiguredMaxTokens(string upstreamModel) => null;

    public async Task<UpstreamResult> SendAsync(UpstreamRequest request, CancellationToken cancellationToken)
    {
        if (request.Endpoint == MessagesEndpointKind.CountTokens)
        {
            return await TranslatedAnswers.CountTokensAsync(request, cancellationToken);
        }

        if (request.Door is ResponsesDoor { Request: not null } responsesClient)
        {
            return await _passThrough.SendAsync(request, responsesClient, cancellationToken);
        }

        return await TranslatedAnswers.SendAsync(_transport, _responsesUri, request,
            body => MessagesToResponsesRequest.Write(request.Body, request.Target.UpstreamModel, body, request.Corrections.DroppedSchemaKeywords),
            (exchange, context) => StreamAsync(request, exchange, context, cancellationToken),
            (exchange, context) => MessageAsync(request, exchange, context, cancellationToken),
            cancellationToken);
    }

    private Task<UpstreamResult> StreamAsync(UpstreamRequest request, UpstreamExchange exchange, TranslationContext context,
        CancellationToken cancellationToken) =>
        TranslatedAnswers.StreamAsync(_transport, request, exchange, events => new ResponsesStreamTranslator(events, context), ChatStreamPump.RunAsync,
            static (translator, body) =>
            {
                // The provider ignored stream:true and answered one response object.
                translator.OnResponse(JsonSerializer.Deserialize(body, OpenAIJsonContext.Default.ResponseObject) ?? throw new JsonException("an empty body"));
            }, "a response object", cancellationToken);

    private async Task<UpstreamResult> MessageAsync(UpstreamRequest request, UpstreamExchange exchange, TranslationContext context,
        CancellationToken cancellationToken)
    {
        ResponseObject? answer;
        try
        {
            answer = await ReadResponseAsync(exchange, cancellationToken);
        }
        catch (JsonException ex)
        {
            return UpstreamResult.NotSent(new RelayError(502, ErrorTypes.Api, $"Provider '{Name}' answered something that is not a response object: {ex.Message}", true));
        }
        catch (IOException ex)
        {
            _transport.LogFailure(request.Context.TraceIdentifier, ex.Message);
            return UpstreamResult.NotSent(RelayError.Unreachable(Name, ex.Message));
        }

        if (answer is null)
        {
            return UpstreamResult.NotSent(new RelayError(502, ErrorTypes.Api, $"Provider '{Name}' answered an empty body.", true));
        }

        // The same translation as a stream's, into the door's whole-answer writer; nothing is sent if it failed.
        var output = new ArrayBufferWriter<byte>(4096);
        var writer = request.Door.CreateMessageWriter(output);
        var translator = new ResponsesStreamTranslator(writer, context);
        using (writer as IDisposable)
        {
            translator.OnResponse(answer);
        }

        TranslatedAnswers.LogRepairs(_transport, request, translator.RepairedToolCalls, translator.InvalidToolCalls);
        if (translator.Failed)
        {
            var status = translator.ErrorType == ErrorTypes.InvalidRequest ? 400 : 502;
            return UpstreamResult.NotSent(new RelayError(status, translator.ErrorType!, translator.ErrorMessage ?? $"Provider '{Name}' answered an error.", status != 400));
        }

        await TranslatedAnswers.WriteMessageAsync(request, output, cancellationToken);
        return new UpstreamResult(200, translator.Usage, null, null, null, false, null);
    }

    private static async Task<ResponseObject?> ReadResponseAsync(UpstreamExchange exchange, CancellationToken cancellationToken)
    {
        var bytes = await exchange.ReadWholeAsync(TranslatedAnswers.MaxResponseBody, cancellationToken);
        return JsonSerializer.Deserialize(bytes, OpenAIJsonContext.Default.ResponseObject);
    }

    public void Dispose() => _transport.Dispose();
}
