using Relay.Storage.Accounts;

namespace Relay.Storage.Sqlite;

// Accounts: being built; every member is filled in before this lands in a release.
public sealed partial class SqliteRelayStore
{
    public Task<ApiKeyInfo?> FindKeyAsync(string name, CancellationToken cancellationToken) => throw new NotImplementedException();

    public Task<ApiKeyInfo?> UpdateKeyAsync(string name, KeyLimits limits, string? userName, CancellationToken cancellationToken) => throw new NotImplementedException();

    public Task<bool> SetKeyDisabledAsync(string name, bool disabled, CancellationToken cancellationToken) => throw new NotImplementedException();

    public Task<UserInfo> CreateUserAsync(string name, long? balanceNanos, CancellationToken cancellationToken) => throw new NotImplementedException();

    public Task<UserInfo?> TopUpAsync(string name, long nanos, CancellationToken cancellationToken) => throw new NotImplementedException();

    public Task<UserInfo?> FindUserAsync(string name, CancellationToken cancellationToken) => throw new NotImplementedException();

    public Task<IReadOnlyList<UserInfo>> ListUsersAsync(CancellationToken cancellationToken) => throw new NotImplementedException();
}
