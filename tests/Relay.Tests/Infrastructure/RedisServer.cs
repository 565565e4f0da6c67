using System.Diagnostics;
using System.Net.Sockets;
using System.Text;

namespace Relay.Tests.Infrastructure;

/// <summary>A real Redis server of the test's own on 127.0.0.1 at a free port, without persistence, killed when
/// disposed. Redis starts in milliseconds, so a test that needs one starts its own and shares nothing.</summary>
/// <remarks>test.sh installs Redis (apt-get install redis-server) when it is missing.</remarks>
public sealed class RedisServer : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _folder;

    private RedisServer(Process process, string folder, int port)
    {
        _process = process;
        _folder = folder;
        Port = port;
    }

    public int Port { get; }

    /// <summary>The address an operator writes in relay.json.</summary>
    public string Url => $"redis://127.0.0.1:{Port}";

    public static async Task<RedisServer> StartNewAsync()
    {
        var program = ServerProcess.Find("redis-server", ["/usr/bin/redis-server"]) ?? throw new InvalidOperationException(
            "Redis is not installed: run ./test.sh, which installs it (apt-get install redis-server).");
        var folder = Path.Combine(ServerProcess.RunFolder(), "redis-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(folder);
        for (var attempt = 1; ; attempt++)
        {
            var port = ServerProcess.FreePort();
            var process = ServerProcess.Start(program,
                ["--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--dir", folder,
                 "--save", "", "--appendonly", "no", "--daemonize", "no", "--protected-mode", "yes",
                 "--pidfile", Path.Combine(folder, "redis.pid"), "--logfile", Path.Combine(folder, "redis.log")],
                user: null, redirect: false);
            var server = new RedisServer(process, folder, port);
            if (await server.WaitUntilReadyAsync())
            {
                return server;
            }

            await server.DisposeAsync();
            if (attempt == 3)
            {
                throw new InvalidOperationException($"redis-server did not start; its log: {folder}/redis.log");
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill();
                await _process.WaitForExitAsync();
            }
        }
        catch (InvalidOperationException)
        {
        }

        _process.Dispose();
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private async Task<bool> WaitUntilReadyAsync()
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (DateTime.UtcNow < deadline && !_process.HasExited)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync("127.0.0.1", Port);
                var stream = client.GetStream();
                await stream.WriteAsync("PING\r\n"u8.ToArray());
                var buffer = new byte[16];
                var read = await stream.ReadAsync(buffer);
                if (Encoding.ASCII.GetString(buffer, 0, read).StartsWith("+PONG", StringComparison.Ordinal))
                {
                    return true;
                }
            }
            catch (SocketException)
            {
            }

            await Task.Delay(20);
        }

        return false;
    }
}
