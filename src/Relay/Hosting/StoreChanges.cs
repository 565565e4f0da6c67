namespace Relay.Hosting;

/// <summary>What changed in the store that instances cache.</summary>
internal enum StoreChange
{
    /// <summary>Keys or users (a top-up can make a user's keys prepaid): key caches drop what they hold.</summary>
    Keys,

    /// <summary>Admin-set prices.</summary>
    Prices,

    /// <summary>Learned provider corrections.</summary>
    Corrections,
}

/// <summary>
/// Where components hear that the shared store changed: <see cref="MadeHere"/> for changes this instance made (from its
/// store's events and its own writers), <see cref="MadeElsewhere"/> for changes other instances or the CLI announced
/// through the change feed (<see cref="RedisChangeFeed"/>, when Redis is configured).
/// </summary>
/// <remarks>Handlers run on the caller's thread and must be quick: drop a cache, or ask for a refresh.</remarks>
internal sealed class StoreChanges
{
    /// <summary>A change, and whether another instance (or the CLI) made it.</summary>
    public event Action<StoreChange, bool>? Changed;

    public void MadeHere(StoreChange change) => Changed?.Invoke(change, false);

    public void MadeElsewhere(StoreChange change) => Changed?.Invoke(change, true);
}
