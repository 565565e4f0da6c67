using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Relay.Storage;
using Relay.Storage.Sqlite;
using Relay.Tests.Infrastructure;

namespace Relay.Tests;

/// <summary>The <c>relay</c> executable as a user runs it: first start, Ctrl-C, keys and usage.</summary>
public sealed partial class CliTests
{
    [Fact]
    public async Task Serve_FirstRunInAnEmptyFolder_WritesConfigAndKeyAndAnswersAtOnce()
    {
        using var dir = new TempDirectory();
        var url = $"http://127.0.0.1:{FreePort()}";
        await using var relay = RelayProcess.Start(dir.Path, "serve", "--listen", url);
        var output = await relay.WaitForOutputAsync("Press Ctrl+C", TimeSpan.FromSeconds(30));

        Assert.True(File.Exists(dir.File("relay.json")));
        Assert.True(File.Exists(dir.File("relay.db")));
        Assert.Contains($"export ANTHROPIC_BASE_URL={url}", output, StringComparison.Ordinal);
        var key = KeyPattern().Match(output).Value;
        Assert.Contains($"export ANTHROPIC_AUTH_TOKEN={key}", output, StringComparison.Ordinal);

        using var client = new HttpClient { BaseAddress = new Uri(url + "/") };
        client.DefaultRequestHeaders.Add("x-api-key", key);
        using var response = await client.PostAsync("v1/messages", JsonBody.Of(JsonBody.Message("claude-sonnet-4-6", text: "ping")), TestContext.Current.CancellationToken);
        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("Relay's mock provider", body, StringComparison.Ordinal);

        relay.Interrupt();
        Assert.Equal(0, await relay.WaitForExitAsync(TimeSpan.FromSeconds(20)));

        // A second start keeps the config and the key, and does not print a new one.
        await using var again = RelayProcess.Start(dir.Path, "serve", "--listen", url);
        var secondOutput = await again.WaitForOutputAsync("Press Ctrl+C", TimeSpan.FromSeconds(30));
        Assert.DoesNotMatch(KeyPattern(), secondOutput);
        again.Interrupt();
        Assert.Equal(0, await again.WaitForExitAsync(TimeSpan.FromSeconds(20)));
    }

    [Fact]
    public async Task Serve_CtrlCWhileStreaming_FinishesStreamsAndKeepsEveryUsageRecord()
    {
        using var dir = new TempDirectory();
        var url = $"http://127.0.0.1:{FreePort()}";
        await using var relay = RelayProcess.Start(dir.Path, "serve", "--listen", url);
        var key = KeyPattern().Match(await relay.WaitForOutputAsync("Press Ctrl+C", TimeSpan.FromSeconds(30))).Value;
        using var client = new HttpClient { BaseAddress = new Uri(url + "/") };
        client.DefaultRequestHeaders.Add("x-api-key", key);

        // The demo provider streams ~15 chunks 15 ms apart, so these are all mid-stream at the interrupt.
        var streams = Enumerable.Range(0, 20).Select(async _ =>
        {
            using var response = await client.PostAsync("v1/messages", JsonBody.Of(JsonBody.Message("claude-sonnet-4-6", stream: true)), TestContext.Current.CancellationToken);
            return await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        }).ToList();
        await Task.Delay(150, TestContext.Current.CancellationToken);
        relay.Interrupt();

        var bodies = await Task.WhenAll(streams);
        Assert.Equal(0, await relay.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.All(bodies, b => Assert.Contains("event: message_stop", b, StringComparison.Ordinal));

        await using var store = new SqliteRelayStore(dir.File("relay.db"));
        var records = await store.GetRecentUsageAsync(100, TestContext.Current.CancellationToken);
        Assert.Equal(20, records.Count);
        Assert.All(records, r => Assert.True(r.Status == 200 && r.Streamed && r.OutputTokens > 0 && r.KeyName == "default"));
    }

    [Fact]
    public async Task Serve_InvalidConfig_ExitsNonZeroNamingTheFileAndTheKey()
    {
        using var dir = new TempDirectory();
        await File.WriteAllTextAsync(dir.File("relay.json"), """
            { // a typo in a provider type
              "providers": { "demo": { "type": "mok" } },
              "models": { "claude-x": { "routes": ["demo/echo"] } }
            }
            """, TestContext.Current.CancellationToken);

        var (exit, _, stderr) = await RelayProcess.RunAsync(dir.Path, "serve");

        Assert.NotEqual(0, exit);
        Assert.Contains(dir.File("relay.json"), stderr, StringComparison.Ordinal);
        Assert.Contains("providers.demo.type", stderr, StringComparison.Ordinal);
        Assert.Contains("'mok'", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_ShortAdminKeyInTheEnvironment_IsRefusedLikeOneInTheFile()
    {
        using var dir = new TempDirectory();
        await File.WriteAllTextAsync(dir.File("relay.json"), """{ "providers": { "demo": { "type": "mock" } }, "models": { "m": { "routes": ["demo/echo"] } } }""",
            TestContext.Current.CancellationToken);

        var (exit, _, stderr) = await RelayProcess.RunAsync(dir.Path, new Dictionary<string, string?> { ["RELAY_ADMIN_KEY"] = "abc" }, "serve");

        Assert.Equal(2, exit);
        Assert.Contains("RELAY_ADMIN_KEY", stderr, StringComparison.Ordinal);
        Assert.Contains("must be at least 16 characters", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_PortAlreadyTaken_SaysSoWithoutAStackTrace()
    {
        using var dir = new TempDirectory();
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;

        var (exit, _, stderr) = await RelayProcess.RunAsync(dir.Path, "serve", "--listen", $"http://127.0.0.1:{port}");

        Assert.Equal(1, exit);
        Assert.Contains("relay: cannot listen", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Keys_CreateListRevoke()
    {
        using var dir = new TempDirectory();

        var (exit, stdout, _) = await RelayProcess.RunAsync(dir.Path, "keys", "create", "--name", "alice");
        Assert.Equal(0, exit);
        var key = stdout.TrimEnd().Split('\n')[^1].Trim();
        Assert.Matches("^sk-relay-[0-9A-Za-z]{43}$", key);

        var duplicate = await RelayProcess.RunAsync(dir.Path, "keys", "create", "--name", "alice");
        Assert.Equal(1, duplicate.ExitCode);
        Assert.Contains("already exists", duplicate.Stderr, StringComparison.Ordinal);

        var list = await RelayProcess.RunAsync(dir.Path, "keys", "list");
        Assert.Contains("alice", list.Stdout, StringComparison.Ordinal);
        Assert.Contains(key[..13], list.Stdout, StringComparison.Ordinal); // the display prefix
        Assert.DoesNotContain(key, list.Stdout, StringComparison.Ordinal);

        Assert.Equal(0, (await RelayProcess.RunAsync(dir.Path, "keys", "revoke", "alice")).ExitCode);
        Assert.DoesNotContain("alice", (await RelayProcess.RunAsync(dir.Path, "keys", "list")).Stdout, StringComparison.Ordinal);
        Assert.Contains("revoked", (await RelayProcess.RunAsync(dir.Path, "keys", "list", "--all")).Stdout, StringComparison.Ordinal);
        Assert.Equal(1, (await RelayProcess.RunAsync(dir.Path, "keys", "revoke", "alice")).ExitCode);

        // The name is free again once revoked.
        Assert.Equal(0, (await RelayProcess.RunAsync(dir.Path, "keys", "create", "--name", "alice")).ExitCode);
    }

    [Fact]
    public async Task Usage_PrintsTotalsPerKeyAndPerModel()
    {
        using var dir = new TempDirectory();
        await using (var store = new SqliteRelayStore(dir.File("relay.db")))
        {
            await store.InitializeAsync(TestContext.Current.CancellationToken);
            await store.AppendUsageAsync(
            [
                Record("alice", "claude-sonnet-4-6", 200, 1000, 50),
                Record("alice", "claude-haiku-4-5", 200, 200, 20),
                Record("bob", "claude-sonnet-4-6", 529, 0, 0),
            ], TestContext.Current.CancellationToken);
        }

        var (exit, stdout, _) = await RelayProcess.RunAsync(dir.Path, "usage");

        Assert.Equal(0, exit);
        var lines = stdout.Split('\n');
        Assert.Contains(lines, l => l.Contains("alice", StringComparison.Ordinal) && l.Contains("1,200", StringComparison.Ordinal) && l.Contains("70", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("bob", StringComparison.Ordinal) && Regex.IsMatch(l, @"\b1\b.*\b1\b")); // 1 request, 1 error
        Assert.Contains(lines, l => l.Contains("claude-sonnet-4-6", StringComparison.Ordinal) && l.Contains("1,000", StringComparison.Ordinal));
        Assert.Equal(2, lines.Count(l => l.Contains("Total", StringComparison.Ordinal) && l.Contains("1,200", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Usage_BySession_SumsEachClaudeCodeSession()
    {
        using var dir = new TempDirectory();
        await using (var store = new SqliteRelayStore(dir.File("relay.db")))
        {
            await store.InitializeAsync(TestContext.Current.CancellationToken);
            await store.AppendUsageAsync(
            [
                Record("alice", "claude-sonnet-4-6", 200, 1000, 50, "session-aaaa"),
                Record("alice", "claude-haiku-4-5", 200, 200, 20, "session-aaaa", agent: "agent-1"),
                Record("bob", "claude-sonnet-4-6", 200, 3000, 7, "session-bbbb"),
                Record("bob", "claude-sonnet-4-6", 200, 5, 5),
            ], TestContext.Current.CancellationToken);
        }

        var (exit, stdout, stderr) = await RelayProcess.RunAsync(dir.Path, "usage", "--by", "session");

        Assert.True(exit == 0, stderr);
        var lines = stdout.Split('\n');
        Assert.Contains(lines, l => l.Contains("session-aaaa", StringComparison.Ordinal) && l.Contains("1,200", StringComparison.Ordinal) && l.Contains("70", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("session-bbbb", StringComparison.Ordinal) && l.Contains("3,000", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("(no session)", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Contains("alice", StringComparison.Ordinal)); // not the per-key table
        Assert.Single(lines, l => l.Contains("Total", StringComparison.Ordinal) && l.Contains("4,205", StringComparison.Ordinal));

        var wrong = await RelayProcess.RunAsync(dir.Path, "usage", "--by", "planet");
        Assert.NotEqual(0, wrong.ExitCode);
    }

    /// <summary>The README's <c>dotnet run --project src/Relay -- serve</c> must write relay.json and relay.db into the
    /// folder the user ran it from, not into src/Relay: dotnet run starts the program in <c>RunWorkingDirectory</c>.</summary>
    [Fact]
    public async Task DotnetRun_StartsRelayInTheFolderItWasTypedIn()
    {
        using var dir = new TempDirectory();
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = dir.Path,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("msbuild");
        start.ArgumentList.Add(Path.Combine(NodeTools.RepositoryRoot, "src", "Relay", "Relay.csproj"));
        start.ArgumentList.Add("-getProperty:RunWorkingDirectory");
        start.Environment["DOTNET_NOLOGO"] = "1";
        using var msbuild = Process.Start(start)!;
        var output = await msbuild.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        await msbuild.WaitForExitAsync(TestContext.Current.CancellationToken);

        Assert.True(msbuild.ExitCode == 0, await msbuild.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken));
        Assert.Equal(Path.GetFullPath(dir.Path).TrimEnd('/'), output.Trim().TrimEnd('/'));
    }

    private static UsageRecord Record(string key, string model, int status, long input, long output, string? session = null, string? agent = null) => new()
    {
        SessionId = session,
        AgentId = agent,
        Timestamp = DateTimeOffset.UtcNow,
        RequestId = "req_" + Guid.NewGuid().ToString("N"),
        KeyId = 1,
        KeyName = key,
        Endpoint = "messages",
        RequestedModel = model,
        Provider = "up",
        UpstreamModel = "m",
        Status = status,
        ErrorType = status >= 400 ? "overloaded_error" : null,
        InputTokens = input,
        OutputTokens = output,
        DurationMs = 12,
        Streamed = false,
    };

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    [GeneratedRegex("sk-relay-[0-9A-Za-z]{43}")]
    private static partial Regex KeyPattern();
}
