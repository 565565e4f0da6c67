namespace Relay.Storage;

/// <summary>A client key as people see it: never the key itself.</summary>
public sealed record ApiKeyInfo(long Id, string Name, string DisplayPrefix, DateTimeOffset CreatedAt, DateTimeOffset? RevokedAt, DateTimeOffset? LastUsedAt);

/// <summary>An active key as authentication needs it.</summary>
public sealed record StoredApiKey(long Id, string Name, byte[] KeyHash);
