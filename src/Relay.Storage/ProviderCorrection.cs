namespace Relay.Storage;

/// <summary>A correction Relay learned from a provider's refusal, kept so every instance applies it from the start.</summary>
/// <param name="Provider">The provider's name in the config.</param>
/// <param name="UpstreamModel">The model name the provider was asked for.</param>
/// <param name="Kind">What is corrected (<c>MaxOutputTokens</c>, <c>ContextWindow</c>, <c>DropParameter</c>, ...).</param>
/// <param name="Name">The parameter or keyword; empty for limits, so (provider, model, kind, name) is unique.</param>
/// <param name="Value">The limit, for limits.</param>
/// <param name="Evidence">The provider's words that taught it, shortened.</param>
/// <param name="LearnedAt">When it was learned or last confirmed.</param>
public sealed record ProviderCorrection(string Provider, string UpstreamModel, string Kind, string Name, long Value, string? Evidence, DateTimeOffset LearnedAt);

/// <summary>Corrections learned from providers' refusals.</summary>
public interface IProviderCorrectionStore
{
    Task<IReadOnlyList<ProviderCorrection>> ListCorrectionsAsync(CancellationToken cancellationToken);

    /// <summary>Adds the correction, or replaces the one with the same provider, model, kind and name.</summary>
    Task SaveCorrectionAsync(ProviderCorrection correction, CancellationToken cancellationToken);

    /// <summary>Removes a correction that did not help; false when there was none.</summary>
    Task<bool> DeleteCorrectionAsync(string provider, string upstreamModel, string kind, string name, CancellationToken cancellationToken);
}
