using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Relay.Tests.Infrastructure;

namespace Relay.Tests;

/// <summary>
/// Thousands of broken variants of a Claude Code-like request (byte flips, truncation, every field swapped for every other
/// JSON type, deep nesting, huge numbers, odd Unicode, odd headers) against both endpoints on a pass-through and a
/// translated route. The fake upstream answers every request validly, so any 5xx is Relay's own; none may occur, every
/// answer carries a request-id, and nothing is logged as an error. (12,000 cases take about 10 s.)
/// </summary>
public sealed class InputFuzzTests : RelayWithTwoProviders
{
    private const int Seed = 20_261_202;
    private const int Cases = 12_000;

    private readonly CountingLoggerProvider _errors = new();

    private protected override void Customize(WebApplicationBuilder builder) =>
        builder.Services.AddSingleton<ILoggerProvider>(_errors);

    /// <summary>A case: what was changed (for the failure message), where it went, and what was sent.</summary>
    private sealed record FuzzCase(int Index, string Mutation, string Path, byte[] Body, IReadOnlyList<(string Name, string Value)> Headers);

    [Fact]
    public async Task MutatedRequests_NeverGetA5xxFromRelay_AndAlwaysARequestId()
    {
        var generator = new FuzzCaseGenerator(new Random(Seed), Server.Key);
        var cases = Enumerable.Range(0, Cases).Select(generator.Next).ToList();
        using var handler = new SocketsHttpHandler
        {
            // Lets header values carry raw bytes 0x80-0xFF, as a misbehaving client's would.
            RequestHeaderEncodingSelector = (_, _) => Encoding.Latin1,
            MaxConnectionsPerServer = 8,
        };
        using var client = new HttpClient(handler) { BaseAddress = new Uri(Server.BaseUrl + "/"), Timeout = TimeSpan.FromSeconds(30) };
        var failures = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var statuses = new System.Collections.Concurrent.ConcurrentDictionary<int, int>();
        var clock = Stopwatch.StartNew();

        await Parallel.ForEachAsync(cases, new ParallelOptions { MaxDegreeOfParallelism = 6, CancellationToken = Ct }, async (fuzz, ct) =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, fuzz.Path) { Content = new ByteArrayContent(fuzz.Body) };
            foreach (var (name, value) in fuzz.Headers)
            {
                if (!request.Headers.TryAddWithoutValidation(name, value))
                {
                    request.Content.Headers.TryAddWithoutValidation(name, value);
                }
            }

            using var response = await client.SendAsync(request, ct);
            var body = await response.Content.ReadAsStringAsync(ct);
            statuses.AddOrUpdate((int)response.StatusCode, 1, (_, n) => n + 1);
            if (response.StatusCode == HttpStatusCode.BadRequest && !response.Headers.Contains("request-id") && fuzz.Headers.Any(h => HasRawBytes(h.Value)))
            {
                // Kestrel refuses such header bytes before any of Relay's code runs (docs/configuration.md, "Errors").
                statuses.AddOrUpdate(-400, 1, (_, n) => n + 1);
                return;
            }

            if ((int)response.StatusCode >= 500 || !response.Headers.Contains("request-id"))
            {
                failures.Enqueue($"case {fuzz.Index} ({fuzz.Mutation}, {fuzz.Path}): {(int)response.StatusCode} "
                    + $"request-id={response.Headers.Contains("request-id")} {body[..Math.Min(body.Length, 300)]}");
            }
        });

        var summary = $"{Cases} cases in {clock.Elapsed.TotalSeconds:F1} s, seed {Seed}; statuses "
            + string.Join(", ", statuses.OrderBy(s => s.Key).Select(s => s.Key < 0 ? $"(of those 400s, {s.Value} from Kestrel)" : $"{s.Key}×{s.Value}"));
        TestContext.Current.TestOutputHelper?.WriteLine(summary);
        Assert.True(failures.IsEmpty, $"{failures.Count} bad answers ({summary}):\n" + string.Join("\n", failures.Take(15)));
        Assert.All(Upstream.Requests, r => Assert.True(System.Text.Unicode.Utf8.IsValid(r.Body), "a provider was sent invalid UTF-8: " + r.BodyText));
        Assert.True(_errors.Errors.IsEmpty, "Relay logged errors:\n" + string.Join("\n", _errors.Errors.Take(5)));
        // The mix must reach the translators and the providers, not stop at JSON parsing.
        Assert.True(statuses.GetValueOrDefault(200) > Cases / 10, summary);
        Assert.True(statuses.GetValueOrDefault(400) > Cases / 10, summary);
    }

    /// <summary>Values sent as Latin-1 bytes: above 0x7F they are not UTF-8, which Kestrel refuses, as it refuses NUL.</summary>
    private static bool HasRawBytes(string headerValue) => headerValue.Any(c => c is '\0' or >= '\u0080');

    /// <summary>Builds the cases from one seeded <see cref="Random"/>, so a failing case can be replayed.</summary>
    private sealed class FuzzCaseGenerator(Random random, string key)
    {
        private const string Raw = "__fuzz_raw__";

        private static readonly string Fixture = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "claude-code-2.1.330-tool-followup.json"));

        private static readonly string Compact = """
            {"model":"m","max_tokens":1024,"stream":false,"temperature":1,"top_p":0.9,"top_k":5,"stop_sequences":["END"],
             "metadata":{"user_id":"user_abc"},"thinking":{"type":"enabled","budget_tokens":2048},"output_config":{"effort":"high"},
             "tool_choice":{"type":"auto","disable_parallel_tool_use":true},"context_management":{"edits":[{"type":"clear_thinking_20251015","keep":"all"}]},
             "system":[{"type":"text","text":"x-anthropic-billing-header: cc_version=2.1.330;"},{"type":"text","text":"Be brief.","cache_control":{"type":"ephemeral","ttl":"1h"}}],
             "tools":[{"name":"Bash","description":"Run a command","input_schema":{"type":"object","properties":{"command":{"type":"string"},"n":{"type":["integer","null"],"enum":[1,2]}},"required":["command"]}},
                      {"type":"web_search_20250305","name":"web_search","max_uses":3}],
             "messages":[{"role":"user","content":[{"type":"text","text":"hello"},{"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBORw0KGgo="}}]},
                         {"role":"assistant","content":[{"type":"thinking","thinking":"hmm","signature":"sig"},{"type":"tool_use","id":"toolu_1","name":"Bash","input":{"command":"ls"}}]},
                         {"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","is_error":false,"content":[{"type":"text","text":"a.txt"}]},
                                                   {"type":"document","source":{"type":"text","media_type":"text/plain","data":"doc"}}]}]}
            """;

        private static readonly string[] RawValues =
        [
            "1e400", "-1e400", "123456789012345678901234567890", "1e-400", "-0", "0.0000000000000000000001",
            "\"\\ud800\"", "\"\\udfff\"", "\"a\\ud83d\\u0041\"", "\"\\ud83d\\ude00\"", "\"\\u0000\"", "\"\\u001b[31mred\\u001b[0m\"",
            "\"\\u202eevil\"", "\"\\uffff\\ufffe\"", "\"\uFEFFbom\"", "\"e\u0301\u0301\u0301\"", "\"\u4E2D\u6587 \U0001F600\"",
        ];

        private static readonly byte[][] RawBytes = [[0xC3, 0x28], [0xED, 0xA0, 0x80], [0xC0, 0x80], [0xFF], [0xF4, 0x90, 0x80, 0x80], [0xE2, 0x82]];

        private static readonly string[] NodeValues = ["null", "true", "false", "0", "-1", "1.5", "\"\"", "\"x\"", "[]", "[[]]", "[null]", "{}", "{\"type\":7}", "[{}]", "[\"a\",1]"];

        private static readonly string[] Paths = ["v1/messages", "v1/messages?beta=true", "v1/messages/count_tokens"];

        private static readonly string[] OddHeaderValues =
        [
            "", " ", "2023-06-01, 2023-06-01", new string('a', 6000), "\u00e9\u00ff\u0080", "x\u0001y", "\u007f", "a,,,b,;=\"",
            "2023-06-01\t", "interleaved-thinking-2025-05-14,fine-grained-tool-streaming-2025-05-14,garbage!!",
        ];

        public FuzzCase Next(int index)
        {
            var model = random.Next(2) == 0 ? PassThroughModel : TranslatedModel;
            var root = JsonNode.Parse(random.Next(4) == 0 ? Fixture : Compact)!.AsObject();
            root["model"] = model;
            root["stream"] = random.Next(3) == 0;
            var path = Paths[random.Next(Paths.Length)];
            var (mutation, body) = random.Next(10) switch
            {
                0 or 1 or 2 => SwapType(root),
                3 => InjectRaw(root),
                4 => InjectBytes(root),
                5 => Nest(root),
                6 => FlipBytes(root),
                7 => Truncate(root),
                8 => ("duplicate model", Encoding.UTF8.GetBytes(root.ToJsonString().Insert(1, "\"model\":\"" + (random.Next(2) == 0 ? new string('m', 50_000) : "\u001b[2J") + "\","))),
                _ => ("headers only", Encoding.UTF8.GetBytes(root.ToJsonString())),
            };

            var headers = new List<(string, string)> { ("x-api-key", key), ("anthropic-version", "2023-06-01") };
            if (random.Next(3) == 0)
            {
                mutation += " + " + OddHeaders(headers);
            }

            if (!headers.Exists(h => h.Item1 == "content-type"))
            {
                headers.Add(("content-type", "application/json"));
            }

            return new FuzzCase(index, mutation, path, body, headers);
        }

        private string OddHeaders(List<(string Name, string Value)> headers)
        {
            var value = OddHeaderValues[random.Next(OddHeaderValues.Length)];
            var name = random.Next(6) switch
            {
                0 => "anthropic-version",
                1 => "anthropic-beta",
                2 => "content-type",
                3 => "x-claude-code-session-id",
                4 => "user-agent",
                _ => "x-stainless-retry-count",
            };
            if (name == "anthropic-version")
            {
                headers.RemoveAll(h => h.Name == name);
            }

            headers.Add((name, value));
            return $"{name}: {value[..Math.Min(value.Length, 20)]}";
        }

        /// <summary>Every node in the tree, with a setter that replaces it.</summary>
        private static List<(string Path, Action<JsonNode?> Set)> Slots(JsonNode node, string path)
        {
            var slots = new List<(string, Action<JsonNode?>)>();
            if (node is JsonObject obj)
            {
                foreach (var (name, child) in obj.ToList())
                {
                    slots.Add(($"{path}.{name}", value => obj[name] = value));
                    if (child is not null)
                    {
                        slots.AddRange(Slots(child, $"{path}.{name}"));
                    }
                }
            }
            else if (node is JsonArray array)
            {
                for (var i = 0; i < array.Count; i++)
                {
                    var at = i;
                    slots.Add(($"{path}.{i}", value => array[at] = value));
                    if (array[i] is { } child)
                    {
                        slots.AddRange(Slots(child, $"{path}.{i}"));
                    }
                }
            }

            return slots;
        }

        private (string Path, Action<JsonNode?> Set) AnySlot(JsonObject root)
        {
            var slots = Slots(root, "");
            return slots[random.Next(slots.Count)];
        }

        private (string, byte[]) SwapType(JsonObject root)
        {
            var (path, set) = AnySlot(root);
            var value = NodeValues[random.Next(NodeValues.Length)];
            set(JsonNode.Parse(value));
            return ($"{path} = {value}", Encoding.UTF8.GetBytes(root.ToJsonString()));
        }

        private (string, byte[]) InjectRaw(JsonObject root)
        {
            var (path, set) = AnySlot(root);
            var value = RawValues[random.Next(RawValues.Length)];
            set(Raw);
            return ($"{path} = {value}", Encoding.UTF8.GetBytes(root.ToJsonString().Replace($"\"{Raw}\"", value, StringComparison.Ordinal)));
        }

        private (string, byte[]) InjectBytes(JsonObject root)
        {
            var (path, set) = AnySlot(root);
            var bad = RawBytes[random.Next(RawBytes.Length)];
            set("ab" + Raw);
            var text = Encoding.UTF8.GetBytes(root.ToJsonString());
            var at = text.AsSpan().IndexOf(Encoding.UTF8.GetBytes(Raw));
            return ($"{path} = invalid UTF-8 {Convert.ToHexString(bad)}", [.. text[..at], .. bad, .. text[(at + Raw.Length)..]]);
        }

        private (string, byte[]) Nest(JsonObject root)
        {
            var (path, set) = AnySlot(root);
            var depth = new[] { 10, 62, 63, 64, 65, 500, 5000 }[random.Next(7)];
            var array = random.Next(2) == 0;
            set(Raw);
            var nested = array ? new string('[', depth) + new string(']', depth) : string.Concat(Enumerable.Repeat("{\"a\":", depth)) + "1" + new string('}', depth);
            return ($"{path} nested {depth} deep", Encoding.UTF8.GetBytes(root.ToJsonString().Replace($"\"{Raw}\"", nested, StringComparison.Ordinal)));
        }

        private (string, byte[]) FlipBytes(JsonObject root)
        {
            var body = Encoding.UTF8.GetBytes(root.ToJsonString());
            var flips = random.Next(1, 6);
            for (var i = 0; i < flips; i++)
            {
                body[random.Next(body.Length)] = (byte)random.Next(256);
            }

            return ($"{flips} byte flips", body);
        }

        private (string, byte[]) Truncate(JsonObject root)
        {
            var body = Encoding.UTF8.GetBytes(root.ToJsonString());
            var length = random.Next(body.Length);
            return ($"truncated at {length}", body[..length]);
        }
    }
}
