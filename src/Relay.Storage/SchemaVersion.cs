namespace Relay.Storage;

/// <summary>Which schema version a store's data has, and the one this Relay migrates it to.</summary>
/// <param name="Applied">Migrations applied to the data; 0 before the first.</param>
/// <param name="Latest">Migrations this Relay knows; 0 for a store without a schema (memory).</param>
public readonly record struct SchemaVersion(int Applied, int Latest)
{
    public bool IsCurrent => Applied == Latest;
}
