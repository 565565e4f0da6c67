namespace Relay.Storage.Memory;

public sealed partial class MemoryRelayStore
{
    private readonly List<ProviderCorrection> _corrections = [];

    public Task<IReadOnlyList<ProviderCorrection>> ListCorrectionsAsync(CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            return Task.FromResult<IReadOnlyList<ProviderCorrection>>(_corrections.ToArray());
        }
    }

    public Task SaveCorrectionAsync(ProviderCorrection correction, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            _corrections.RemoveAll(c => SameSlot(c, correction.Provider, correction.UpstreamModel, correction.Kind, correction.Name));
            _corrections.Add(correction);
        }

        return Task.CompletedTask;
    }

    public Task<bool> DeleteCorrectionAsync(string provider, string upstreamModel, string kind, string name, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            return Task.FromResult(_corrections.RemoveAll(c => SameSlot(c, provider, upstreamModel, kind, name)) > 0);
        }
    }

    private static bool SameSlot(ProviderCorrection c, string provider, string model, string kind, string name) =>
        c.Provider == provider && c.UpstreamModel == model && c.Kind == kind && c.Name == name;
}
