using Relay.Storage.Accounts;

namespace Relay.Storage.Sqlite;

// Accounts: being built; every member is filled in before this lands in a release.
public sealed partial class SqliteRelayStore
{
    public Task<AdmissionDecision> AdmitAsync(AdmissionRequest request, CancellationToken cancellationToken) => throw new NotImplementedException();

    public Task ReleaseAsync(long reservationId, long actualTokens, DateTimeOffset now, CancellationToken cancellationToken) => throw new NotImplementedException();
}
