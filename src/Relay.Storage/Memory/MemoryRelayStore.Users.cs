using Relay.Storage.Accounts;

namespace Relay.Storage.Memory;

// Users: creating them, topping up their balance, reading them.
public sealed partial class MemoryRelayStore
{
    private readonly List<MemoryUser> _users = [];

    public Task<UserInfo> CreateUserAsync(string name, long? balanceNanos, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (_users.Exists(u => u.Name == name))
            {
                throw new DuplicateUserNameException(name);
            }

            var user = new MemoryUser(_users.Count + 1, name, DateTimeOffset.UtcNow) { BalanceNanos = balanceNanos };
            _users.Add(user);
            return Task.FromResult(UserInfoLocked(user, DateTimeOffset.UtcNow));
        }
    }

    public Task<UserInfo?> TopUpAsync(string name, long nanos, CancellationToken cancellationToken)
    {
        UserInfo info;
        lock (_lock)
        {
            var user = _users.Find(u => u.Name == name);
            if (user is null)
            {
                return Task.FromResult<UserInfo?>(null);
            }

            user.BalanceNanos = (user.BalanceNanos ?? 0) + nanos;
            info = UserInfoLocked(user, DateTimeOffset.UtcNow);
        }

        // A user without a balance becomes prepaid: cached keys must learn it now, not when their cache time runs out.
        KeysChanged?.Invoke();
        return Task.FromResult<UserInfo?>(info);
    }

    public Task<UserInfo?> FindUserAsync(string name, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            var user = _users.Find(u => u.Name == name);
            return Task.FromResult(user is null ? null : UserInfoLocked(user, DateTimeOffset.UtcNow));
        }
    }

    public Task<IReadOnlyList<UserInfo>> ListUsersAsync(CancellationToken cancellationToken)
    {
        var now = DateTimeOffset.UtcNow;
        lock (_lock)
        {
            return Task.FromResult<IReadOnlyList<UserInfo>>(
                _users.OrderBy(u => u.Name, StringComparer.Ordinal).Select(u => UserInfoLocked(u, now)).ToList());
        }
    }

    /// <summary>The user with this name; null for no name.</summary>
    /// <exception cref="UnknownUserException">No user has this name.</exception>
    private MemoryUser? UserLocked(string? name) =>
        name is null ? null : _users.Find(u => u.Name == name) ?? throw new UnknownUserException(name);

    private UserInfo UserInfoLocked(MemoryUser user, DateTimeOffset now) => new(
        user.Id,
        user.Name,
        user.BalanceNanos,
        user.SpentNanos,
        _reservations.Values.Where(r => r.UserId == user.Id && r.ExpiresAt > now).Sum(r => r.ReservedNanos),
        user.CreatedAt,
        _keys.Count(k => k.UserId == user.Id && k.RevokedAt is null));

    /// <summary>A user and their money; read and written only under <see cref="_lock"/>.</summary>
    private sealed class MemoryUser(long id, string name, DateTimeOffset createdAt)
    {
        public long Id { get; } = id;

        public string Name { get; } = name;

        public DateTimeOffset CreatedAt { get; } = createdAt;

        /// <summary>Null when the user is not prepaid.</summary>
        public long? BalanceNanos { get; set; }

        public long SpentNanos { get; set; }
    }
}
