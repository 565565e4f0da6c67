using Relay.Cli;
using Relay.Configuration;
using Relay.Tests.Infrastructure;

namespace Relay.Tests;

/// <summary>
/// <c>relay migrate</c>, <c>relay doctor --store</c> and the management commands on the store relay.json names: a
/// SQLite file or a real PostgreSQL database (as a <c>postgresql://</c> URL), with the password never shown.
/// </summary>
public sealed class StoreCommandsTests(SharedPostgres postgres) : IDisposable
{
    private const string Password = "pw-not-to-be-shown";

    private readonly TempDirectory _dir = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Postgres_DoctorSaysToMigrate_MigrateAppliesTheSchemaOnce_ThenDoctorPasses()
    {
        var (url, description) = await PostgresUrlAsync();
        WriteConfig(url);

        var before = await RunAsync("doctor", "--store");
        var migrated = await RunAsync("migrate");
        var again = await RunAsync("migrate");
        var after = await RunAsync("doctor", "--store");

        Assert.Equal(1, before.Exit);
        Assert.Contains($"relay doctor --store: {description}", before.Output, StringComparison.Ordinal);
        Assert.Contains("[ ok ] store answers", before.Output, StringComparison.Ordinal);
        Assert.Contains("[FAIL] schema version", before.Output, StringComparison.Ordinal);
        Assert.Contains("relay migrate", before.Output, StringComparison.Ordinal);
        Assert.Equal((0, $"{description}: schema version 1 (applied 1 migration)."), (migrated.Exit, migrated.Output.Trim()));
        Assert.Equal((0, $"{description}: schema version 1, already current."), (again.Exit, again.Output.Trim()));
        Assert.Equal(0, after.Exit);
        Assert.Contains("[ ok ] schema version", after.Output, StringComparison.Ordinal);
        Assert.All(new[] { before, migrated, again, after }, r => Assert.DoesNotContain(Password, r.Output + r.Error, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Postgres_KeysAndUsersCommands_UseTheDatabase()
    {
        var (url, _) = await PostgresUrlAsync();
        WriteConfig(url);

        Assert.Equal(0, (await RunAsync("users", "create", "alice", "--balance", "5")).Exit);
        var created = await RunAsync("keys", "create", "--name", "laptop", "--user", "alice", "--rpm", "60");
        var list = await RunAsync("keys", "list");

        Assert.True(created.Exit == 0, created.Error);
        Assert.Contains("laptop", list.Output, StringComparison.Ordinal);
        Assert.Contains("60 rpm", list.Output, StringComparison.Ordinal);
        Assert.False(File.Exists(_dir.File("relay.db")));
    }

    [Fact]
    public async Task Postgres_ServerNotAnswering_DoctorFailsWithTheReason_AndCommandsSaySo()
    {
        var url = $"postgresql://relay:{Password}@127.0.0.1:{ServerProcess.FreePort()}/relay";
        WriteConfig(url);

        var doctor = await RunAsync("doctor", "--store");
        var keys = await RunAsync("keys", "list");

        Assert.Equal(1, doctor.Exit);
        Assert.Contains("[FAIL] store answers", doctor.Output, StringComparison.Ordinal);
        Assert.Contains("[skip] schema version", doctor.Output, StringComparison.Ordinal);
        Assert.Equal(1, keys.Exit);
        Assert.Contains("the PostgreSQL store failed", keys.Error, StringComparison.Ordinal);
        Assert.All(new[] { doctor, keys }, r => Assert.DoesNotContain(Password, r.Output + r.Error, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Sqlite_MigrateCreatesTheFile_AndDoctorPasses()
    {
        var before = await RunAsync("doctor", "--store", "--json");
        var migrated = await RunAsync("migrate");
        var after = await RunAsync("doctor", "--store");

        Assert.Equal(1, before.Exit);
        Assert.Contains("\"status\": \"fail\"", before.Output, StringComparison.Ordinal);
        Assert.Equal(0, migrated.Exit);
        Assert.Matches(@"relay\.db: schema version \d+ \(applied \d+ migrations\)\.", migrated.Output);
        Assert.True(File.Exists(_dir.File("relay.db")));
        Assert.Equal(0, after.Exit);
        Assert.Contains(_dir.File("relay.db"), after.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Config_DatabaseUrlFromTheEnvironment_IsPostgres_AndABadOneIsRefusedWithoutItsPassword()
    {
        var path = _dir.File("relay.json");
        await File.WriteAllTextAsync(path, """{ "database": "${RELAY_DATABASE}" }""", Ct);

        var config = ConfigLoader.Load(path, name => name == "RELAY_DATABASE" ? $"postgres://relay:{Password}@db:5432/relay" : null);
        var error = Assert.Throws<ConfigException>(() => ConfigLoader.Load(path, _ => $"postgresql://relay:{Password}@db:70000/relay"));

        Assert.True(config.DatabaseIsPostgres);
        Assert.Contains("key database", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Password, error.Message, StringComparison.Ordinal);
    }

    private async Task<(string Url, string Description)> PostgresUrlAsync()
    {
        var server = await postgres.ServerAsync();
        var database = await server.CreateDatabaseAsync();
        // The test server trusts every local connection: the password is there to be hidden, not checked.
        var url = server.Url(database).Replace("postgresql://relay@", $"postgresql://relay:{Password}@", StringComparison.Ordinal);
        var name = new Npgsql.NpgsqlConnectionStringBuilder(database).Database;
        return (url, $"postgresql 127.0.0.1:{server.Port}/{name}");
    }

    private void WriteConfig(string database) =>
        File.WriteAllText(_dir.File("relay.json"), $$"""{ "database": "{{database}}" }""");

    private async Task<(int Exit, string Output, string Error)> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = await RelayCli.RunAsync([.. args, "--config", _dir.File("relay.json")], output, error, Ct);
        return (exit, output.ToString(), error.ToString());
    }
}
