using Relay.Storage.Accounts;

namespace Relay.Endpoints.Admin;

/// <summary>A user as the admin API shows it; money in US dollars.</summary>
internal sealed class UserView
{
    public required string Name { get; init; }

    /// <summary>Whether the user's keys spend from <see cref="Balance"/> (otherwise spend is only counted).</summary>
    public required bool Prepaid { get; init; }

    /// <summary>What is left to spend; null when the user is not prepaid.</summary>
    public decimal? Balance { get; init; }

    /// <summary>Everything the user's keys have spent.</summary>
    public required decimal Spent { get; init; }

    /// <summary>Held for requests still running.</summary>
    public required decimal Reserved { get; init; }

    /// <summary>How many active keys the user has.</summary>
    public required int Keys { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    public static UserView From(UserInfo user) => new()
    {
        Name = user.Name,
        Prepaid = user.BalanceNanos is not null,
        Balance = user.BalanceNanos is { } balance ? Usd.FromNanos(balance) : null,
        Spent = Usd.FromNanos(user.SpentNanos),
        Reserved = Usd.FromNanos(user.ReservedNanos),
        Keys = user.Keys,
        CreatedAt = user.CreatedAt.ToUniversalTime(),
    };
}
