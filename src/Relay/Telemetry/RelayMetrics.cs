using System.Diagnostics.Metrics;
using Relay.Routing;
using Relay.Storage;

namespace Relay.Telemetry;

/// <summary>
/// Relay's instruments, on one <see cref="Meter"/> named <c>Relay</c> made by the host's <see cref="IMeterFactory"/>
/// (so two hosts in one process keep their numbers apart). Names follow OpenTelemetry's GenAI semantic conventions
/// where they exist and sit under <c>relay.*</c> otherwise; labels stay bounded (no request ids, no keys).
/// </summary>
internal sealed class RelayMetrics
{
    public const string MeterName = "Relay";

    /// <summary>The GenAI conventions' suggested bucket boundaries, in seconds and in tokens.</summary>
    private static readonly double[] SecondsBuckets = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92];
    private static readonly double[] OverheadBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];
    private static readonly long[] TokenBuckets = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864];

    private readonly Counter<long> _requests;
    private readonly Counter<long> _tokens;
    private readonly Counter<double> _cost;
    private readonly Counter<long> _attempts;
    private readonly Counter<long> _retries;
    private readonly Histogram<long> _tokenUsage;
    private readonly Histogram<double> _duration;
    private readonly Histogram<double> _timeToFirstByte;
    private readonly Histogram<double> _overhead;
    private readonly UpDownCounter<long> _openStreams;

    public RelayMetrics(IMeterFactory meters, OwnMeter own, RouteHealthRegistry health)
    {
        own.Set(meters);
        var meter = meters.Create(MeterName);
        _requests = meter.CreateCounter<long>("relay.requests", "{request}", "Requests Relay answered, by model, provider and HTTP status.");
        _tokens = meter.CreateCounter<long>("relay.tokens", "{token}", "Tokens by kind: input, output, cache_read, cache_write.");
        _cost = meter.CreateCounter<double>("relay.cost", "USD", "What the requests cost at Relay's prices, in US dollars.");
        _attempts = meter.CreateCounter<long>("relay.upstream.attempts", "{attempt}", "Upstream attempts, retries included.");
        _retries = meter.CreateCounter<long>("relay.upstream.retries", "{attempt}", "Upstream attempts after a request's first.");
        _tokenUsage = meter.CreateHistogram("gen_ai.client.token.usage", "{token}", "Input and output tokens per request.",
            advice: new InstrumentAdvice<long> { HistogramBucketBoundaries = TokenBuckets });
        _duration = meter.CreateHistogram("gen_ai.client.operation.duration", "s", "Time from a request's arrival to its last byte.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = SecondsBuckets });
        _timeToFirstByte = meter.CreateHistogram("relay.time_to_first_byte", "s", "Time from a request's arrival to the first byte of its answer.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = SecondsBuckets });
        _overhead = meter.CreateHistogram("relay.overhead", "s", "Relay's own time before the upstream: from arrival to the first upstream attempt.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = OverheadBuckets });
        _openStreams = meter.CreateUpDownCounter<long>("relay.streams.open", "{stream}", "Streaming answers in progress.");
        meter.CreateObservableGauge("relay.route.circuit_state", () => CircuitStates(health), "{state}",
            "Each route's circuit breaker: 0 closed, 1 half-open, 2 open.");
    }

    public void StreamOpened() => _openStreams.Add(1);

    public void StreamClosed() => _openStreams.Add(-1);

    /// <summary>Records one finished request from its usage record, the single place that knows all of it.</summary>
    /// <param name="overheadMs">Relay's time before its first upstream attempt; null when no attempt was made.</param>
    public void RequestEnded(UsageRecord record, double? overheadMs)
    {
        // Unrouted requests carry whatever model name the client sent: one bucket keeps the label set bounded.
        var model = record.Provider is null ? "unrouted" : record.RequestedModel ?? "unrouted";
        var provider = record.Provider ?? "none";
        var modelTag = new KeyValuePair<string, object?>("gen_ai.request.model", model);
        var providerTag = new KeyValuePair<string, object?>("gen_ai.provider.name", provider);

        _requests.Add(1, modelTag, providerTag, new KeyValuePair<string, object?>("http.response.status_code", record.Status));

        AddTokens(model, provider, "input", record.InputTokens);
        AddTokens(model, provider, "output", record.OutputTokens);
        AddTokens(model, provider, "cache_read", record.CacheReadInputTokens);
        AddTokens(model, provider, "cache_write", record.CacheCreationInputTokens);
        if (record.Provider is not null && (record.InputTokens > 0 || record.OutputTokens > 0))
        {
            // The conventions count cached input as input.
            var input = record.InputTokens + record.CacheReadInputTokens + record.CacheCreationInputTokens;
            _tokenUsage.Record(input, Operation, modelTag, providerTag, ResponseModel(record), new("gen_ai.token.type", "input"));
            _tokenUsage.Record(record.OutputTokens, Operation, modelTag, providerTag, ResponseModel(record), new("gen_ai.token.type", "output"));
        }

        if (record.CostNanos is { } nanos && nanos > 0)
        {
            _cost.Add(nanos / 1e9, modelTag, providerTag);
        }

        if (record.Attempts > 0)
        {
            _attempts.Add(record.Attempts, modelTag, providerTag);
            _retries.Add(record.Attempts - 1, modelTag, providerTag);
        }

        var error = new KeyValuePair<string, object?>("error.type", record.ErrorType ?? (record.Status >= 400 ? record.Status.ToString(System.Globalization.CultureInfo.InvariantCulture) : null));
        if (error.Value is null)
        {
            _duration.Record(record.DurationMs / 1000, Operation, modelTag, providerTag, ResponseModel(record));
        }
        else
        {
            _duration.Record(record.DurationMs / 1000, Operation, modelTag, providerTag, ResponseModel(record), error);
        }

        if (record.FirstByteMs is { } firstByte)
        {
            _timeToFirstByte.Record(firstByte / 1000, modelTag, providerTag);
        }

        if (overheadMs is { } overhead)
        {
            _overhead.Record(overhead / 1000, modelTag, providerTag);
        }
    }

    private static readonly KeyValuePair<string, object?> Operation = new("gen_ai.operation.name", "chat");

    private static KeyValuePair<string, object?> ResponseModel(UsageRecord record) => new("gen_ai.response.model", record.UpstreamModel ?? "none");

    private void AddTokens(string model, string provider, string kind, long count)
    {
        if (count > 0)
        {
            _tokens.Add(count, new("gen_ai.request.model", model), new("gen_ai.provider.name", provider), new("relay.token.type", kind));
        }
    }

    private static IEnumerable<Measurement<int>> CircuitStates(RouteHealthRegistry health) =>
        health.Routes.Select(route => new Measurement<int>(
            route.Snapshot().State switch
            {
                CircuitState.Open => 2,
                CircuitState.HalfOpen => 1,
                _ => 0,
            },
            new KeyValuePair<string, object?>("relay.route", route.Key)));
}
