using Relay.Storage.Accounts;

namespace Relay.Storage.Memory;

// Client keys: creating them with a user and limits, looking them up, changing them.
public sealed partial class MemoryRelayStore
{
    private readonly List<MemoryKey> _keys = [];

    public Task<ApiKeyInfo> CreateKeyAsync(NewApiKey key, CancellationToken cancellationToken)
    {
        ApiKeyInfo info;
        lock (_lock)
        {
            var user = UserLocked(key.UserName);
            if (_keys.Any(k => k.Name == key.Name && k.RevokedAt is null))
            {
                throw new DuplicateKeyNameException(key.Name);
            }

            var stored = new MemoryKey(_keys.Count + 1, key.Name, key.KeyHash, key.DisplayPrefix, DateTimeOffset.UtcNow)
            {
                UserId = user?.Id,
                Limits = key.Limits,
            };
            _keys.Add(stored);
            info = InfoLocked(stored, DateTimeOffset.UtcNow);
        }

        KeysChanged?.Invoke();
        return Task.FromResult(info);
    }

    public Task<StoredApiKey?> FindActiveKeyAsync(byte[] keyHash, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            var key = _keys.FirstOrDefault(k => k.RevokedAt is null && k.Hash.AsSpan().SequenceEqual(keyHash));
            if (key is null)
            {
                return Task.FromResult<StoredApiKey?>(null);
            }

            var user = key.UserId is { } userId ? _users.Find(u => u.Id == userId) : null;
            return Task.FromResult<StoredApiKey?>(new StoredApiKey(key.Id, key.Name, key.Hash)
            {
                UserId = user?.Id,
                UserName = user?.Name,
                UserPrepaid = user?.BalanceNanos is not null,
                Limits = key.Limits,
                DisabledAt = key.DisabledAt,
            });
        }
    }

    public Task<IReadOnlyList<ApiKeyInfo>> ListKeysAsync(bool includeRevoked, CancellationToken cancellationToken)
    {
        var now = DateTimeOffset.UtcNow;
        lock (_lock)
        {
            return Task.FromResult<IReadOnlyList<ApiKeyInfo>>(_keys.Where(k => includeRevoked || k.RevokedAt is null).Select(k => InfoLocked(k, now)).ToList());
        }
    }

    public Task<ApiKeyInfo?> FindKeyAsync(string name, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            var key = ActiveKeyLocked(name);
            return Task.FromResult(key is null ? null : InfoLocked(key, DateTimeOffset.UtcNow));
        }
    }

    public Task<ApiKeyInfo?> UpdateKeyAsync(string name, KeyLimits limits, string? userName, CancellationToken cancellationToken)
    {
        ApiKeyInfo info;
        lock (_lock)
        {
            var user = UserLocked(userName);
            var key = ActiveKeyLocked(name);
            if (key is null)
            {
                return Task.FromResult<ApiKeyInfo?>(null);
            }

            key.UserId = user?.Id;
            key.Limits = limits;
            info = InfoLocked(key, DateTimeOffset.UtcNow);
        }

        KeysChanged?.Invoke();
        return Task.FromResult<ApiKeyInfo?>(info);
    }

    public Task<bool> SetKeyDisabledAsync(string name, bool disabled, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            var key = ActiveKeyLocked(name);
            if (key is null)
            {
                return Task.FromResult(false);
            }

            key.DisabledAt = disabled ? key.DisabledAt ?? DateTimeOffset.UtcNow : null;
        }

        KeysChanged?.Invoke();
        return Task.FromResult(true);
    }

    public Task<bool> RevokeKeyAsync(string name, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            var key = ActiveKeyLocked(name);
            if (key is null)
            {
                return Task.FromResult(false);
            }

            key.RevokedAt = DateTimeOffset.UtcNow;
        }

        KeysChanged?.Invoke();
        return Task.FromResult(true);
    }

    public Task<int> CountActiveKeysAsync(CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            return Task.FromResult(_keys.Count(k => k.RevokedAt is null));
        }
    }

    private MemoryKey? ActiveKeyLocked(string name) => _keys.Find(k => k.Name == name && k.RevokedAt is null);

    private ApiKeyInfo InfoLocked(MemoryKey key, DateTimeOffset now)
    {
        var period = key.Limits.BudgetPeriod;
        var lastUsed = _usage.FirstOrDefault(r => r.KeyId == key.Id)?.Timestamp; // newest first
        return new ApiKeyInfo(key.Id, key.Name, key.DisplayPrefix, key.CreatedAt, key.RevokedAt, lastUsed)
        {
            UserName = key.UserId is { } userId ? _users.Find(u => u.Id == userId)?.Name : null,
            Limits = key.Limits,
            DisabledAt = key.DisabledAt,
            SpentNanos = key.SpentNanos,
            PeriodSpentNanos = period == BudgetPeriod.Total
                ? key.SpentNanos
                : key.PeriodSpent.GetValueOrDefault((period, BudgetPeriods.Start(period, now))),
        };
    }

    /// <summary>A key and what it has spent; read and written only under <see cref="_lock"/>.</summary>
    private sealed class MemoryKey(long id, string name, byte[] hash, string displayPrefix, DateTimeOffset createdAt)
    {
        public long Id { get; } = id;

        public string Name { get; } = name;

        public byte[] Hash { get; } = hash;

        public string DisplayPrefix { get; } = displayPrefix;

        public DateTimeOffset CreatedAt { get; } = createdAt;

        public DateTimeOffset? RevokedAt { get; set; }

        public DateTimeOffset? DisabledAt { get; set; }

        public long? UserId { get; set; }

        public KeyLimits Limits { get; set; } = KeyLimits.None;

        /// <summary>Everything the key spent over its life.</summary>
        public long SpentNanos { get; set; }

        /// <summary>Spend per budget period, by the period's start (<see cref="BudgetPeriods.Start"/>).</summary>
        public Dictionary<(BudgetPeriod Period, DateTimeOffset Start), long> PeriodSpent { get; } = [];
    }
}
