using Relay.Storage.Accounts;

namespace Relay.Storage;

/// <summary>Everything Relay persists. SQLite is the default; a shared database lets several instances agree.</summary>
/// <remarks>Implementations are thread-safe and hold no per-process state another instance would need.</remarks>
public interface IRelayStore : IApiKeyStore, IUserStore, IAdmissionStore, IPriceStore, IUsageStore, IProviderCorrectionStore, IAsyncDisposable
{
    /// <summary>Creates or migrates the schema. Safe to call on every start and from several processes.</summary>
    Task InitializeAsync(CancellationToken cancellationToken);

    /// <summary>The schema version the data has, read without migrating anything (<c>relay doctor --store</c>).</summary>
    Task<SchemaVersion> GetSchemaVersionAsync(CancellationToken cancellationToken);

    /// <summary>Where the data lives, for people (a file path or a server name; never a password).</summary>
    string Description { get; }
}

/// <summary>Client API keys, stored only as SHA-256 hashes, with what each may do.</summary>
public interface IApiKeyStore
{
    /// <exception cref="DuplicateKeyNameException">An active key already has this name.</exception>
    /// <exception cref="UnknownUserException">The key names a user that does not exist.</exception>
    Task<ApiKeyInfo> CreateKeyAsync(NewApiKey key, CancellationToken cancellationToken);

    /// <summary>The key with this hash unless it was revoked (disabled and expired keys too: the caller says which),
    /// with the stored hash for a constant-time comparison.</summary>
    Task<StoredApiKey?> FindActiveKeyAsync(byte[] keyHash, CancellationToken cancellationToken);

    Task<IReadOnlyList<ApiKeyInfo>> ListKeysAsync(bool includeRevoked, CancellationToken cancellationToken);

    /// <summary>The active (not revoked) key with this name, or null.</summary>
    Task<ApiKeyInfo?> FindKeyAsync(string name, CancellationToken cancellationToken);

    /// <summary>Replaces the limits and the user of the active key with this name; null when there is none.</summary>
    /// <exception cref="UnknownUserException">The user does not exist.</exception>
    Task<ApiKeyInfo?> UpdateKeyAsync(string name, KeyLimits limits, string? userName, CancellationToken cancellationToken);

    /// <summary>Disables or enables the active key with this name; false when there is none.</summary>
    Task<bool> SetKeyDisabledAsync(string name, bool disabled, CancellationToken cancellationToken);

    /// <summary>Revokes the active key with this name; false when there is none.</summary>
    Task<bool> RevokeKeyAsync(string name, CancellationToken cancellationToken);

    Task<int> CountActiveKeysAsync(CancellationToken cancellationToken);

    /// <summary>Raised after this store instance created, changed or revoked a key, or topped up a user (which may make
    /// the user's keys prepaid), so caches can drop what they hold.</summary>
    event Action? KeysChanged;
}

/// <summary>One usage record per request, appended in batches and summarised for reports.</summary>
public interface IUsageStore
{
    /// <summary>Stores the records and settles what each cost, in one step. A record whose request id is already
    /// stored is skipped with its charge, so writing a batch again (after a lost acknowledgment, or from the spool
    /// after a crash) stores and charges nothing twice.</summary>
    Task AppendUsageAsync(IReadOnlyList<UsageRecord> records, CancellationToken cancellationToken);

    Task<UsageReport> GetUsageReportAsync(DateTimeOffset? since, CancellationToken cancellationToken);

    /// <summary>Usage per client session, the most recently active first, at most <paramref name="limit"/> sessions.</summary>
    Task<IReadOnlyList<SessionUsage>> GetUsageBySessionAsync(DateTimeOffset? since, int limit, CancellationToken cancellationToken);

    /// <summary>The most recent records, newest first.</summary>
    Task<IReadOnlyList<UsageRecord>> GetRecentUsageAsync(int limit, CancellationToken cancellationToken);

    /// <summary>Up to <paramref name="limit"/> records that match <paramref name="filter"/>, newest first; only those
    /// with an id below <paramref name="beforeId"/> when it is given (the previous page's <see cref="UsagePage.NextBeforeId"/>).</summary>
    Task<UsagePage> GetUsagePageAsync(UsageFilter filter, long? beforeId, int limit, CancellationToken cancellationToken);

    /// <summary>The records that match <paramref name="filter"/>, summed per <paramref name="by"/>: days oldest first,
    /// other groups by cost, then by tokens, largest first.</summary>
    Task<IReadOnlyList<UsageGroupTotals>> GetUsageTotalsAsync(UsageFilter filter, UsageGrouping by, CancellationToken cancellationToken);
}

public sealed class DuplicateKeyNameException(string name)
    : Exception($"An active key named '{name}' already exists; revoke it first or choose another name.");
