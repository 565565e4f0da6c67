using System.Diagnostics.CodeAnalysis;
using Relay.Configuration;
using Relay.Protocol.Anthropic;

namespace Relay.Routing;

/// <summary>
/// Decides which configured model serves a request: a scenario rule when one applies (long context, web search,
/// image, thinking, background), else the requested name (exact, then patterns). The rule that decided is recorded.
/// </summary>
/// <remarks>Order: longContext first (no other model could take the input), then the features the request needs
/// (webSearch, image, thinking), then background, which only applies to names containing "haiku": Claude Code's
/// small/fast calls, and Claude Desktop's probe of a Haiku model whatever the configuration.</remarks>
internal sealed class ScenarioRouter(ModelCatalog catalog, RelayConfig config)
{
    private const string ScenarioRulePrefix = "scenario:";

    /// <summary>Whether <paramref name="rule"/> (from <see cref="TryRoute"/>) is a scenario rule, which serves the request
    /// with another model than the one the client named.</summary>
    public static bool IsScenario(string rule) => rule.StartsWith(ScenarioRulePrefix, StringComparison.Ordinal);

    public bool TryRoute(string requested, in MessagesRequestInfo info, [NotNullWhen(true)] out ModelEntry? entry, out string rule)
    {
        if (config.Scenarios is { } s)
        {
            if (s.LongContext is not null && info.EstimatedInputTokens > s.LongContextThreshold)
            {
                return Scenario(s.LongContext, ScenarioRulePrefix + "longContext", out entry, out rule);
            }

            if (s.WebSearch is not null && info.HasWebSearchTool)
            {
                return Scenario(s.WebSearch, ScenarioRulePrefix + "webSearch", out entry, out rule);
            }

            if (s.Image is not null && info.HasImage)
            {
                return Scenario(s.Image, ScenarioRulePrefix + "image", out entry, out rule);
            }

            if (s.Thinking is not null && info.ThinkingType == "enabled")
            {
                return Scenario(s.Thinking, ScenarioRulePrefix + "thinking", out entry, out rule);
            }

            if (s.Background is not null && requested.Contains("haiku", StringComparison.OrdinalIgnoreCase))
            {
                return Scenario(s.Background, ScenarioRulePrefix + "background", out entry, out rule);
            }
        }

        if (catalog.TryResolve(requested, out entry))
        {
            rule = entry.IsPattern ? $"pattern:{entry.Name}" : "model";
            return true;
        }

        rule = "none";
        return false;
    }

    private bool Scenario(string model, string name, [NotNullWhen(true)] out ModelEntry? entry, out string rule)
    {
        entry = catalog.Exact(model)!; // validated at load: scenario targets are exact names
        rule = name;
        return true;
    }
}
