namespace Relay.Storage.Accounts;

/// <summary>A person or team an operator serves; all of a user's keys share the user's balance.</summary>
/// <param name="BalanceNanos">What is left to spend; null when the user is not prepaid (spend is only counted).</param>
/// <param name="SpentNanos">Everything the user's keys have spent.</param>
/// <param name="ReservedNanos">Held for requests still running (their cost is settled when their usage record is written).</param>
/// <param name="Keys">How many active keys the user has.</param>
public sealed record UserInfo(long Id, string Name, long? BalanceNanos, long SpentNanos, long ReservedNanos, DateTimeOffset CreatedAt, int Keys);

public sealed class DuplicateUserNameException(string name)
    : Exception($"A user named '{name}' already exists.");

public sealed class UnknownUserException(string name)
    : Exception($"No user is named '{name}' (see `relay users list`).");
