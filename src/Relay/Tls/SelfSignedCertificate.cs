using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Relay.Tls;

/// <summary>
/// A self-signed server certificate for testing HTTPS (<c>relay cert</c>), shaped like ASP.NET Core's development
/// certificate so browsers, Electron (Claude Desktop) and Node accept it once it is trusted: a leaf (not a CA) with
/// serverAuth usage and every name in subjectAltName, since clients ignore the subject's CN.
/// </summary>
internal static class SelfSignedCertificate
{
    /// <summary>Apple platforms reject TLS server certificates valid for longer than this.</summary>
    public const int MaxDays = 825;

    private const string ServerAuthOid = "1.3.6.1.5.5.7.3.1";

    /// <param name="names">Host names and IP addresses the certificate is for; the first is its common name.</param>
    public static X509Certificate2 Create(IReadOnlyList<string> names, int days, TimeProvider time)
    {
        if (names.Count == 0)
        {
            throw new ArgumentException("At least one name is needed.", nameof(names));
        }

        using var key = RSA.Create(2048);
        var subject = new X500DistinguishedNameBuilder();
        subject.AddCommonName(names[0]);
        subject.AddOrganizationName("Relay self-signed certificate for testing");
        var request = new CertificateRequest(subject.Build(), key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: false, hasPathLengthConstraint: false, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(ServerAuthOid)], critical: false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        var san = new SubjectAlternativeNameBuilder();
        foreach (var name in names)
        {
            if (IPAddress.TryParse(name.Trim('[', ']'), out var ip))
            {
                san.AddIpAddress(ip);
            }
            else
            {
                san.AddDnsName(name);
            }
        }

        request.CertificateExtensions.Add(san.Build(critical: false));
        var now = time.GetUtcNow();
        // Backdated a little so a client whose clock is behind does not see a certificate from the future.
        return request.CreateSelfSigned(now.AddHours(-1), now.AddDays(days));
    }

    /// <summary>The names a default certificate covers: loopback in all its spellings, plus this machine's name.</summary>
    public static List<string> DefaultNames() => ["localhost", "127.0.0.1", "::1", Dns.GetHostName()];

    public static string Fingerprint(X509Certificate2 certificate) =>
        string.Join(':', Convert.ToHexString(certificate.GetCertHash(HashAlgorithmName.SHA256)).Chunk(2).Select(c => new string(c)));
}
