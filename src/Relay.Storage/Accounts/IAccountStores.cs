namespace Relay.Storage.Accounts;

/// <summary>Users: who a station serves. A user's keys share the user's balance.</summary>
public interface IUserStore
{
    /// <exception cref="DuplicateUserNameException">A user already has this name.</exception>
    Task<UserInfo> CreateUserAsync(string name, long? balanceNanos, CancellationToken cancellationToken);

    /// <summary>Adds to the user's balance (a negative amount corrects it); a user who was not prepaid becomes prepaid
    /// with this amount. Null when there is no such user.</summary>
    Task<UserInfo?> TopUpAsync(string name, long nanos, CancellationToken cancellationToken);

    Task<UserInfo?> FindUserAsync(string name, CancellationToken cancellationToken);

    Task<IReadOnlyList<UserInfo>> ListUsersAsync(CancellationToken cancellationToken);
}

/// <summary>
/// The limits state every instance shares: request and token allowances, open requests, and money held for requests
/// still running. Each call is atomic across instances: two concurrent requests cannot both take the last of a limit.
/// </summary>
/// <remarks>The real cost of a request is settled by <see cref="IUsageStore.AppendUsageAsync"/>, in the same step
/// that writes its usage record (<see cref="UsageRecord.ReservationId"/>), so no charge is lost or made twice.</remarks>
public interface IAdmissionStore
{
    /// <summary>Checks every limit in the request and, when all pass, takes them: one request and the estimated
    /// tokens from the allowances, a concurrency slot, and the reservation from budget and balance.</summary>
    /// <exception cref="Exception">Any failure means the limits could not be read: callers refuse the request.</exception>
    Task<AdmissionDecision> AdmitAsync(AdmissionRequest request, CancellationToken cancellationToken);

    /// <summary>The request ended: frees its concurrency slot and corrects the token allowance by
    /// <paramref name="actualTokens"/> minus the estimate. The money stays reserved until the usage record settles it.</summary>
    Task ReleaseAsync(long reservationId, long actualTokens, DateTimeOffset now, CancellationToken cancellationToken);
}
