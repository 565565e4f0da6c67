using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Relay.Tests.Infrastructure;

/// <summary>What the real database servers the tests start have in common: finding a program, a free loopback port,
/// a folder the server's user owns, and running a command to its end.</summary>
internal static class ServerProcess
{
    /// <summary>The folder every server of this test run lives under: test.sh names one it cleans up even after a
    /// crash; otherwise the temp folder.</summary>
    public static string RunFolder()
    {
        var folder = Environment.GetEnvironmentVariable("RELAY_TEST_RUN_DIR") is { Length: > 0 } fromTestSh
            ? fromTestSh
            : Path.Combine(Path.GetTempPath(), "relay-tests");
        Directory.CreateDirectory(folder);
        return folder;
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>The first of <paramref name="candidates"/> that exists, else the name found on PATH.</summary>
    public static string? Find(string name, IEnumerable<string> candidates)
    {
        foreach (var candidate in candidates)
        {
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var path = Path.Combine(directory, name);
            if (File.Exists(path))
            {
                return path;
            }
        }

        return null;
    }

    public static bool IsRoot => Environment.UserName == "root";

    /// <summary>Runs a program (as <paramref name="user"/> when the tests run as root) and waits for it to end.</summary>
    /// <exception cref="InvalidOperationException">It failed; the message has what it printed.</exception>
    public static async Task RunAsync(string program, IEnumerable<string> arguments, string? user = null, TimeSpan? timeout = null)
    {
        using var process = Start(program, arguments, user, redirect: true);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"{Path.GetFileName(program)} did not finish within {(timeout ?? TimeSpan.FromSeconds(60)).TotalSeconds} s.");
        }

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{Path.GetFileName(program)} {string.Join(' ', arguments)} exited with {process.ExitCode}: {await stdout}{await stderr}");
        }
    }

    /// <summary>Starts a program, as <paramref name="user"/> when the tests run as root (PostgreSQL refuses root).</summary>
    public static Process Start(string program, IEnumerable<string> arguments, string? user, bool redirect)
    {
        var info = new ProcessStartInfo
        {
            UseShellExecute = false,
            RedirectStandardOutput = redirect,
            RedirectStandardError = redirect,
            RedirectStandardInput = false,
        };
        if (user is not null && IsRoot)
        {
            info.FileName = "runuser";
            info.ArgumentList.Add("-u");
            info.ArgumentList.Add(user);
            info.ArgumentList.Add("--");
            info.ArgumentList.Add(program);
        }
        else
        {
            info.FileName = program;
        }

        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        return Process.Start(info) ?? throw new InvalidOperationException($"Could not start {program}.");
    }

    /// <summary>Gives <paramref name="folder"/> to <paramref name="user"/> when the tests run as root.</summary>
    public static Task ChownAsync(string folder, string user) =>
        IsRoot ? RunAsync("chown", ["-R", $"{user}:", folder]) : Task.CompletedTask;
}
