using System.Collections.Concurrent;
using System.Security.Cryptography;
using Relay.Hosting;
using Relay.Storage;

namespace Relay.Auth;

/// <summary>The outcome of checking a client's credential.</summary>
/// <param name="Key">The Relay key it matched, or null.</param>
/// <param name="Presented">Whether the client sent any credential at all.</param>
/// <param name="Foreign">Whether the credential is not shaped like a Relay key, so it may be a provider's own key that a
/// passthrough provider should see. An unmatched Relay-shaped key (revoked, mistyped, another Relay's) is never foreign:
/// it is Relay's secret and must be refused here rather than sent upstream.</param>
/// <param name="Admin">Whether the credential is Relay's admin key: never a client key, and never sent upstream.</param>
/// <param name="StoreFailed">The key could not be checked because the store failed and this instance had not seen the
/// key lately: the request is refused with a retryable 503, never served unchecked.</param>
internal readonly record struct AuthResult(StoredApiKey? Key, bool Presented, bool Foreign = false, bool Admin = false, bool StoreFailed = false);

/// <summary>Checks client credentials against the stored key hashes.</summary>
/// <remarks>
/// Valid keys are remembered for <see cref="CacheTime"/>, so the hot path does not query the database on every
/// request. Revoking through this process's store takes effect at once; from another process (the <c>relay</c>
/// CLI, another instance) at once when the change feed carries it (Redis configured), otherwise within
/// <see cref="CacheTime"/>. Unknown keys are never cached.
/// <para>While the store cannot be read (a database outage), a key this instance confirmed within
/// <see cref="OutageGrace"/> stays valid: the clients already using Relay keep working, and nothing can be revoked in
/// a database that is down. Any other key is refused with a retryable 503.</para>
/// </remarks>
internal sealed class ClientAuthenticator
{
    public static readonly TimeSpan CacheTime = TimeSpan.FromSeconds(5);

    /// <summary>How long after its last confirmation a key is still taken while the store fails.</summary>
    public static readonly TimeSpan OutageGrace = TimeSpan.FromMinutes(15);

    /// <summary>One warning per this long while the store fails, not one per request.</summary>
    private static readonly TimeSpan OutageLogInterval = TimeSpan.FromSeconds(30);

    private const int MaxCachedKeys = 10_000;

    private readonly IApiKeyStore _store;
    private readonly TimeProvider _time;
    private readonly AdminCredential _admin;
    private readonly ILogger<ClientAuthenticator> _logger;
    private readonly ConcurrentDictionary<string, (StoredApiKey Key, DateTimeOffset Expires)> _cache = new(StringComparer.Ordinal);
    private long _outageLoggedAt = long.MinValue;

    public ClientAuthenticator(IApiKeyStore store, TimeProvider time, AdminCredential admin, StoreChanges changes, ILogger<ClientAuthenticator> logger)
    {
        _store = store;
        _time = time;
        _admin = admin;
        _logger = logger;
        changes.Changed += (change, _) =>
        {
            if (change == StoreChange.Keys)
            {
                _cache.Clear();
            }
        };
    }

    public async ValueTask<AuthResult> AuthenticateAsync(IHeaderDictionary headers, CancellationToken cancellationToken)
    {
        var presented = ClientCredentials.Read(headers);
        if (presented is null)
        {
            return new AuthResult(null, false);
        }

        // Only well-formed Relay keys reach the store; anything else cannot match and may be a provider's key, except
        // the admin key, which is Relay's own secret.
        if (!presented.StartsWith(ApiKeys.Prefix, StringComparison.Ordinal))
        {
            return _admin.Matches(presented) ? new AuthResult(null, true, Admin: true) : new AuthResult(null, true, Foreign: true);
        }

        var now = _time.GetUtcNow();
        if (_cache.TryGetValue(presented, out var cached) && cached.Expires > now)
        {
            return new AuthResult(cached.Key, true);
        }

        var hash = ApiKeys.Hash(presented);
        StoredApiKey? stored;
        try
        {
            stored = await _store.FindActiveKeyAsync(hash, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            LogOutage(ex);
            return cached.Key is not null && now - (cached.Expires - CacheTime) < OutageGrace
                ? new AuthResult(cached.Key, true)
                : new AuthResult(null, true, StoreFailed: true);
        }

        if (stored is null || !CryptographicOperations.FixedTimeEquals(stored.KeyHash, hash))
        {
            _cache.TryRemove(presented, out _);
            return new AuthResult(null, true);
        }

        if (_cache.Count >= MaxCachedKeys)
        {
            _cache.Clear();
        }

        _cache[presented] = (stored, now + CacheTime);
        return new AuthResult(stored, true);
    }

    private void LogOutage(Exception exception)
    {
        var now = Environment.TickCount64;
        var last = Interlocked.Read(ref _outageLoggedAt);
        if (now - last >= (long)OutageLogInterval.TotalMilliseconds && Interlocked.CompareExchange(ref _outageLoggedAt, now, last) == last)
        {
            Log.KeyStoreUnavailable(_logger, OutageGrace.TotalMinutes, exception);
        }
    }
}
