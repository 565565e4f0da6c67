namespace Relay.Doors;

/// <summary>A door whose client may speak a provider's own protocol: its request as the client wrote it, for a
/// pass-through that sends it on with only the model rewritten.</summary>
internal interface IPassThroughClient
{
    /// <summary>The client's own body.</summary>
    ReadOnlyMemory<byte> ClientBody { get; }

    bool Stream { get; }

    /// <summary>Whether the client asked for usage in its stream (Chat's <c>stream_options.include_usage</c>).</summary>
    bool WantsStreamUsage { get; }
}
