using System.CommandLine;

namespace Relay.Bench.Upstream;

/// <summary><c>upstream</c>: runs the fake Anthropic upstream until stopped.</summary>
internal static class UpstreamCommand
{
    public static Command Create()
    {
        var port = new Option<int>("--port") { Description = "Port to listen on at 127.0.0.1 (0 picks a free one).", Required = true };
        var delay = new Option<int>("--delay-ms") { Description = "Pause before answering each request, in ms.", DefaultValueFactory = _ => 0 };
        var events = new Option<int>("--events") { Description = "content_block_delta events per streamed answer.", DefaultValueFactory = _ => 20 };
        var gap = new Option<int>("--event-gap-ms") { Description = "Pause before each content_block_delta, in ms.", DefaultValueFactory = _ => 5 };
        var apiKey = new Option<string?>("--api-key") { Description = "Answer 401 unless the request's x-api-key is this value." };
        var faults = new Option<string?>("--faults")
        {
            Description = "Misbehave on purpose at these rates (0-1 each), e.g. 529=0.03,500=0.02,429=0.03,cut=0.04,html=0.02,slow=0.03: "
                + "529/500/429 errors, streams cut mid-event, 200 with an HTML page, a slow first byte. Default: none.",
        };
        var slow = new Option<int>("--slow-ms") { Description = "How late the first byte of a 'slow' answer comes, in ms.", DefaultValueFactory = _ => 2000 };
        var retryAfter = new Option<int>("--retry-after") { Description = "The retry-after seconds of a 429.", DefaultValueFactory = _ => 1 };
        var command = new Command("upstream", "Run a fake Anthropic upstream answering POST /v1/messages on 127.0.0.1.")
        {
            port, delay, events, gap, apiKey, faults, slow, retryAfter,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            if (!FaultPlan.TryParse(parse.GetValue(faults), out var plan, out var faultProblem))
            {
                await Console.Error.WriteLineAsync($"upstream: {faultProblem}");
                return 2;
            }

            var options = new UpstreamOptions(parse.GetValue(port), parse.GetValue(delay), parse.GetValue(events), parse.GetValue(gap), parse.GetValue(apiKey))
            {
                Faults = plan,
                SlowMs = parse.GetValue(slow),
                RetryAfterSeconds = parse.GetValue(retryAfter),
            };
            if (options.Validate() is { } problem)
            {
                await Console.Error.WriteLineAsync($"upstream: {problem}");
                return 2;
            }

            await FakeUpstream.RunAsync(options, cancellationToken);
            return 0;
        });
        return command;
    }
}

/// <summary>How the fake upstream behaves.</summary>
internal sealed record UpstreamOptions(int Port, int DelayMs, int Events, int EventGapMs, string? ApiKey)
{
    public FaultPlan Faults { get; init; } = FaultPlan.None;

    public int SlowMs { get; init; } = 2000;

    public int RetryAfterSeconds { get; init; } = 1;

    public string? Validate() =>
        Port is < 0 or > 65535 ? "--port must be between 0 and 65535."
        : DelayMs < 0 ? "--delay-ms must not be negative."
        : Events is < 0 or > 100_000 ? "--events must be between 0 and 100000."
        : EventGapMs < 0 ? "--event-gap-ms must not be negative."
        : SlowMs < 0 ? "--slow-ms must not be negative."
        : RetryAfterSeconds < 0 ? "--retry-after must not be negative."
        : null;
}
