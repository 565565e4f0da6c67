using Npgsql;

namespace Relay.Tests.Infrastructure;

/// <summary>
/// A real PostgreSQL server of the tests' own: a fresh cluster in a temporary folder, listening on 127.0.0.1 at a free
/// port, stopped and deleted when disposed. It can be stopped and started again on the same port (an outage).
/// </summary>
/// <remarks>test.sh installs PostgreSQL (apt-get) when it is missing. Durability settings are off: the tests never
/// crash the machine, and a test database is thrown away.</remarks>
public sealed class PostgresServer : IAsyncDisposable
{
    private const string User = "relay";
    private const string OsUser = "postgres";

    private readonly string _bin;
    private readonly string _folder;
    private readonly string _data;
    private int _databases;

    private PostgresServer(string bin, string folder, int port)
    {
        _bin = bin;
        _folder = folder;
        _data = Path.Combine(folder, "data");
        Port = port;
    }

    public int Port { get; }

    /// <summary>The server's own maintenance database, as an Npgsql connection string.</summary>
    public string AdminConnectionString => ConnectionString("postgres");

    public static async Task<PostgresServer> StartNewAsync()
    {
        var bin = FindBin() ?? throw new InvalidOperationException(
            "PostgreSQL is not installed: run ./test.sh, which installs it (apt-get install postgresql).");
        var folder = Path.Combine(ServerProcess.RunFolder(), "pg-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(folder);
        await ServerProcess.ChownAsync(folder, OsUser);
        var server = new PostgresServer(bin, folder, ServerProcess.FreePort());
        await ServerProcess.RunAsync(Path.Combine(bin, "initdb"),
            ["-D", server._data, "-U", User, "-A", "trust", "-E", "UTF8", "--no-sync", "--no-instructions"], OsUser);
        await File.AppendAllTextAsync(Path.Combine(server._data, "postgresql.conf"), $"""

            listen_addresses = '127.0.0.1'
            port = {server.Port}
            unix_socket_directories = '{folder}'
            max_connections = 400
            fsync = off
            synchronous_commit = off
            full_page_writes = off
            """);
        await server.StartAsync();
        return server;
    }

    /// <summary>Starts the server (again, after <see cref="StopAsync"/>), waiting until it takes connections.</summary>
    public Task StartAsync() =>
        ServerProcess.RunAsync(Path.Combine(_bin, "pg_ctl"), ["-D", _data, "-l", Path.Combine(_folder, "server.log"), "-w", "-t", "60", "start"], OsUser,
            TimeSpan.FromSeconds(70));

    /// <summary>Stops the server; clients' connections break at once.</summary>
    public async Task StopAsync()
    {
        await ServerProcess.RunAsync(Path.Combine(_bin, "pg_ctl"), ["-D", _data, "-m", "fast", "-w", "stop"], OsUser);
        NpgsqlConnection.ClearAllPools();
    }

    /// <summary>A new, empty database on this server, as an Npgsql connection string.</summary>
    public async Task<string> CreateDatabaseAsync()
    {
        var name = $"relay_test_{Interlocked.Increment(ref _databases)}_{Guid.NewGuid().ToString("N")[..8]}";
        await using var connection = new NpgsqlConnection(AdminConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"CREATE DATABASE {name};", connection);
        await command.ExecuteNonQueryAsync();
        return ConnectionString(name);
    }

    /// <summary>The same database as a <c>postgresql://</c> URL, the form an operator writes in relay.json.</summary>
    public string Url(string connectionString) =>
        $"postgresql://{User}@127.0.0.1:{Port}/{new NpgsqlConnectionStringBuilder(connectionString).Database}";

    public async ValueTask DisposeAsync()
    {
        try
        {
            await ServerProcess.RunAsync(Path.Combine(_bin, "pg_ctl"), ["-D", _data, "-m", "immediate", "-w", "stop"], OsUser);
        }
        catch (InvalidOperationException)
        {
            // Already stopped.
        }

        NpgsqlConnection.ClearAllPools();
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private string ConnectionString(string database) => new NpgsqlConnectionStringBuilder
    {
        Host = "127.0.0.1",
        Port = Port,
        Username = User,
        Database = database,
    }.ConnectionString;

    private static string? FindBin()
    {
        var versions = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").OrderByDescending(d => int.TryParse(Path.GetFileName(d), out var v) ? v : 0)
            : Enumerable.Empty<string>();
        var postgres = ServerProcess.Find("postgres", versions.Select(v => Path.Combine(v, "bin", "postgres")));
        return postgres is null ? null : Path.GetDirectoryName(Path.GetFullPath(ResolveLink(postgres)));
    }

    private static string ResolveLink(string path) =>
        new FileInfo(path).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? path;
}
