using System.Buffers;
using System.Globalization;
using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;

namespace Relay.Bench.Upstream;

/// <summary>
/// A fake Anthropic upstream on Kestrel at 127.0.0.1. <c>POST /v1/messages</c> answers a fixed JSON message, or, when
/// the body says <c>"stream": true</c>, a fixed SSE stream: <c>message_start</c>, <c>content_block_start</c>,
/// <c>ping</c>, N <c>content_block_delta</c> events each after a pause, then <c>content_block_stop</c>,
/// <c>message_delta</c> (usage) and <c>message_stop</c>. <c>GET /</c> is a health check. With <c>--faults</c> some
/// answers fail on purpose (<see cref="FaultPlan"/>), each failure carrying <see cref="UpstreamPayloads.FaultMarker"/>.
/// </summary>
internal sealed class FakeUpstream
{
    private static readonly byte[] HealthJson = """{"name":"relay-bench-upstream","status":"ok"}"""u8.ToArray();

    private readonly UpstreamOptions _options;
    private readonly UpstreamPayloads _payloads;
    private readonly TimeSpan _delay;
    private readonly TimeSpan _gap;
    private readonly TimeSpan _slow;
    private long _requests;

    private FakeUpstream(UpstreamOptions options)
    {
        _options = options;
        _payloads = new UpstreamPayloads(options.Events);
        _delay = TimeSpan.FromMilliseconds(options.DelayMs);
        _gap = TimeSpan.FromMilliseconds(options.EventGapMs);
        _slow = TimeSpan.FromMilliseconds(options.SlowMs);
    }

    public static async Task RunAsync(UpstreamOptions options, CancellationToken cancellationToken)
    {
        var upstream = new FakeUpstream(options);
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(console => console.SingleLine = true);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Listen(IPAddress.Loopback, options.Port);
        });

        await using var app = builder.Build();
        app.Run(upstream.HandleAsync);
        await app.StartAsync(cancellationToken);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"upstream listening on {address}: delay {options.DelayMs} ms; streams of {options.Events} deltas {options.EventGapMs} ms apart "
            + $"({upstream._payloads.StreamLength} bytes); JSON answer {upstream._payloads.MessageJson.Length} bytes; faults {options.Faults.Text}"));
        await app.WaitForShutdownAsync(cancellationToken);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"upstream stopped after {Interlocked.Read(ref upstream._requests)} message requests"));
        if (!options.Faults.IsEmpty)
        {
            Console.WriteLine($"faults drawn: {options.Faults.Summary()}");
        }
    }

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        var response = context.Response;
        var aborted = context.RequestAborted;
        try
        {
            if (HttpMethods.IsGet(request.Method) && request.Path == "/")
            {
                await WriteJsonAsync(response, 200, HealthJson, aborted);
                return;
            }

            if (!HttpMethods.IsPost(request.Method) || request.Path != "/v1/messages")
            {
                await WriteJsonAsync(response, 404, UpstreamPayloads.ErrorJson("not_found_error", "Only POST /v1/messages is served."), aborted);
                return;
            }

            if (_options.ApiKey is not null && !string.Equals(request.Headers["x-api-key"], _options.ApiKey, StringComparison.Ordinal))
            {
                await WriteJsonAsync(response, 401, UpstreamPayloads.ErrorJson("authentication_error", "invalid x-api-key"), aborted);
                return;
            }

            if (string.IsNullOrEmpty(request.Headers["anthropic-version"]))
            {
                await WriteJsonAsync(response, 400, UpstreamPayloads.ErrorJson("invalid_request_error", "anthropic-version: header is required"), aborted);
                return;
            }

            var (valid, stream) = await ReadBodyAsync(request, aborted);
            if (!valid)
            {
                await WriteJsonAsync(response, 400, UpstreamPayloads.ErrorJson("invalid_request_error", "The body must be a JSON object with a model."), aborted);
                return;
            }

            var number = Interlocked.Increment(ref _requests);
            response.Headers["request-id"] = string.Create(CultureInfo.InvariantCulture, $"req_bench_{number:x12}");
            var fault = _options.Faults.Draw(stream);
            var delay = fault == Fault.Slow ? _delay + _slow : _delay;
            if (delay > TimeSpan.Zero)
            {
                await Task.Delay(delay, aborted);
            }

            switch (fault)
            {
                case Fault.Overloaded:
                    await WriteJsonAsync(response, 529, UpstreamPayloads.FaultErrorJson("overloaded_error", 529), aborted);
                    break;
                case Fault.ServerError:
                    await WriteJsonAsync(response, 500, UpstreamPayloads.FaultErrorJson("api_error", 500), aborted);
                    break;
                case Fault.RateLimited:
                    response.Headers.RetryAfter = _options.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
                    await WriteJsonAsync(response, 429, UpstreamPayloads.FaultErrorJson("rate_limit_error", 429), aborted);
                    break;
                case Fault.Html:
                    await WriteAsync(response, 200, "text/html; charset=utf-8", UpstreamPayloads.FaultPage, aborted);
                    break;
                case Fault.Cut:
                    await StreamAsync(context, Random.Shared.Next(_payloads.Deltas.Length + 3), aborted);
                    break;
                default:
                    if (stream)
                    {
                        await StreamAsync(context, cutIn: -1, aborted);
                    }
                    else
                    {
                        await WriteJsonAsync(response, 200, _payloads.MessageJson, aborted);
                    }

                    break;
            }
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            // The caller went away mid-answer; nothing to tell anyone.
        }
    }

    /// <param name="cutIn">When not negative: the stream breaks off halfway through this piece (the connection is reset
    /// after half of its bytes): 0 is <c>message_start</c>, 1 the block start and ping, then the deltas, then the tail.</param>
    private async Task StreamAsync(HttpContext context, int cutIn, CancellationToken aborted)
    {
        var response = context.Response;
        response.StatusCode = 200;
        response.ContentType = "text/event-stream; charset=utf-8";
        response.Headers.CacheControl = "no-cache";
        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();

        // PipeWriter.WriteAsync flushes, so each piece leaves as its own chunk, as a model's tokens would.
        var body = response.BodyWriter;
        var deltas = _payloads.Deltas;
        for (var i = 0; i < deltas.Length + 3; i++)
        {
            var delta = i - 2;
            if (delta >= 0 && delta < deltas.Length && _gap > TimeSpan.Zero)
            {
                await Task.Delay(_gap, aborted);
            }

            var piece = i switch
            {
                0 => _payloads.StreamHead,
                1 => _payloads.StreamBlockStart,
                _ when delta < deltas.Length => deltas[delta],
                _ => _payloads.StreamTail,
            };
            if (i == cutIn)
            {
                await body.WriteAsync(piece.AsMemory(0, piece.Length / 2), aborted);
                context.Abort();
                return;
            }

            await body.WriteAsync(piece, aborted);
        }
    }

    private static Task WriteJsonAsync(HttpResponse response, int status, byte[] json, CancellationToken aborted) =>
        WriteAsync(response, status, "application/json", json, aborted);

    private static async Task WriteAsync(HttpResponse response, int status, string contentType, byte[] body, CancellationToken aborted)
    {
        response.StatusCode = status;
        response.ContentType = contentType;
        response.ContentLength = body.Length;
        await response.BodyWriter.WriteAsync(body, aborted);
    }

    /// <summary>Reads the whole body and reports whether it is a JSON object with a model, and its top-level <c>stream</c>.</summary>
    private static async Task<(bool Valid, bool Stream)> ReadBodyAsync(HttpRequest request, CancellationToken aborted)
    {
        var reader = request.BodyReader;
        while (true)
        {
            var result = await reader.ReadAsync(aborted);
            if (result.IsCompleted)
            {
                var inspected = Inspect(result.Buffer);
                reader.AdvanceTo(result.Buffer.End);
                return inspected;
            }

            reader.AdvanceTo(result.Buffer.Start, result.Buffer.End);
        }
    }

    private static (bool Valid, bool Stream) Inspect(ReadOnlySequence<byte> body)
    {
        try
        {
            var json = new Utf8JsonReader(body, isFinalBlock: true, state: default);
            if (!json.Read() || json.TokenType != JsonTokenType.StartObject)
            {
                return (false, false);
            }

            var hasModel = false;
            var stream = false;
            while (json.Read() && json.TokenType == JsonTokenType.PropertyName)
            {
                var isModel = json.ValueTextEquals("model"u8);
                var isStream = json.ValueTextEquals("stream"u8);
                json.Read();
                if (isModel)
                {
                    hasModel = json.TokenType == JsonTokenType.String;
                }
                else if (isStream)
                {
                    stream = json.TokenType == JsonTokenType.True;
                }
                else
                {
                    json.Skip();
                }
            }

            return (hasModel && json.TokenType == JsonTokenType.EndObject, stream);
        }
        catch (JsonException)
        {
            return (false, false);
        }
    }
}
