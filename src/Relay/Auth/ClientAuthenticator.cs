using System.Security.Cryptography;
using Relay.Storage;

namespace Relay.Auth;

/// <summary>The outcome of checking a client's credential.</summary>
/// <param name="Key">The Relay key it matched, or null.</param>
/// <param name="Presented">Whether the client sent any credential at all.</param>
internal readonly record struct AuthResult(StoredApiKey? Key, bool Presented);

/// <summary>Checks client credentials against the stored key hashes.</summary>
internal sealed class ClientAuthenticator(IApiKeyStore store)
{
    public async ValueTask<AuthResult> AuthenticateAsync(IHeaderDictionary headers, CancellationToken cancellationToken)
    {
        var presented = ClientCredentials.Read(headers);
        if (presented is null)
        {
            return new AuthResult(null, false);
        }

        // Only well-formed Relay keys reach the store; anything else cannot match and may be a provider's key.
        if (!presented.StartsWith(ApiKeys.Prefix, StringComparison.Ordinal))
        {
            return new AuthResult(null, true);
        }

        var hash = ApiKeys.Hash(presented);
        var stored = await store.FindActiveKeyAsync(hash, cancellationToken);
        return stored is not null && CryptographicOperations.FixedTimeEquals(stored.KeyHash, hash)
            ? new AuthResult(stored, true)
            : new AuthResult(null, true);
    }
}
