using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Relay.Auth;
using Relay.Configuration;
using Relay.Hosting;
using Relay.Protocol.OpenAI;
using Relay.Protocol.Translation;
using Relay.Storage.Sqlite;

// Measures the translation path (openai providers) without BenchmarkDotNet, in two parts:
//  1. in-process, one thread: request translation of a real Claude Code request, non-streaming response translation,
//     and a 40-chunk stream through the SSE pump; operations per second and bytes allocated per operation;
//  2. over loopback HTTP: Relay (real Kestrel) in front of a fake OpenAI-compatible provider; translated non-streaming
//     requests per second at a fixed concurrency, and the time to the first streamed token through Relay versus
//     straight from the provider (p50/p99), i.e. what Relay adds.
// Usage: dotnet run -c Release --project bench/Relay.TranslationBench [-- --seconds 5 --concurrency 32]
// Pin with `taskset -c 0 dotnet bench/.../Relay.TranslationBench.dll` to put everything (client, Relay, provider) on one core.
var seconds = Argument("--seconds", 5);
var concurrency = Argument("--concurrency", 32);
var requestBody = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "request.json"));

Console.WriteLine($"translation bench: {Environment.ProcessorCount} cores visible, {seconds} s per HTTP run, concurrency {concurrency}");
Console.WriteLine();
Console.WriteLine("in-process, one thread");
Micro("request: Claude Code request (17 KB, 12 tools) → Chat Completions", seconds, () =>
{
    var output = new ArrayBufferWriter<byte>(32 * 1024);
    ChatRequestTranslator.Write(requestBody, "deepseek-chat", ChatPresets.Resolve("deepseek", "deepseek-chat"), output);
});
var completionJson = Encoding.UTF8.GetBytes(Fake.CompletionJson);
Micro("response: chat.completion (text + tool call) → Anthropic message", seconds, () =>
{
    var completion = JsonSerializer.Deserialize(completionJson, OpenAIJsonContext.Default.ChatCompletion)!;
    var output = new ArrayBufferWriter<byte>(2048);
    ChatResponseTranslator.Write(completion, new TranslationContext("claude-sonnet-4-6", null), output);
});
var streamBytes = Encoding.UTF8.GetBytes(Fake.StreamBody);
Micro("stream: 40 OpenAI chunks → Anthropic SSE (parser + translator)", seconds, () =>
{
    using var upstream = new MemoryStream(streamBytes, writable: false);
    var client = new MemoryStream(8192);
    var output = new ArrayBufferWriter<byte>(4096);
    using var translator = new ChatStreamTranslator(output, new TranslationContext("claude-sonnet-4-6", null));
    ChatStreamPump.RunAsync(upstream, client, translator, output, new ChatStreamTiming(TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(1)), null, CancellationToken.None).GetAwaiter().GetResult();
});

Console.WriteLine();
Console.WriteLine("over loopback HTTP (Relay on Kestrel, fake provider on Kestrel, same process)");
await using var provider = await Fake.StartProviderAsync();
var directory = Path.Combine(Path.GetTempPath(), "relay-bench-" + Guid.NewGuid().ToString("N"));
Directory.CreateDirectory(directory);
try
{
    var config = new RelayConfig { Listen = ["http://127.0.0.1:0"], SourcePath = Path.Combine(directory, "relay.json") };
    config.Providers["compat"] = new ProviderConfig { Type = "openai", BaseUrl = provider.BaseUrl + "/v1", ApiKey = "k", Preset = "deepseek" };
    config.Models["claude-sonnet-4-6"] = new ModelConfig { Routes = ["compat/deepseek-chat"] };
    ConfigValidator.Validate(config, "bench");
    await using var store = new SqliteRelayStore(config.DatabasePath);
    await store.InitializeAsync(CancellationToken.None);
    var key = ApiKeys.Generate();
    await store.CreateKeyAsync("bench", ApiKeys.Hash(key), ApiKeys.DisplayPrefix(key), CancellationToken.None);
    var relay = RelayApp.Build(config, store, builder => builder.Logging.SetMinimumLevel(LogLevel.Error));
    await relay.StartAsync();
    var relayUrl = relay.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();

    using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 1024, UseProxy = false });
    http.DefaultRequestHeaders.Add("x-api-key", key);
    var nonStreaming = """{"model":"claude-sonnet-4-6","max_tokens":1024,"messages":[{"role":"user","content":"Hello"}]}"""u8.ToArray();
    var streaming = """{"model":"claude-sonnet-4-6","max_tokens":1024,"stream":true,"messages":[{"role":"user","content":"Hello"}]}"""u8.ToArray();

    await Load(http, relayUrl + "/v1/messages", nonStreaming, 2, concurrency); // warm-up
    var rate = await Load(http, relayUrl + "/v1/messages", nonStreaming, seconds, concurrency);
    Console.WriteLine($"  non-streaming translated requests: {rate,10:N0} req/s");

    await FirstToken(http, provider.BaseUrl + "/v1/chat/completions", Fake.ChatStreamRequest, "data: ", 200);
    await FirstToken(http, relayUrl + "/v1/messages", streaming, "event: content_block_delta", 200);
    var direct = await FirstToken(http, provider.BaseUrl + "/v1/chat/completions", Fake.ChatStreamRequest, "data: ", 1000);
    var through = await FirstToken(http, relayUrl + "/v1/messages", streaming, "event: content_block_delta", 1000);
    Console.WriteLine($"  first streamed token, direct:        p50 {Percentile(direct, 50),7:F3} ms   p99 {Percentile(direct, 99),7:F3} ms");
    Console.WriteLine($"  first streamed token, through Relay: p50 {Percentile(through, 50),7:F3} ms   p99 {Percentile(through, 99),7:F3} ms");
    Console.WriteLine($"  added by Relay at p50:               {Percentile(through, 50) - Percentile(direct, 50),7:F3} ms");
    await relay.StopAsync();
    await relay.DisposeAsync();
}
finally
{
    Directory.Delete(directory, recursive: true);
}

int Argument(string name, int fallback)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
}

static void Micro(string name, int seconds, Action operation)
{
    for (var i = 0; i < 2000; i++)
    {
        operation(); // warm-up and tiering
    }

    var count = 0L;
    var allocated = GC.GetAllocatedBytesForCurrentThread();
    var watch = Stopwatch.StartNew();
    var until = TimeSpan.FromSeconds(Math.Max(1, seconds / 2));
    while (watch.Elapsed < until)
    {
        for (var i = 0; i < 100; i++)
        {
            operation();
        }

        count += 100;
    }

    var perOp = (GC.GetAllocatedBytesForCurrentThread() - allocated) / (double)count;
    Console.WriteLine($"  {name}: {count / watch.Elapsed.TotalSeconds,10:N0} ops/s  {watch.Elapsed.TotalMicroseconds / count,8:F1} µs/op  {perOp,9:N0} B/op");
}

static async Task<double> Load(HttpClient http, string url, byte[] body, int seconds, int concurrency)
{
    var until = Stopwatch.GetTimestamp() + (long)(seconds * Stopwatch.Frequency);
    var total = 0L;
    var started = Stopwatch.GetTimestamp();
    await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
    {
        while (Stopwatch.GetTimestamp() < until)
        {
            using var content = new ByteArrayContent(body);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            using var response = await http.PostAsync(url, content);
            await response.Content.CopyToAsync(Stream.Null);
            if (!response.IsSuccessStatusCode)
            {
                throw new InvalidOperationException($"HTTP {(int)response.StatusCode}");
            }

            Interlocked.Increment(ref total);
        }
    }));
    return total / Stopwatch.GetElapsedTime(started).TotalSeconds;
}

static async Task<List<double>> FirstToken(HttpClient http, string url, byte[] body, string marker, int count)
{
    var times = new List<double>(count);
    var buffer = new byte[16 * 1024];
    var markerBytes = Encoding.UTF8.GetBytes(marker);
    for (var i = 0; i < count; i++)
    {
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = content };
        var started = Stopwatch.GetTimestamp();
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        await using var stream = await response.Content.ReadAsStreamAsync();
        var seen = new MemoryStream();
        double? first = null;
        int read;
        while ((read = await stream.ReadAsync(buffer)) > 0)
        {
            seen.Write(buffer, 0, read);
            if (first is null && seen.GetBuffer().AsSpan(0, (int)seen.Length).IndexOf(markerBytes) >= 0)
            {
                first = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            }
        }

        times.Add(first ?? double.NaN);
    }

    return times;
}

static double Percentile(List<double> values, int percentile)
{
    var sorted = values.Where(v => !double.IsNaN(v)).Order().ToList();
    return sorted.Count == 0 ? double.NaN : sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(percentile / 100.0 * sorted.Count) - 1)];
}

/// <summary>The fake OpenAI-compatible provider: a canned completion, and a stream whose first token waits 2 ms.</summary>
internal static class Fake
{
    public const string CompletionJson = """
        {"id":"chatcmpl-b","object":"chat.completion","model":"deepseek-chat","choices":[{"index":0,"message":{"role":"assistant","content":"Here is the list of files you asked for.","tool_calls":[{"id":"call_00_b","type":"function","function":{"name":"Bash","arguments":"{\"command\":\"ls -la\",\"description\":\"List files\"}"}}]},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":1200,"completion_tokens":40,"total_tokens":1240,"prompt_tokens_details":{"cached_tokens":1024}}}
        """;

    public static readonly byte[] ChatStreamRequest = """{"model":"deepseek-chat","stream":true,"messages":[{"role":"user","content":"Hello"}]}"""u8.ToArray();

    public static readonly string StreamBody = string.Concat(Enumerable.Range(0, 38).Select(i =>
        $"data: {{\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"token{i} \"}},\"finish_reason\":null}}]}}\n\n"))
        + "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n"
        + "data: {\"id\":\"c\",\"choices\":[],\"usage\":{\"prompt_tokens\":10,\"completion_tokens\":38}}\n\ndata: [DONE]\n\n";

    public static async Task<Provider> StartProviderAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var completion = Encoding.UTF8.GetBytes(CompletionJson);
        var chunks = StreamBody.Split("\n\n", StringSplitOptions.RemoveEmptyEntries).Select(c => Encoding.UTF8.GetBytes(c + "\n\n")).ToArray();
        app.Run(async context =>
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body);
            var stream = body.GetBuffer().AsSpan(0, (int)body.Length).IndexOf("\"stream\":true"u8) >= 0;
            context.Response.StatusCode = 200;
            if (!stream)
            {
                context.Response.ContentType = "application/json";
                context.Response.ContentLength = completion.Length;
                await context.Response.Body.WriteAsync(completion);
                return;
            }

            context.Response.ContentType = "text/event-stream";
            context.Features.Get<IHttpResponseBodyFeature>()!.DisableBuffering();
            await context.Response.StartAsync();
            await Task.Delay(2); // the model's time to first token
            foreach (var chunk in chunks)
            {
                await context.Response.Body.WriteAsync(chunk);
                await context.Response.Body.FlushAsync();
            }
        });
        await app.StartAsync();
        var url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/');
        return new Provider(app, url);
    }

    internal sealed record Provider(WebApplication App, string BaseUrl) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await App.StopAsync();
            await App.DisposeAsync();
        }
    }
}
