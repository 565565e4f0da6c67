using Relay.Storage;
using Relay.Storage.Sqlite;
using Relay.Tests.Infrastructure;

namespace Relay.Tests;

/// <summary><c>relay usage</c> run as a user runs it: groupings, filters, cost and the cache-write split.</summary>
public sealed class UsageCliTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task ByUser_ShowsCostAndTheCacheWriteSplit_AndCountsUnpricedRequests()
    {
        await SeedAsync(
            Record("alice", "acme", "claude-sonnet-4-6", cost: 2_500_000, cacheWrite: 1000, cacheWrite1h: 600),
            Record("alice", "acme", "claude-sonnet-4-6", cost: 500_000),
            Record("bob", null, "house-model", cost: null));

        var (exit, stdout, stderr) = await RelayProcess.RunAsync(_dir.Path, "usage", "--by", "user");

        Assert.True(exit == 0, stderr);
        var lines = stdout.Split('\n');
        var acme = Assert.Single(lines, l => l.Contains("acme", StringComparison.Ordinal));
        Assert.Contains("$0.003", acme, StringComparison.Ordinal);
        Assert.Matches(@"\b400\b.*\b600\b", acme); // 5m writes, then 1h writes
        var nobody = Assert.Single(lines, l => l.Contains("(none)", StringComparison.Ordinal));
        Assert.EndsWith("-", nobody.TrimEnd(' ', '│', '|', '\r'));
        Assert.Contains(lines, l => l.Contains("Total", StringComparison.Ordinal) && l.Contains("$0.003*", StringComparison.Ordinal));
        Assert.Contains("1 of 3 requests unpriced", stdout, StringComparison.Ordinal);
        Assert.DoesNotContain(lines, l => l.Contains("claude-sonnet-4-6", StringComparison.Ordinal)); // no model table
    }

    [Fact]
    public async Task Filters_NarrowEveryTable()
    {
        var old = DateTimeOffset.UtcNow.AddDays(-3);
        await SeedAsync(
            Record("alice", null, "claude-sonnet-4-6", input: 111),
            Record("alice", null, "claude-haiku-4-5", input: 222, status: 529),
            Record("bob", null, "claude-sonnet-4-6", input: 333),
            Record("alice", null, "claude-sonnet-4-6", input: 444, at: old));

        var errors = await RelayProcess.RunAsync(_dir.Path, "usage", "--key", "alice", "--status", "error");
        Assert.True(errors.ExitCode == 0, errors.Stderr);
        Assert.Contains("222", errors.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("111", errors.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("bob", errors.Stdout, StringComparison.Ordinal);

        var recent = await RelayProcess.RunAsync(_dir.Path, "usage", "--since", "1d", "--model", "claude-sonnet-4-6", "--by", "key");
        Assert.Contains(recent.Stdout.Split('\n'), l => l.Contains("Total", StringComparison.Ordinal) && l.Contains("444", StringComparison.Ordinal)); // 111 + 333
        Assert.DoesNotContain("claude-haiku", recent.Stdout, StringComparison.Ordinal);

        var day = old.UtcDateTime.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        var byDay = await RelayProcess.RunAsync(_dir.Path, "usage", "--by", "day", "--until", day);
        Assert.Contains(byDay.Stdout.Split('\n'), l => l.Contains(day, StringComparison.Ordinal) && l.Contains("444", StringComparison.Ordinal));
        Assert.DoesNotContain("333", byDay.Stdout, StringComparison.Ordinal);

        var none = await RelayProcess.RunAsync(_dir.Path, "usage", "--user", "nobody");
        Assert.Equal((0, "No requests match."), (none.ExitCode, none.Stdout.Trim()));
    }

    [Theory]
    [InlineData("--until", "yesterday")]
    [InlineData("--since", "7x")]
    [InlineData("--status", "fine")]
    public async Task BadFilter_IsExit2WithTheReason(string option, string value)
    {
        await SeedAsync(Record("alice", null, "claude-sonnet-4-6"));

        var (exit, _, stderr) = await RelayProcess.RunAsync(_dir.Path, "usage", option, value);

        Assert.Equal(2, exit);
        Assert.Contains($"{option} '{value}'", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BySession_RefusesFiltersItCannotApply()
    {
        await SeedAsync(Record("alice", null, "claude-sonnet-4-6"));

        var (exit, _, stderr) = await RelayProcess.RunAsync(_dir.Path, "usage", "--by", "session", "--key", "alice");

        Assert.Equal(2, exit);
        Assert.Contains("--by session", stderr, StringComparison.Ordinal);
    }

    private async Task SeedAsync(params UsageRecord[] records)
    {
        await using var store = new SqliteRelayStore(_dir.File("relay.db"));
        await store.InitializeAsync(Ct);
        await store.AppendUsageAsync(records, Ct);
    }

    private static UsageRecord Record(string key, string? user, string model, long? cost = 0, long input = 10, int status = 200,
        long cacheWrite = 0, long cacheWrite1h = 0, DateTimeOffset? at = null) => new()
    {
        Timestamp = at ?? DateTimeOffset.UtcNow,
        RequestId = "req_" + Guid.NewGuid().ToString("N"),
        KeyId = 1,
        KeyName = key,
        UserName = user,
        Endpoint = "messages",
        RequestedModel = model,
        Provider = "up",
        Status = status,
        ErrorType = status >= 400 ? "overloaded_error" : null,
        InputTokens = input,
        OutputTokens = 1,
        CacheCreationInputTokens = cacheWrite,
        CacheCreation1hInputTokens = cacheWrite1h,
        CostNanos = cost,
        DurationMs = 12,
        Streamed = false,
    };
}
