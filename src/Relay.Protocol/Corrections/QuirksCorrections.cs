using Relay.Protocol.Translation;

namespace Relay.Protocol.Corrections;

/// <summary>Learned corrections as the translator's switches.</summary>
public static class QuirksCorrections
{
    /// <summary>The quirks with the corrections on top; output limits are applied to the request before translation.</summary>
    public static ChatQuirks Apply(this ChatQuirks quirks, ProviderCorrections corrections)
    {
        if (corrections.IsEmpty)
        {
            return quirks;
        }

        var keywords = corrections.DroppedSchemaKeywords.Count == 0
            ? quirks.DroppedSchemaKeywords
            : new HashSet<string>(quirks.DroppedSchemaKeywords.Concat(corrections.DroppedSchemaKeywords), StringComparer.Ordinal);
        return quirks with
        {
            UseMaxCompletionTokens = quirks.UseMaxCompletionTokens || corrections.UseMaxCompletionTokens,
            AcceptsToolChoice = quirks.AcceptsToolChoice && !corrections.DroppedParameters.Contains("tool_choice"),
            DroppedSchemaKeywords = keywords,
        };
    }
}
