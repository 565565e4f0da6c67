using System.Security.Cryptography;
using System.Text;
using Relay.Configuration;

namespace Relay.Auth;

/// <summary>Recognises the admin key (config <c>adminKey</c> or <c>RELAY_ADMIN_KEY</c>) by its SHA-256 hash, compared in
/// constant time: the admin endpoints accept only it, and the client endpoints refuse it.</summary>
internal sealed class AdminCredential(RelayConfig config)
{
    private readonly byte[]? _hash = AdminKey.Resolve(config) is { } key ? SHA256.HashData(Encoding.UTF8.GetBytes(key)) : null;

    /// <summary>Whether an admin key is configured at all.</summary>
    public bool Configured => _hash is not null;

    /// <summary>Whether <paramref name="presented"/> is the admin key.</summary>
    public bool Matches(string presented) =>
        _hash is not null && CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(presented)), _hash);
}
