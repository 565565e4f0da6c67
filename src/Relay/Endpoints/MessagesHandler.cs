using Relay.Accounting;
using Relay.Auth;
using Relay.Buffers;
using Relay.Configuration;
using Relay.Doors;
using Relay.Errors;
using Relay.Hosting;
using Relay.Protocol.Anthropic;
using Relay.Protocol.Text;
using Relay.Routing;
using Relay.Storage;
using Relay.Telemetry;
using Relay.Upstreams;
using Relay.Usage;

namespace Relay.Endpoints;

/// <summary>
/// <c>POST /v1/messages</c> and <c>/v1/messages/count_tokens</c>: authenticate, read and check the body, resolve the
/// model, hand the call to the route's upstream, and record usage whatever happened (except for requests refused for
/// their key, which <see cref="UnauthenticatedRequests"/> counts instead).
/// </summary>
internal sealed class MessagesHandler(
    ClientAuthenticator authenticator,
    KeyAccess access,
    KeyAdmission admission,
    ModelCatalog catalog,
    ScenarioRouter router,
    UpstreamDispatcher dispatcher,
    UpstreamRegistry upstreams,
    UsageQueue usage,
    UnauthenticatedRequests strangers,
    RelayConfig config,
    ShutdownDrain drain,
    UsageCost costs,
    RelayMetrics metrics,
    ILogger<MessagesHandler> logger)
{
    private readonly long _bodyLimit = config.MaxRequestBodyMB * 1024L * 1024L;

    /// <summary>Serves one request that came through <paramref name="door"/>.</summary>
    public async Task HandleAsync(HttpContext context, MessagesEndpointKind endpoint, IFrontDoor door)
    {
        var timing = new RequestTiming();
        var outcome = new Outcome { Door = door };
        // Ends the request when the client leaves, or when Relay's drain time after a stop has run out.
        using var ended = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, drain.Deadline);
        try
        {
            await ProcessAsync(context, endpoint, timing, outcome, ended.Token);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away; the upstream call was cancelled with it.
            outcome.Status = 499;
            outcome.ErrorType = "client_disconnected";
        }
        catch (OperationCanceledException) when (drain.Deadline.IsCancellationRequested)
        {
            await EndForShutdownAsync(context, outcome);
        }
        catch (Exception ex)
        {
            Log.UnhandledError(logger, context.TraceIdentifier, ex);
            outcome.Status = 500;
            outcome.ErrorType = ErrorTypes.Api;
            if (!context.Response.HasStarted)
            {
                await outcome.Door.WriteErrorAsync(context, RelayError.Internal(context.TraceIdentifier));
            }
            else
            {
                context.Abort();
            }
        }
        finally
        {
            await admission.ReleaseAsync(context, outcome.Admission, outcome.Dispatch.Usage);
            await RecordAsync(context, endpoint, timing, outcome);
        }
    }

    /// <summary>Relay is stopping and the drain time is over: the client is told in its protocol (an error answer, or
    /// an error event that properly ends a stream) so it can retry elsewhere, and the record says Relay stopped it.</summary>
    private static async Task EndForShutdownAsync(HttpContext context, Outcome outcome)
    {
        const string message = "Relay is shutting down and could not finish this answer in time; retry the request.";
        outcome.ErrorType = RelayStoppedErrorType;
        try
        {
            if (!context.Response.HasStarted)
            {
                var error = new RelayError(529, ErrorTypes.Overloaded, message, true);
                outcome.Status = error.Status;
                await outcome.Door.WriteErrorAsync(context, error, TimeSpan.FromSeconds(1));
            }
            else
            {
                outcome.Status = context.Response.StatusCode;
                if (context.Response.ContentType?.StartsWith("text/event-stream", StringComparison.OrdinalIgnoreCase) == true)
                {
                    await context.Response.Body.WriteAsync(outcome.Door.StreamError(ErrorTypes.Overloaded, message), context.RequestAborted);
                }
                else
                {
                    context.Abort();
                }
            }
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or InvalidOperationException)
        {
            // The client left in the meantime; the record is still written.
        }
    }

    /// <summary>The usage record's error type for a request Relay ended because it was stopping.</summary>
    public const string RelayStoppedErrorType = "relay_stopped";

    private async Task ProcessAsync(HttpContext context, MessagesEndpointKind endpoint, RequestTiming timing, Outcome outcome, CancellationToken aborted)
    {
        // A bridge has no keys of its own: every request goes on with the client's credential, for the remote to check.
        var bridged = config.BridgeProvider is not null;
        var auth = bridged ? default : await authenticator.AuthenticateAsync(context.Request.Headers, aborted);
        outcome.Key = auth.Key;
        if (auth.Admin)
        {
            outcome.Unauthenticated = true; // not a client: no usage record
            await FailAsync(context, outcome, RelayError.AdminKeyOnClientEndpoint());
            return;
        }

        if (auth.StoreFailed)
        {
            outcome.Unauthenticated = true; // no key known to record it under
            await FailAsync(context, outcome, RelayError.KeyStoreUnavailable());
            return;
        }

        // Without a key match, only a provider that authenticates clients itself can still take the request.
        if (!bridged && auth.Key is null && !(auth.Foreign && upstreams.AnyForwardsClientCredentials))
        {
            await RefuseAsync(context, outcome, auth.Presented ? RelayError.InvalidKey() : RelayError.MissingKey());
            return;
        }

        if (auth.Key is { } key && access.Check(context, key) is { } denied)
        {
            await FailAsync(context, outcome, denied);
            return;
        }

        var (body, bodyError) = await RequestBodyReader.ReadAsync(context.Request, _bodyLimit, aborted);
        if (body is null)
        {
            await FailAsync(context, outcome, bodyError!);
            return;
        }

        using (body)
        {
            if (outcome.Door.ReadRequest(body.Memory, endpoint, out var messagesBody, out var requestError) is not { } door)
            {
                await FailAsync(context, outcome, requestError!);
                return;
            }

            outcome.Door = door;
            if (!MessagesRequestInspector.TryInspect(messagesBody.Span, endpoint, out var info, out var problem))
            {
                await FailAsync(context, outcome, RelayError.InvalidRequest(problem));
                return;
            }

            outcome.RequestedModel = ClientText.Shorten(info.Model);
            outcome.Streamed = info.Stream && endpoint == MessagesEndpointKind.Messages;
            if (auth.Key is { } restricted && access.CheckModel(restricted, info.Model) is { } notAllowed)
            {
                await FailAsync(context, outcome, notAllowed);
                return;
            }

            if (!router.TryRoute(info.Model, info, out var model, out var rule))
            {
                if (auth.Key is null)
                {
                    await RefuseAsync(context, outcome, RelayError.InvalidKey());
                }
                else
                {
                    await FailAsync(context, outcome, RelayError.NotFound($"model: {outcome.RequestedModel} is not configured in Relay ({catalog.DescribeAvailable()})."));
                }

                return;
            }

            outcome.RouteRule = rule;
            outcome.FirstRoute = model.Routes[0];

            // A scenario serves the request with another model: the key must be allowed that one too, and it is what
            // the request is priced at.
            var scenario = ScenarioRouter.IsScenario(rule);
            outcome.ClientModel = info.Model;
            outcome.PricedModel = scenario ? model.Name : info.Model;
            if (scenario && auth.Key is { } routedKey && access.CheckRoutedModel(routedKey, model.Name, rule) is { } routedNotAllowed)
            {
                await FailAsync(context, outcome, routedNotAllowed);
                return;
            }

            // A client without a Relay key may only use routes whose provider authenticates it itself.
            if (auth.Key is null && !model.Routes.All(r => upstreams[r.Provider].ForwardsClientCredentials))
            {
                await RefuseAsync(context, outcome, RelayError.InvalidKey());
                return;
            }

            if (auth.Key is { } limited && await admission.AdmitAsync(context, limited, endpoint, info, model, outcome.PricedModel, outcome.Admission, aborted) is { } refused)
            {
                await FailAsync(context, outcome, refused);
                return;
            }

            if (outcome.Streamed)
            {
                metrics.StreamOpened();
            }

            try
            {
                await dispatcher.DispatchAsync(context, door, endpoint, messagesBody, info, model, auth.Key is not null, timing, outcome.Dispatch, aborted);
            }
            finally
            {
                if (outcome.Streamed)
                {
                    metrics.StreamClosed();
                }
            }

            outcome.Status = outcome.Dispatch.Status ?? 500;
            outcome.ErrorType = outcome.Dispatch.ErrorType;
        }
    }

    /// <summary>Refuses a request that failed authentication; it is counted, but leaves no usage record.</summary>
    private async Task RefuseAsync(HttpContext context, Outcome outcome, RelayError error)
    {
        outcome.Unauthenticated = true;
        await FailAsync(context, outcome, strangers.Refuse(context, error));
    }

    private static async Task FailAsync(HttpContext context, Outcome outcome, RelayError error)
    {
        outcome.Status = error.Status;
        outcome.ErrorType = error.Type;
        await outcome.Door.WriteErrorAsync(context, error);
    }

    private async Task RecordAsync(HttpContext context, MessagesEndpointKind endpoint, RequestTiming timing, Outcome outcome)
    {
        if (outcome.Unauthenticated)
        {
            return;
        }

        var attribution = ClientAttribution.From(context.Request.Headers);
        var record = new UsageRecord
        {
            Timestamp = DateTimeOffset.UtcNow,
            RequestId = context.TraceIdentifier,
            KeyId = outcome.Key?.Id,
            KeyName = outcome.Key?.Name,
            UserId = outcome.Key?.UserId,
            UserName = outcome.Key?.UserName,
            ReservationId = outcome.Admission.ReservationId,
            Endpoint = outcome.Door.UsageEndpoint(endpoint),
            RequestedModel = outcome.RequestedModel,
            Provider = outcome.Route?.Provider,
            UpstreamModel = outcome.Route is { } route ? (route.PassesModelThrough ? outcome.RequestedModel : route.UpstreamModel) : null,
            Status = outcome.Status,
            ErrorType = outcome.ErrorType,
            InputTokens = outcome.Dispatch.Usage.InputTokens,
            OutputTokens = outcome.Dispatch.Usage.OutputTokens,
            CacheCreationInputTokens = outcome.Dispatch.Usage.CacheCreationInputTokens,
            CacheReadInputTokens = outcome.Dispatch.Usage.CacheReadInputTokens,
            CacheCreation1hInputTokens = outcome.Dispatch.Usage.CacheCreation1hInputTokens,
            ServerToolUses = outcome.Dispatch.Usage.ServerToolUses,
            CostNanos = costs.Of(endpoint, outcome.PricedModel, outcome.ClientModel, outcome.Route, outcome.Dispatch.Usage),
            FirstByteMs = timing.FirstByteMs,
            DurationMs = timing.ElapsedMs,
            Streamed = outcome.Streamed,
            Attempts = outcome.Dispatch.Attempts,
            AttemptLog = outcome.Dispatch.AttemptLog,
            RouteRule = outcome.RouteRule,
            SessionId = attribution.SessionId,
            AgentId = attribution.AgentId,
            ParentAgentId = attribution.ParentAgentId,
            RequestClass = attribution.RequestClass,
        };
        await usage.EnqueueAsync(record);
        metrics.RequestEnded(record, timing.BeforeUpstreamMs);

        if (logger.IsEnabled(LogLevel.Information))
        {
            Log.RequestCompleted(logger, record.RequestId, record.Endpoint, record.RequestedModel ?? "-",
                record.Provider is null ? "-" : $"{record.Provider}/{record.UpstreamModel}", record.Status, record.DurationMs,
                record.InputTokens, record.OutputTokens, record.CacheReadInputTokens, record.CacheCreationInputTokens, record.KeyName ?? "-");
        }
    }

    /// <summary>What the usage record will say; filled in as the request progresses.</summary>
    private sealed class Outcome
    {
        public StoredApiKey? Key { get; set; }

        /// <summary>The client's protocol; after the body is read, the door that answers this request.</summary>
        public required IFrontDoor Door { get; set; }

        /// <summary>The client's model name, shortened and made safe for records and logs.</summary>
        public string? RequestedModel { get; set; }

        /// <summary>The client's model name as sent, which a <c>provider/*</c> route passes on.</summary>
        public string? ClientModel { get; set; }

        /// <summary>The model name the request is priced at: the client's, or the model a scenario rule chose.</summary>
        public string? PricedModel { get; set; }

        /// <summary>The model's first route, until the dispatch has tried one.</summary>
        public RouteTarget? FirstRoute { get; set; }

        public RouteTarget? Route => Dispatch.Route ?? FirstRoute;

        public int Status { get; set; } = 500;

        public string? ErrorType { get; set; }

        public bool Streamed { get; set; }

        public string? RouteRule { get; set; }

        public DispatchResult Dispatch { get; } = new();

        /// <summary>What the key's limits gave this request, given back when it ends.</summary>
        public KeyAdmission.Ticket Admission { get; } = new();

        /// <summary>Refused for its key: counted by <see cref="UnauthenticatedRequests"/>, not recorded.</summary>
        public bool Unauthenticated { get; set; }
    }
}
