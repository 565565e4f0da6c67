namespace Relay.Storage.Memory;

// Users' money as admission and settlement see it. Placeholder until the users store lands: no user is prepaid.
public sealed partial class MemoryRelayStore
{
    /// <summary>The user's balance, null when not prepaid. Called under the lock.</summary>
    private static long? UserBalanceNanos(long userId) => null;

    /// <summary>Adds to the user's spend and takes from a prepaid user's balance. Called under the lock.</summary>
    private static void ChargeUser(long userId, long nanos)
    {
    }
}
