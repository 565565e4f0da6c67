using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Relay.Configuration;

namespace Relay.Tls;

/// <summary>Loads the server certificate named by <c>tls</c> in relay.json.</summary>
internal static class TlsCertificateLoader
{
    /// <summary>Loads the certificate with its private key.</summary>
    /// <exception cref="ConfigException">A file is missing or unreadable, or the key does not match.</exception>
    public static X509Certificate2 Load(RelayConfig config, string fileName)
    {
        var tls = config.Tls ?? throw new InvalidOperationException("No tls settings.");
        try
        {
            if (tls.Pfx is { } pfx)
            {
                var certificate = X509CertificateLoader.LoadPkcs12FromFile(RequireFile(config, pfx, "tls.pfx", fileName), tls.Password);
                return certificate.HasPrivateKey ? certificate : throw new ConfigException($"{fileName}: key tls.pfx: '{pfx}' holds no private key.");
            }

            var certificatePath = RequireFile(config, tls.Certificate!, "tls.certificate", fileName);
            var keyPath = RequireFile(config, tls.Key!, "tls.key", fileName);
            using var pem = X509Certificate2.CreateFromPemFile(certificatePath, keyPath);
            // Keys loaded from PEM are ephemeral, which Windows' TLS stack cannot use; a PKCS#12 round trip fixes that.
            return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
        }
        catch (CryptographicException ex)
        {
            var key = tls.Pfx is not null ? "tls.pfx" : "tls.certificate";
            throw new ConfigException($"{fileName}: key {key}: the certificate cannot be loaded: {ex.Message}"
                + (tls.Pfx is not null ? " (is tls.password right?)" : " (is tls.key the private key of this certificate, in PEM?)"));
        }
    }

    private static string RequireFile(RelayConfig config, string path, string key, string fileName)
    {
        var full = config.ResolvePath(path);
        return File.Exists(full) ? full : throw new ConfigException($"{fileName}: key {key}: the file '{full}' does not exist.");
    }
}
