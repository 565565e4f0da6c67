using System.Collections.Frozen;
using Relay.Hosting;
using Relay.Protocol.Corrections;
using Relay.Protocol.Text;
using Relay.Storage;

namespace Relay.Routing;

/// <summary>
/// What Relay has learned to change in requests for each provider and upstream model, from the providers' own refusals
/// (an output limit, a parameter or schema keyword they do not accept). Kept in the store, so a restart and every other
/// instance on the same database start with them; re-read from the store every <see cref="RefreshInterval"/>, and at
/// once when the change feed announces another instance's change.
/// </summary>
internal sealed class LearnedCorrections(IProviderCorrectionStore store, TimeProvider time, ILogger<LearnedCorrections> logger, StoreChanges changes)
    : StoreRefreshedService(time, changes, StoreChange.Corrections)
{
    private const int MaxEvidenceChars = 300;

    private volatile FrozenDictionary<string, ProviderCorrections> _byRoute = FrozenDictionary<string, ProviderCorrections>.Empty;
    private readonly Lock _writeLock = new();

    /// <summary>The corrections for a route; <see cref="ProviderCorrections.None"/> for <c>provider/*</c> routes, whose
    /// model is whatever the client names.</summary>
    public ProviderCorrections For(RouteTarget route) =>
        route.PassesModelThrough ? ProviderCorrections.None : _byRoute.GetValueOrDefault(route.Key, ProviderCorrections.None);

    /// <summary>Every route with corrections, for <c>/v1/routes</c>.</summary>
    public IReadOnlyDictionary<string, ProviderCorrections> All => _byRoute;

    /// <summary>Remembers a correction that helped, here at once and in the store for the others; logs it the first time.</summary>
    public async Task LearnAsync(RouteTarget route, RequestCorrection correction, string evidence, CancellationToken cancellationToken)
    {
        var current = For(route);
        if (current.Covers(correction))
        {
            return;
        }

        Update(route.Key, current.With(correction));
        Log.CorrectionLearned(logger, route.Provider, route.UpstreamModel, correction.ToString(), Shorten(evidence));
        await SaveAsync(store.SaveCorrectionAsync(ToStored(route, correction, evidence), cancellationToken));
    }

    /// <summary>Forgets a correction that did not help.</summary>
    public async Task ForgetAsync(RouteTarget route, RequestCorrection correction, string evidence, CancellationToken cancellationToken)
    {
        var current = For(route);
        Update(route.Key, current.Without(correction));
        Log.CorrectionDropped(logger, route.Provider, route.UpstreamModel, correction.ToString(), Shorten(evidence));
        await SaveAsync(store.DeleteCorrectionAsync(route.Provider, route.UpstreamModel, correction.Kind.ToString(), correction.Name ?? "", cancellationToken));
    }

    /// <summary>Reads every correction from the store, replacing what this instance holds.</summary>
    public override async Task RefreshAsync(CancellationToken cancellationToken)
    {
        var stored = await store.ListCorrectionsAsync(cancellationToken);
        var byRoute = stored
            .Select(c => (Key: $"{c.Provider}/{c.UpstreamModel}", Correction: FromStored(c)))
            .Where(c => c.Correction is not null)
            .GroupBy(c => c.Key, StringComparer.Ordinal)
            .ToFrozenDictionary(g => g.Key, g => ProviderCorrections.From(g.Select(c => c.Correction!.Value)), StringComparer.Ordinal);
        lock (_writeLock)
        {
            _byRoute = byRoute;
        }
    }

    private void Update(string key, ProviderCorrections corrections)
    {
        lock (_writeLock)
        {
            var next = new Dictionary<string, ProviderCorrections>(_byRoute, StringComparer.Ordinal);
            if (corrections.IsEmpty)
            {
                next.Remove(key);
            }
            else
            {
                next[key] = corrections;
            }

            _byRoute = next.ToFrozenDictionary(StringComparer.Ordinal);
        }
    }

    private async Task SaveAsync(Task write)
    {
        try
        {
            await write;
            Announce();
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // This instance keeps applying it; the others learn it from their own refusals.
            Log.CorrectionStoreFailed(logger, ex);
        }
    }

    private ProviderCorrection ToStored(RouteTarget route, RequestCorrection correction, string evidence) =>
        new(route.Provider, route.UpstreamModel, correction.Kind.ToString(), correction.Name ?? "", correction.Value, Shorten(evidence), Time.GetUtcNow());

    private static RequestCorrection? FromStored(ProviderCorrection stored) =>
        Enum.TryParse<CorrectionKind>(stored.Kind, out var kind)
            ? new RequestCorrection(kind, stored.Value, stored.Name.Length == 0 ? null : stored.Name)
            : null;

    private static string Shorten(string evidence) => ClientText.Shorten(evidence.ReplaceLineEndings(" "), MaxEvidenceChars);

    protected override void LogRefreshFailed(Exception exception) => Log.CorrectionStoreFailed(logger, exception);
}
