using System.Collections.Frozen;

namespace Relay.Protocol.Corrections;

/// <summary>The corrections Relay applies to every request for one provider and upstream model: at most one per kind
/// and name (a newer output limit replaces an older one). Immutable; shared by concurrent requests.</summary>
public sealed class ProviderCorrections
{
    public static readonly ProviderCorrections None = new([]);

    private ProviderCorrections(RequestCorrection[] items)
    {
        Items = items;
        foreach (var item in items)
        {
            switch (item.Kind)
            {
                case CorrectionKind.MaxOutputTokens:
                    MaxOutputTokens = item.Value;
                    break;
                case CorrectionKind.ContextWindow:
                    ContextWindow = item.Value;
                    break;
                case CorrectionKind.UseMaxCompletionTokens:
                    UseMaxCompletionTokens = true;
                    break;
            }
        }

        DroppedParameters = items.Where(i => i.Kind == CorrectionKind.DropParameter).Select(i => i.Name!).ToFrozenSet(StringComparer.Ordinal);
        DroppedSchemaKeywords = items.Where(i => i.Kind == CorrectionKind.DropSchemaKeyword).Select(i => i.Name!).ToFrozenSet(StringComparer.Ordinal);
    }

    public IReadOnlyList<RequestCorrection> Items { get; }

    public bool IsEmpty => Items.Count == 0;

    public long? MaxOutputTokens { get; }

    public long? ContextWindow { get; }

    public bool UseMaxCompletionTokens { get; }

    public IReadOnlySet<string> DroppedParameters { get; }

    public IReadOnlySet<string> DroppedSchemaKeywords { get; }

    public static ProviderCorrections From(IEnumerable<RequestCorrection> items) =>
        items.Aggregate(None, (set, item) => set.With(item));

    /// <summary>This set with <paramref name="correction"/> added, replacing one of the same kind and name.</summary>
    public ProviderCorrections With(RequestCorrection correction)
    {
        var stored = correction with { InputTokens = null, RequestedTotal = null };
        return new ProviderCorrections([.. Items.Where(i => !SameSlot(i, stored)), stored]);
    }

    public ProviderCorrections Without(RequestCorrection correction) =>
        Items.Any(i => SameSlot(i, correction)) ? new ProviderCorrections([.. Items.Where(i => !SameSlot(i, correction))]) : this;

    /// <summary>True when this set already holds the correction, or a stricter one of the same kind.</summary>
    public bool Covers(RequestCorrection correction) => correction.Kind switch
    {
        CorrectionKind.MaxOutputTokens => MaxOutputTokens <= correction.Value,
        CorrectionKind.ContextWindow => ContextWindow <= correction.Value,
        CorrectionKind.UseMaxCompletionTokens => UseMaxCompletionTokens,
        CorrectionKind.DropParameter => DroppedParameters.Contains(correction.Name!),
        CorrectionKind.DropSchemaKeyword => DroppedSchemaKeywords.Contains(correction.Name!),
        _ => false,
    };

    /// <summary>The <c>max_tokens</c> to send instead of <paramref name="requested"/>, or null to keep it.</summary>
    /// <param name="requested">What the client asked for.</param>
    /// <param name="inputTokens">The request's input tokens: the provider's own count right after a refusal, else
    /// Relay's estimate. A window smaller than the input is left for the provider to refuse as a context overflow,
    /// which clients answer by compacting.</param>
    public long? OutputCap(long requested, long inputTokens)
    {
        var cap = requested;
        if (MaxOutputTokens is { } limit)
        {
            cap = Math.Min(cap, limit);
        }

        if (ContextWindow is { } window && window - inputTokens is var room and >= 1)
        {
            cap = Math.Min(cap, room);
        }

        return cap < requested ? cap : null;
    }

    private static bool SameSlot(RequestCorrection a, RequestCorrection b) =>
        a.Kind == b.Kind && string.Equals(a.Name, b.Name, StringComparison.Ordinal);

    public override string ToString() => string.Join("; ", Items);
}
