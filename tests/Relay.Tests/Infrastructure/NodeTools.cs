using System.Diagnostics;
using System.Text;

namespace Relay.Tests.Infrastructure;

/// <summary>The result of running a child process to completion.</summary>
public sealed record ProcessResult(int ExitCode, string Stdout, string Stderr)
{
    public override string ToString() => $"exit {ExitCode}\nstdout:\n{Stdout}\nstderr:\n{Stderr}";
}

/// <summary>
/// Node.js and the pinned npm projects under <c>tests/</c> (Claude Code, the TypeScript SDK). Tests that need them skip
/// only when node itself is missing; a missing <c>node_modules</c> is installed here with <c>npm ci</c>, as test.sh does.
/// </summary>
public static class NodeTools
{
    private static readonly SemaphoreSlim InstallLock = new(1, 1);

    /// <summary>The repository root (the folder with Relay.slnx).</summary>
    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    public static string? FindOnPath(string name)
    {
        foreach (var folder in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(folder, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    /// <summary>Skips the test when node is absent; otherwise makes sure the project's packages are installed.</summary>
    /// <returns>The project folder.</returns>
    public static async Task<string> RequireProjectAsync(string relativeFolder, string installedMarker)
    {
        if (FindOnPath("node") is null || FindOnPath("npm") is null)
        {
            Assert.Skip("node and npm are not installed (test.sh installs them); this test runs a real Node.js client.");
        }

        var folder = Path.Combine(RepositoryRoot, relativeFolder);
        await InstallLock.WaitAsync(TestContext.Current.CancellationToken);
        try
        {
            if (!File.Exists(Path.Combine(folder, installedMarker)))
            {
                var install = await RunAsync(FindOnPath("npm")!, ["ci", "--no-audit", "--no-fund"], folder, null, TimeSpan.FromMinutes(10));
                Assert.True(install.ExitCode == 0, $"npm ci in {folder} failed:\n{install}");
            }
        }
        finally
        {
            InstallLock.Release();
        }

        Assert.True(File.Exists(Path.Combine(folder, installedMarker)), $"{installedMarker} is missing after npm ci in {folder}");
        return folder;
    }

    /// <summary>Runs a program to completion and collects its output.</summary>
    /// <param name="environment">When given, the child gets exactly these variables (plus nothing inherited).</param>
    /// <param name="onStdoutLine">Called for each stdout line as it arrives.</param>
    public static async Task<ProcessResult> RunAsync(string fileName, IEnumerable<string> arguments, string workingDirectory,
        IReadOnlyDictionary<string, string>? environment, TimeSpan timeout, Action<string>? onStdoutLine = null)
    {
        var start = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        if (environment is not null)
        {
            start.Environment.Clear();
            foreach (var (name, value) in environment)
            {
                start.Environment[name] = value;
            }
        }

        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            lock (stdout)
            {
                stdout.AppendLine(e.Data);
            }

            onStdoutLine?.Invoke(e.Data);
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (stderr)
                {
                    stderr.AppendLine(e.Data);
                }
            }
        };
        process.Start();
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cts.CancelAfter(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
            lock (stdout)
            {
                lock (stderr)
                {
                    throw new TimeoutException($"{Path.GetFileName(fileName)} did not finish within {timeout.TotalSeconds:F0} s.\nstdout:\n{stdout}\nstderr:\n{stderr}");
                }
            }
        }

        process.WaitForExit(); // drains the redirected streams
        lock (stdout)
        {
            lock (stderr)
            {
                return new ProcessResult(process.ExitCode, stdout.ToString(), stderr.ToString());
            }
        }
    }

    private static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Relay.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"Relay.slnx not found above {AppContext.BaseDirectory}.");
    }
}
