[assembly: AssemblyFixture(typeof(Relay.Tests.Infrastructure.SharedPostgres))]

namespace Relay.Tests.Infrastructure;

/// <summary>One PostgreSQL server for the whole test run, started when a test first asks for a database and stopped
/// when the run ends. Each test takes a database of its own, so tests share nothing but the server.</summary>
/// <remarks>A test that stops its server (an outage) starts its own <see cref="PostgresServer"/> instead.</remarks>
public sealed class SharedPostgres : IAsyncDisposable
{
    private readonly Lazy<Task<PostgresServer>> _server = new(PostgresServer.StartNewAsync);

    public async Task<PostgresServer> ServerAsync() => await _server.Value;

    /// <summary>A new, empty database, as an Npgsql connection string.</summary>
    public async Task<string> CreateDatabaseAsync() => await (await ServerAsync()).CreateDatabaseAsync();

    public async ValueTask DisposeAsync()
    {
        if (_server.IsValueCreated)
        {
            try
            {
                await (await _server.Value).DisposeAsync();
            }
            catch (InvalidOperationException)
            {
                // It never started; the tests that needed it have said why.
            }
        }
    }
}
