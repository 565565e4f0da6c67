using Microsoft.Data.Sqlite;
using Relay.Auth;
using Relay.Storage;
using Relay.Storage.Accounts;
using Relay.Storage.Sqlite;
using Relay.Tests.Infrastructure;

namespace Relay.Tests;

/// <summary>The real <c>relay</c> executable managing users and keys with limits, checked in its output and in the database.</summary>
public sealed class AccountCliTests : IDisposable
{
    private const string KeyShape = "^sk-relay-[0-9A-Za-z]{43}$";

    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task KeysCreate_WithEveryOption_StoresEachLimitAndListShowsThem()
    {
        await RunOkAsync("users", "create", "alice", "--balance", "10");

        var (exit, stdout, stderr) = await RelayProcess.RunAsync(_dir.Path, "keys", "create", "--name", "laptop", "--user", "alice",
            "--models", "claude-sonnet-*, claude-haiku-4-5", "--expires", "2030-06-01T12:00:00+02:00", "--ip", "10.0.0.0/8,2001:db8::/32,203.0.113.7",
            "--rpm", "60", "--tpm", "100000", "--concurrency", "3", "--budget", "12.50", "--budget-period", "week");

        Assert.True(exit == 0, stderr);
        var key = LastLine(stdout);
        Assert.Matches(KeyShape, key);
        var stored = await FindAsync(key);
        Assert.Equal("alice", stored.UserName);
        Assert.True(stored.UserPrepaid);
        Assert.Equal(new KeyLimits
        {
            Models = ["claude-sonnet-*", "claude-haiku-4-5"],
            ExpiresAt = new DateTimeOffset(2030, 6, 1, 10, 0, 0, TimeSpan.Zero),
            AllowedIps = ["10.0.0.0/8", "2001:db8::/32", "203.0.113.7"],
            RequestsPerMinute = 60,
            TokensPerMinute = 100_000,
            Concurrency = 3,
            BudgetNanos = 12_500_000_000,
            BudgetPeriod = BudgetPeriod.Week,
        }, stored.Limits);

        var row = Row((await RunOkAsync("keys", "list")).Stdout, "laptop");
        foreach (var shown in new[]
                 {
                     "alice", "active", "models claude-sonnet-*,claude-haiku-4-5", "ip 10.0.0.0/8,2001:db8::/32,203.0.113.7", "60 rpm", "100,000 tpm",
                     "3 concurrent", "expires 2030-06-01 10:00 UTC", "$0.00", "$12.50 of $12.50 left (week)", "never",
                 })
        {
            Assert.Contains(shown, row, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task KeysCreate_ExpiryAsADuration_IsCountedFromNow()
    {
        var before = DateTimeOffset.UtcNow;

        var key = LastLine((await RunOkAsync("keys", "create", "--name", "trial", "--expires", "2w")).Stdout);

        var expires = (await FindAsync(key)).Limits.ExpiresAt;
        Assert.NotNull(expires);
        Assert.InRange(expires.Value, before.AddDays(14).AddSeconds(-1), DateTimeOffset.UtcNow.AddDays(14).AddSeconds(1));
    }

    [Fact]
    public async Task KeysUpdate_ChangesOnlyWhatIsGiven_AndNoneClears()
    {
        await RunOkAsync("users", "create", "alice");
        var key = LastLine((await RunOkAsync("keys", "create", "--name", "ci", "--user", "alice", "--rpm", "60", "--tpm", "5000",
            "--models", "claude-*", "--expires", "30d", "--budget", "5", "--budget-period", "day")).Stdout);
        var before = (await FindAsync(key)).Limits;

        var updated = await RunOkAsync("keys", "update", "ci", "--rpm", "30", "--tpm", "none");

        Assert.Contains("30 rpm", updated.Stdout, StringComparison.Ordinal);
        var after = await FindAsync(key);
        Assert.Equal(before with { RequestsPerMinute = 30, TokensPerMinute = null }, after.Limits);
        Assert.Equal("alice", after.UserName);

        await RunOkAsync("keys", "update", "ci", "--user", "none", "--expires", "never", "--models", "none", "--budget", "none");
        var cleared = await FindAsync(key);
        Assert.Null(cleared.UserName);
        Assert.Equal(new KeyLimits { RequestsPerMinute = 30 }, cleared.Limits); // the budget's period went with it

        var row = Row((await RunOkAsync("keys", "list")).Stdout, "ci");
        Assert.Matches(@"^│ ci +│ sk-relay-\S+ +│ - +│ active +│ 30 rpm +│", row);
        Assert.Contains("no budget", row, StringComparison.Ordinal);
    }

    [Fact]
    public async Task KeysUpdate_NothingGiven_MissingKey_UnknownUser()
    {
        await RunOkAsync("keys", "create", "--name", "ci");

        var nothing = await RelayProcess.RunAsync(_dir.Path, "keys", "update", "ci");
        Assert.Equal(2, nothing.ExitCode);
        Assert.Contains("nothing to change", nothing.Stderr, StringComparison.Ordinal);

        var missing = await RelayProcess.RunAsync(_dir.Path, "keys", "update", "nope", "--rpm", "5");
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("no active key is named \"nope\"", missing.Stderr, StringComparison.Ordinal);

        var unknownUser = await RelayProcess.RunAsync(_dir.Path, "keys", "update", "ci", "--user", "nobody");
        Assert.Equal(1, unknownUser.ExitCode);
        Assert.Contains("No user is named 'nobody'", unknownUser.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task KeysDisableEnable_ChangeTheStatusAndKeepTheLimits()
    {
        var key = LastLine((await RunOkAsync("keys", "create", "--name", "ci", "--rpm", "7")).Stdout);

        Assert.Contains("relay keys enable ci", (await RunOkAsync("keys", "disable", "ci")).Stdout, StringComparison.Ordinal);
        Assert.NotNull((await FindAsync(key)).DisabledAt);
        Assert.Contains("disabled", Row((await RunOkAsync("keys", "list")).Stdout, "ci"), StringComparison.Ordinal);

        await RunOkAsync("keys", "enable", "ci");
        var enabled = await FindAsync(key);
        Assert.Null(enabled.DisabledAt);
        Assert.Equal(7, enabled.Limits.RequestsPerMinute);
        Assert.Contains("active", Row((await RunOkAsync("keys", "list")).Stdout, "ci"), StringComparison.Ordinal);

        var missing = await RelayProcess.RunAsync(_dir.Path, "keys", "disable", "nope");
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("no active key is named \"nope\"", missing.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task KeysList_ShowsSpendBudgetLeftInThePeriodExpiryAndRevocation()
    {
        await RunOkAsync("keys", "create", "--name", "daily", "--budget", "10", "--budget-period", "day");
        await RunOkAsync("keys", "create", "--name", "old", "--expires", "1h");
        await RunOkAsync("keys", "create", "--name", "gone");
        await RunOkAsync("keys", "revoke", "gone");
        var today = BudgetPeriods.Start(BudgetPeriod.Day, DateTimeOffset.UtcNow).ToUnixTimeMilliseconds();
        await ExecuteAsync($"""
            UPDATE api_keys SET spent_nanos = 9000000000 WHERE name = 'daily';
            INSERT INTO key_spend (key_id, period, period_start, spent_nanos)
            SELECT id, 'day', {today}, 2500000000 FROM api_keys WHERE name = 'daily';
            UPDATE api_keys SET expires_at = {DateTimeOffset.UtcNow.AddMinutes(-1).ToUnixTimeMilliseconds()} WHERE name = 'old';
            """);

        var list = (await RunOkAsync("keys", "list")).Stdout;
        var all = (await RunOkAsync("keys", "list", "--all")).Stdout;

        var daily = Row(list, "daily");
        Assert.Contains("$9.00", daily, StringComparison.Ordinal);
        Assert.Contains("$7.50 of $10.00 left (day)", daily, StringComparison.Ordinal);
        Assert.Contains("expired", Row(list, "old"), StringComparison.Ordinal);
        Assert.DoesNotContain("gone", list, StringComparison.Ordinal);
        Assert.Contains("revoked", Row(all, "gone"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Users_CreateTopUpList()
    {
        Assert.Contains("$10.50", (await RunOkAsync("users", "create", "alice", "--balance", "10.50")).Stdout, StringComparison.Ordinal);
        Assert.Contains("not prepaid", (await RunOkAsync("users", "create", "bob")).Stdout, StringComparison.Ordinal);
        await RunOkAsync("users", "create", "carol", "--balance", "$1");
        Assert.Contains("now $12.50", (await RunOkAsync("users", "topup", "alice", "2")).Stdout, StringComparison.Ordinal);
        Assert.Contains("now $12.00", (await RunOkAsync("users", "topup", "alice", "-0.5")).Stdout, StringComparison.Ordinal);
        Assert.Contains("now $0.00", (await RunOkAsync("users", "topup", "carol", "--", "-1")).Stdout, StringComparison.Ordinal);
        await RunOkAsync("keys", "create", "--name", "a1", "--user", "alice");
        await RunOkAsync("keys", "create", "--name", "a2", "--user", "alice");

        var list = (await RunOkAsync("users", "list")).Stdout;

        var alice = Row(list, "alice");
        Assert.Contains("$12.00", alice, StringComparison.Ordinal);
        Assert.Matches(@"│\s+2\s+│", alice); // two keys
        Assert.Contains("not prepaid", Row(list, "bob"), StringComparison.Ordinal);
        Assert.Matches(@"│\s+0\s+│", Row(list, "bob"));
        Assert.Contains("$0.00", Row(list, "carol"), StringComparison.Ordinal);

        var duplicate = await RelayProcess.RunAsync(_dir.Path, "users", "create", "alice");
        Assert.Equal(1, duplicate.ExitCode);
        Assert.Contains("already exists", duplicate.Stderr, StringComparison.Ordinal);
        var nobody = await RelayProcess.RunAsync(_dir.Path, "users", "topup", "nobody", "5");
        Assert.Equal(1, nobody.ExitCode);
        Assert.Contains("no user is named \"nobody\"", nobody.Stderr, StringComparison.Ordinal);
        Assert.Contains("negative", (await RunOkAsync("users", "topup", "--help")).Stdout, StringComparison.Ordinal);
    }

    public static TheoryData<string[], string> BadKeyOptions => new()
    {
        { ["--ip", "localhost"], "--ip: 'localhost'" },
        { ["--ip", "10.1.2.3/8"], "--ip: '10.1.2.3/8'" },
        { ["--ip", "10.0.0.0/33"], "--ip: '10.0.0.0/33'" },
        { ["--ip", "fe80::1%eth0"], "--ip: 'fe80::1%eth0'" },
        { ["--models", "claude sonnet"], "--models: 'claude sonnet'" },
        { ["--models", ","], "--models:" },
        { ["--expires", "tomorrow"], "--expires: 'tomorrow'" },
        { ["--expires", "2020-01-01"], "in the past" },
        { ["--expires", "0d"], "--expires: '0d'" },
        { ["--expires", "3000000d"], "--expires: '3000000d'" },
        { ["--expires", "2147483647w"], "--expires: '2147483647w'" },
        { ["--rpm", "0"], "--rpm: '0'" },
        { ["--tpm", "1.5"], "--tpm: '1.5'" },
        { ["--concurrency", "-1"], "--concurrency: '-1'" },
        { ["--budget", "-5"], "--budget: '-5'" },
        { ["--budget", "1,000"], "--budget: '1,000'" },
        { ["--budget", "5", "--budget-period", "yearly"], "--budget-period: 'yearly'" },
        { ["--budget-period", "day"], "--budget-period needs a budget" },
        { ["--user", " "], "--user must not be empty" },
    };

    [Theory]
    [MemberData(nameof(BadKeyOptions))]
    public async Task KeysCreate_BadValue_Exit2WithTheReasonAndNoKey(string[] options, string message)
    {
        var (exit, stdout, stderr) = await RelayProcess.RunAsync(_dir.Path, ["keys", "create", "--name", "k", .. options]);

        Assert.Equal(2, exit);
        Assert.Contains(message, stderr, StringComparison.Ordinal);
        Assert.DoesNotMatch("sk-relay-", stdout);
        Assert.False(File.Exists(_dir.File("relay.db")) && (await ListAsync()).Count > 0);
    }

    [Fact]
    public async Task KeysUpdate_BadValue_Exit2AndTheKeyIsUnchanged()
    {
        var key = LastLine((await RunOkAsync("keys", "create", "--name", "k", "--rpm", "10")).Stdout);

        var (exit, _, stderr) = await RelayProcess.RunAsync(_dir.Path, "keys", "update", "k", "--rpm", "20", "--ip", "10.0.0.0/99");

        Assert.Equal(2, exit);
        Assert.Contains("--ip: '10.0.0.0/99'", stderr, StringComparison.Ordinal);
        Assert.Equal(10, (await FindAsync(key)).Limits.RequestsPerMinute);
    }

    public static TheoryData<string[]> BadAmounts => new()
    {
        new[] { "create", "alice", "--balance", "-1" },
        new[] { "create", "alice", "--balance", "ten" },
        new[] { "topup", "alice", "1.2.3" },
    };

    [Theory]
    [MemberData(nameof(BadAmounts))]
    public async Task Users_BadAmount_Exit2(string[] args)
    {
        if (args[0] == "topup")
        {
            await RunOkAsync("users", "create", "alice");
        }

        var (exit, _, stderr) = await RelayProcess.RunAsync(_dir.Path, ["users", .. args]);

        Assert.Equal(2, exit);
        Assert.Contains($"'{args[^1]}' is not an amount of US dollars", stderr, StringComparison.Ordinal);
    }

    private async Task<(string Stdout, string Stderr)> RunOkAsync(params string[] args)
    {
        var (exit, stdout, stderr) = await RelayProcess.RunAsync(_dir.Path, args);
        Assert.True(exit == 0, $"relay {string.Join(' ', args)} exited {exit}: {stderr}");
        return (stdout, stderr);
    }

    private static string LastLine(string stdout) => stdout.TrimEnd().Split('\n')[^1].Trim();

    /// <summary>The table row that names <paramref name="name"/> in its first column.</summary>
    private static string Row(string table, string name) =>
        Assert.Single(table.Split('\n'), l => l.StartsWith($"│ {name} ", StringComparison.Ordinal));

    private async Task<StoredApiKey> FindAsync(string key)
    {
        await using var store = new SqliteRelayStore(_dir.File("relay.db"));
        var stored = await store.FindActiveKeyAsync(ApiKeys.Hash(key), TestContext.Current.CancellationToken);
        Assert.NotNull(stored);
        return stored;
    }

    private async Task<IReadOnlyList<ApiKeyInfo>> ListAsync()
    {
        await using var store = new SqliteRelayStore(_dir.File("relay.db"));
        await store.InitializeAsync(TestContext.Current.CancellationToken);
        return await store.ListKeysAsync(includeRevoked: true, TestContext.Current.CancellationToken);
    }

    private async Task ExecuteAsync(string sql)
    {
        await using var connection = new SqliteConnection($"Data Source={_dir.File("relay.db")}");
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
    }
}
