using System.Security.Cryptography;
using Relay.Storage;

namespace Relay.Auth;

/// <summary>The outcome of checking a client's credential.</summary>
/// <param name="Key">The Relay key it matched, or null.</param>
/// <param name="Presented">Whether the client sent any credential at all.</param>
/// <param name="Foreign">Whether the credential is not shaped like a Relay key, so it may be a provider's own key that a
/// passthrough provider should see. An unmatched Relay-shaped key (revoked, mistyped, another Relay's) is never foreign:
/// it is Relay's secret and must be refused here rather than sent upstream.</param>
internal readonly record struct AuthResult(StoredApiKey? Key, bool Presented, bool Foreign = false);

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
            return new AuthResult(null, true, Foreign: true);
        }

        var hash = ApiKeys.Hash(presented);
        var stored = await store.FindActiveKeyAsync(hash, cancellationToken);
        return stored is not null && CryptographicOperations.FixedTimeEquals(stored.KeyHash, hash)
            ? new AuthResult(stored, true)
            : new AuthResult(null, true);
    }
}
