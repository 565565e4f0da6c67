using System.CommandLine;
using System.Globalization;
using System.Security.Cryptography.X509Certificates;
using Relay.Tls;

namespace Relay.Cli;

/// <summary><c>relay cert</c>: a self-signed certificate to try HTTPS with, and how to make clients trust it.</summary>
internal static class CertCommand
{
    public static Command Create()
    {
        var hosts = new Option<string[]>("--host")
        {
            Description = "A host name or IP address clients use to reach Relay; repeat it (default: localhost, 127.0.0.1, ::1 and this machine's name).",
        };
        var output = new Option<string>("--out", "-o") { Description = "The folder to write relay.crt and relay.key to.", DefaultValueFactory = _ => "." };
        var days = new Option<int>("--days") { Description = $"How long it is valid (at most {SelfSignedCertificate.MaxDays}, Apple's limit).", DefaultValueFactory = _ => 365 };
        var force = new Option<bool>("--force") { Description = "Replace relay.crt and relay.key if they exist." };
        var command = new Command("cert", "Create a self-signed TLS certificate for testing https:// listening, and print how to trust it.")
        {
            hosts, output, days, force,
        };
        command.SetAction((parse, cancellationToken) => CliOptions.GuardAsync(parse, async stdout =>
        {
            var error = parse.InvocationConfiguration.Error;
            var validity = parse.GetValue(days);
            if (validity is < 1 or > SelfSignedCertificate.MaxDays)
            {
                await error.WriteLineAsync($"relay: --days must be between 1 and {SelfSignedCertificate.MaxDays}.");
                return 2;
            }

            var folder = Path.GetFullPath(parse.GetValue(output)!);
            var certificatePath = Path.Combine(folder, "relay.crt");
            var keyPath = Path.Combine(folder, "relay.key");
            if (!parse.GetValue(force) && (File.Exists(certificatePath) || File.Exists(keyPath)))
            {
                await error.WriteLineAsync($"relay: {certificatePath} or relay.key already exists; use --force to replace them.");
                return 1;
            }

            var names = parse.GetValue(hosts) is { Length: > 0 } given ? given.ToList() : SelfSignedCertificate.DefaultNames();
            using var certificate = SelfSignedCertificate.Create(names, validity, TimeProvider.System);
            Directory.CreateDirectory(folder);
            await File.WriteAllTextAsync(certificatePath, certificate.ExportCertificatePem() + "\n", cancellationToken);
            await WriteKeyAsync(certificate, keyPath, cancellationToken);

            await stdout.WriteLineAsync($"Created a self-signed certificate for {string.Join(", ", names)}, valid until {certificate.NotAfter.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)}:");
            await stdout.WriteLineAsync($"  certificate: {certificatePath}");
            await stdout.WriteLineAsync($"  private key: {keyPath}  (keep it secret)");
            await stdout.WriteLineAsync($"  SHA-256:     {SelfSignedCertificate.Fingerprint(certificate)}");
            await stdout.WriteLineAsync();
            await stdout.WriteLineAsync("Use it in relay.json:");
            await stdout.WriteLineAsync("  \"listen\": \"https://0.0.0.0:8443\",");
            await stdout.WriteLineAsync($"  \"tls\": {{ \"certificate\": \"{certificatePath.Replace("\\", "\\\\", StringComparison.Ordinal)}\", \"key\": \"{keyPath.Replace("\\", "\\\\", StringComparison.Ordinal)}\" }}");
            await stdout.WriteLineAsync();
            await stdout.WriteLineAsync("Clients refuse it until the machine they run on trusts it. Copy relay.crt there (never relay.key), then:");
            await stdout.WriteLineAsync("  macOS:    sudo security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain relay.crt");
            await stdout.WriteLineAsync("  Windows:  certutil -addstore -user Root relay.crt");
            await stdout.WriteLineAsync("            (or PowerShell: Import-Certificate -FilePath relay.crt -CertStoreLocation Cert:\\CurrentUser\\Root)");
            await stdout.WriteLineAsync("  Linux:    sudo cp relay.crt /usr/local/share/ca-certificates/relay.crt && sudo update-ca-certificates");
            await stdout.WriteLineAsync("  Claude Code also accepts it with NODE_EXTRA_CA_CERTS=/path/to/relay.crt in its environment.");
            await stdout.WriteLineAsync("Then fully quit and reopen Claude Desktop, and check with: relay doctor https://HOST:8443 --key KEY");
            await stdout.WriteLineAsync("This is for testing. For everyday use, get a certificate from a CA your machines already trust.");
            return 0;
        }));
        return command;
    }

    private static async Task WriteKeyAsync(X509Certificate2 certificate, string path, CancellationToken cancellationToken)
    {
        using var rsa = certificate.GetRSAPrivateKey()!;
        var pem = rsa.ExportPkcs8PrivateKeyPem() + "\n";
        if (OperatingSystem.IsWindows())
        {
            await File.WriteAllTextAsync(path, pem, cancellationToken);
            return;
        }

        // Created owner-only from the start, so the key is never readable by others, even briefly.
        File.Delete(path);
        await using var stream = new FileStream(path, new FileStreamOptions
        {
            Mode = FileMode.Create,
            Access = FileAccess.Write,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        });
        await using var writer = new StreamWriter(stream);
        await writer.WriteAsync(pem.AsMemory(), cancellationToken);
    }
}
