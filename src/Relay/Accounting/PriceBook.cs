using Relay.Configuration;
using Relay.Hosting;
using Relay.Routing;
using Relay.Storage.Accounts;

namespace Relay.Accounting;

/// <summary>
/// Every price Relay knows, from three sources tried in order: prices an operator set through the admin API (kept in
/// <see cref="IPriceStore"/>), relay.json's <c>prices</c>, and the shipped <see cref="DefaultPrices"/>.
/// </summary>
/// <remarks>
/// <para>Within a source the names tried are: the requested model name, then <c>provider/upstream-model</c> of the
/// route that answered, and for the defaults also the upstream model alone, so <c>claude-* -> anthropic/claude-sonnet-4-6</c>
/// is priced as Sonnet 4.6. An exact entry for any of them wins over a pattern; among patterns the most specific wins.
/// A <c>[1m]</c> suffix is ignored, and a dated id falls back to its undated name (<c>claude-sonnet-4-5-20250929</c>
/// is priced as <c>claude-sonnet-4-5</c>).</para>
/// <para>Admin-set prices are read before Relay listens, re-read every <see cref="RefreshInterval"/> for changes made
/// by other instances (at once when the change feed announces one), and changes made through this instance apply at
/// once.</para>
/// </remarks>
internal sealed class PriceBook(RelayConfig config, IPriceStore store, TimeProvider time, ILogger<PriceBook> logger, StoreChanges changes)
    : StoreRefreshedService(time, changes, StoreChange.Prices), IPriceBook
{
    public const string AdminSource = "admin";
    public const string ConfigSource = "relay.json";

    private static readonly PriceTable Defaults = new(DefaultPrices.ByModel, DefaultPrices.SourceLabel);

    private readonly PriceTable _config = new(config.Prices.Select(p => KeyValuePair.Create(p.Key, p.Value.ToRates())), ConfigSource);
    private readonly Lock _writeLock = new();
    private volatile PriceTable _admin = PriceTable.Empty;
    private Dictionary<string, PriceRates> _adminRates = new(StringComparer.Ordinal);
    private long _version;

    /// <summary>Every entry of every source, admin first, then relay.json, then the defaults; an entry may be
    /// shadowed by one before it.</summary>
    public IReadOnlyList<ModelPrice> Entries => [.. _admin.Entries, .. _config.Entries, .. Defaults.Entries];

    public ModelPrice? Find(string? requestedModel, string? provider, string? upstreamModel)
    {
        var names = new List<string>(4);
        if (!string.IsNullOrEmpty(requestedModel))
        {
            AddWithUndated(names, ModelCatalog.StripContextSuffix(requestedModel));
        }

        var upstream = string.IsNullOrEmpty(upstreamModel) ? null : ModelCatalog.StripContextSuffix(upstreamModel);
        if (upstream is not null && !string.IsNullOrEmpty(provider))
        {
            AddWithUndated(names, $"{provider}/{upstream}");
        }

        if (names.Count == 0 && upstream is null)
        {
            return null;
        }

        if ((_admin.Find(names) ?? _config.Find(names)) is { } chosen)
        {
            return chosen;
        }

        if (upstream is not null)
        {
            AddWithUndated(names, upstream);
        }

        return Defaults.Find(names);
    }

    /// <summary>Sets an admin price, in the store for every instance and here at once.</summary>
    public async Task SetPriceAsync(string model, PriceRates rates, CancellationToken cancellationToken)
    {
        await store.SetPriceAsync(model, rates, cancellationToken);
        UpdateAdmin(prices => prices[model] = rates);
        Announce();
    }

    /// <summary>Removes an admin price (relay.json's or the default applies again); false when none was set.</summary>
    public async Task<bool> DeletePriceAsync(string model, CancellationToken cancellationToken)
    {
        var deleted = await store.DeletePriceAsync(model, cancellationToken);
        UpdateAdmin(prices => prices.Remove(model));
        Announce();
        return deleted;
    }

    /// <summary>Reads the admin prices from the store, replacing what this instance holds.</summary>
    public override async Task RefreshAsync(CancellationToken cancellationToken)
    {
        var version = Interlocked.Read(ref _version);
        var stored = await store.ListPricesAsync(cancellationToken);
        lock (_writeLock)
        {
            // A change made here while the store was being read is newer than what was read; the next refresh has it.
            if (version == _version)
            {
                _adminRates = stored.ToDictionary(p => p.Model, p => p.Rates, StringComparer.Ordinal);
                _admin = new PriceTable(_adminRates, AdminSource);
            }
        }
    }

    private void UpdateAdmin(Action<Dictionary<string, PriceRates>> change)
    {
        lock (_writeLock)
        {
            var next = new Dictionary<string, PriceRates>(_adminRates, StringComparer.Ordinal);
            change(next);
            _adminRates = next;
            _admin = new PriceTable(next, AdminSource);
            Interlocked.Increment(ref _version);
        }
    }

    private static void AddWithUndated(List<string> names, string name)
    {
        if (!names.Contains(name))
        {
            names.Add(name);
        }

        if (WithoutDate(name) is { } undated && !names.Contains(undated))
        {
            names.Add(undated);
        }
    }

    /// <summary><c>claude-sonnet-4-5-20250929</c> → <c>claude-sonnet-4-5</c>, <c>claude-3-5-haiku-latest</c> →
    /// <c>claude-3-5-haiku</c>; null when the name has no such suffix.</summary>
    internal static string? WithoutDate(string name)
    {
        if (name.EndsWith("-latest", StringComparison.Ordinal))
        {
            return name[..^7];
        }

        const int dateLength = 8;
        return name.Length > dateLength + 1 && name[^(dateLength + 1)] == '-' && name.AsSpan(name.Length - dateLength).ContainsAnyExceptInRange('0', '9') is false
            ? name[..^(dateLength + 1)]
            : null;
    }

    protected override void LogRefreshFailed(Exception exception) => Log.PriceStoreFailed(logger, exception);
}
