using System.Collections.Concurrent;
using Relay.Configuration;
using Relay.Protocol.Corrections;
using Relay.Protocol.Translation;
using Relay.Routing;

namespace Relay.Upstreams;

/// <summary>The <see cref="ChatQuirks"/> for each upstream model of one openai provider: the preset's rules for that model,
/// then the provider's <c>models</c> settings (exact name first, then the most specific <c>*</c> pattern).</summary>
/// <remarks>Resolved once per model and cached; the set of upstream model names is bounded by the config.</remarks>
internal sealed class OpenAIModelOptions
{
    private readonly string _preset;
    private readonly List<(GlobPattern Pattern, string Name, UpstreamModelConfig Options)> _models;
    private readonly ConcurrentDictionary<string, ChatQuirks> _resolved = new(StringComparer.Ordinal);

    // Keyed by the corrections instance: a learned set is immutable and replaced whole when it changes.
    private readonly ConcurrentDictionary<(string Model, ProviderCorrections Corrections), ChatQuirks> _corrected = new();

    public OpenAIModelOptions(ProviderConfig config)
    {
        _preset = config.Preset ?? ChatPresets.Generic;
        _models = (config.Models ?? [])
            .Select(m => (new GlobPattern(m.Key), m.Key, m.Value))
            .OrderByDescending(m => m.Key.Contains('*', StringComparison.Ordinal) ? m.Item1.LiteralLength : int.MaxValue)
            .ToList();
    }

    public ChatQuirks For(string upstreamModel) => _resolved.GetOrAdd(upstreamModel, Resolve);

    /// <summary>The quirks with learned corrections on top.</summary>
    public ChatQuirks For(string upstreamModel, ProviderCorrections corrections) => corrections.IsEmpty
        ? For(upstreamModel)
        : _corrected.GetOrAdd((upstreamModel, corrections), key => For(key.Model).Apply(key.Corrections));

    /// <summary>The <c>maxTokens</c> the provider's <c>models</c> settings give this model, if any.</summary>
    public int? ConfiguredMaxTokens(string upstreamModel) => _models.FirstOrDefault(m => m.Pattern.IsMatch(upstreamModel)).Options?.MaxTokens;

    private ChatQuirks Resolve(string upstreamModel)
    {
        var quirks = ChatPresets.Resolve(_preset, upstreamModel);
        var match = _models.FirstOrDefault(m => m.Pattern.IsMatch(upstreamModel)).Options;
        if (match is null)
        {
            return quirks;
        }

        if (match.MaxTokens is { } maxTokens)
        {
            quirks = quirks with { MaxOutputTokens = maxTokens };
        }

        if (match.Vision is { } vision)
        {
            quirks = quirks with { Vision = vision };
        }

        if (match.Reasoning == false)
        {
            quirks = quirks with { Reasoning = ReasoningParameter.None };
        }
        else if (match.Reasoning == true && quirks.Reasoning == ReasoningParameter.None)
        {
            quirks = quirks with { Reasoning = ReasoningParameter.ReasoningEffort };
        }

        return quirks;
    }
}
