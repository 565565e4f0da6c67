namespace Relay.Storage;

public static class ApiKeyStoreExtensions
{
    /// <summary>Creates a key without a user or limits.</summary>
    public static Task<ApiKeyInfo> CreateKeyAsync(this IApiKeyStore store, string name, byte[] keyHash, string displayPrefix, CancellationToken cancellationToken) =>
        store.CreateKeyAsync(new NewApiKey(name, keyHash, displayPrefix), cancellationToken);
}
