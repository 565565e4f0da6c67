namespace Relay.Storage.Memory;

// Money held for requests still running, by reservation id: admission adds them, usage records settle them.
public sealed partial class MemoryRelayStore
{
    private readonly Dictionary<long, MemoryReservation> _reservations = [];

    /// <summary>One admitted request's hold, as a row of the SQLite <c>reservations</c> table; only under <see cref="_lock"/>.</summary>
    private sealed record MemoryReservation(long KeyId, long? UserId, long ReservedNanos, long EstimatedTokens, bool HoldsSlot, DateTimeOffset ExpiresAt);
}
