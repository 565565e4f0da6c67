using System.Diagnostics.CodeAnalysis;
using Relay.Configuration;

namespace Relay.Routing;

/// <summary>Maps the model names clients send to configured entries: exact names first, then <c>*</c> patterns.</summary>
/// <remarks>Immutable once built; a config reload builds a new catalog.</remarks>
internal sealed class ModelCatalog
{
    private readonly Dictionary<string, ModelEntry> _exact = new(StringComparer.Ordinal);
    private readonly List<(ModelEntry Entry, GlobPattern Pattern)> _patterns = [];

    public ModelCatalog(IReadOnlyDictionary<string, ModelConfig> models)
    {
        foreach (var (name, model) in models)
        {
            var entry = new ModelEntry(name, model.Routes.Select(RouteTarget.FromConfig).ToArray(), model.Family, model.DisplayName, model);
            if (entry.IsPattern)
            {
                _patterns.Add((entry, new GlobPattern(name)));
            }
            else
            {
                _exact[name] = entry;
            }
        }

        // The most specific pattern (most literal characters) wins; config order breaks ties.
        var ordered = _patterns.Select((p, i) => (p, i)).OrderByDescending(x => x.p.Pattern.LiteralLength).ThenBy(x => x.i).Select(x => x.p).ToList();
        _patterns.Clear();
        _patterns.AddRange(ordered);
        Listed = models.Keys.Where(k => !k.Contains('*', StringComparison.Ordinal)).Select(k => _exact[k]).ToArray();
    }

    /// <summary>The exact names, in config order, as <c>GET /v1/models</c> lists them.</summary>
    public IReadOnlyList<ModelEntry> Listed { get; }

    public IEnumerable<string> PatternNames => _patterns.Select(p => p.Entry.Name);

    /// <summary>Every route of every entry.</summary>
    public IEnumerable<RouteTarget> AllRoutes => _exact.Values.Concat(_patterns.Select(p => p.Entry)).SelectMany(e => e.Routes);

    /// <summary>Every entry, exact names first, with the routes each uses.</summary>
    public IEnumerable<ModelEntry> AllEntries => _exact.Values.Concat(_patterns.Select(p => p.Entry));

    /// <summary>The entry of an exact configured name (scenario targets are exact names).</summary>
    public ModelEntry? Exact(string name) => _exact.GetValueOrDefault(name);

    /// <summary>Finds the entry for a requested name, after stripping a <c>[1m]</c> context suffix.</summary>
    public bool TryResolve(string requested, [NotNullWhen(true)] out ModelEntry? entry)
    {
        var name = StripContextSuffix(requested);
        if (_exact.TryGetValue(name, out entry))
        {
            return true;
        }

        foreach (var (patternEntry, pattern) in _patterns)
        {
            if (pattern.IsMatch(name))
            {
                entry = patternEntry;
                return true;
            }
        }

        entry = null;
        return false;
    }

    /// <summary>Claude Desktop and Claude Code ask for 1M-context variants as <c>name[1m]</c>.</summary>
    public static string StripContextSuffix(string model) =>
        model.EndsWith("[1m]", StringComparison.OrdinalIgnoreCase) ? model[..^4] : model;

    /// <summary>A one-line list of what exists, for not-found messages.</summary>
    public string DescribeAvailable()
    {
        var names = _exact.Keys.Concat(PatternNames).ToArray();
        return names.Length == 0 ? "no models are configured" : "available: " + string.Join(", ", names);
    }
}
