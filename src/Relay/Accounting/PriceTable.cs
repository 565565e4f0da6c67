using Relay.Routing;
using Relay.Storage.Accounts;

namespace Relay.Accounting;

/// <summary>The prices of one source (admin, relay.json or the shipped defaults): exact names, then <c>*</c> patterns.</summary>
/// <remarks>Immutable; a change builds a new table.</remarks>
internal sealed class PriceTable
{
    private readonly Dictionary<string, ModelPrice> _exact = new(StringComparer.Ordinal);
    private readonly List<(GlobPattern Pattern, ModelPrice Price)> _patterns = [];

    public PriceTable(IEnumerable<KeyValuePair<string, PriceRates>> entries, string source)
    {
        var patterns = new List<(GlobPattern Pattern, ModelPrice Price)>();
        foreach (var (model, rates) in entries)
        {
            var price = new ModelPrice(model, rates, source);
            if (model.Contains('*', StringComparison.Ordinal))
            {
                patterns.Add((new GlobPattern(model), price));
            }
            else
            {
                _exact[model] = price;
            }
        }

        // As in ModelCatalog: the most specific pattern (most literal characters) wins, then the order given.
        _patterns.AddRange(patterns.Select((p, i) => (p, i)).OrderByDescending(x => x.p.Pattern.LiteralLength).ThenBy(x => x.i).Select(x => x.p));
        Entries = _exact.Values.Concat(_patterns.Select(p => p.Price)).OrderBy(p => p.Model, StringComparer.Ordinal).ToArray();
    }

    public static PriceTable Empty { get; } = new([], "");

    /// <summary>Every entry, by name.</summary>
    public IReadOnlyList<ModelPrice> Entries { get; }

    /// <summary>The price of the first of <paramref name="names"/> that has an exact entry; otherwise the most specific
    /// pattern any of them matches (the earlier name when one pattern could match several).</summary>
    public ModelPrice? Find(IReadOnlyList<string> names)
    {
        foreach (var name in names)
        {
            if (_exact.TryGetValue(name, out var price))
            {
                return price;
            }
        }

        foreach (var (pattern, price) in _patterns)
        {
            foreach (var name in names)
            {
                if (pattern.IsMatch(name))
                {
                    return price;
                }
            }
        }

        return null;
    }
}
