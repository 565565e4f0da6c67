namespace Relay.Protocol.Anthropic;

/// <summary>
/// The output of a stream that ended before the provider's final usage arrived (the client left, the provider broke
/// off, Relay stopped): the provider still generated, and bills, what was relayed, but only reported its count at the
/// end. Estimated from the answer bytes relayed, at the same 4 bytes per token as the request's input estimate.
/// </summary>
/// <remarks>Counted: the UTF-8 bytes of text, thinking and tool-input JSON deltas (not signatures, not protocol
/// framing). The estimate only ever raises what the provider reported so far, and never above the request's output
/// limit, which the provider cannot exceed; when its final count arrived, that count stands exactly.</remarks>
public static class OutputEstimate
{
    public const int BytesPerToken = 4;

    /// <summary>The usage to record: <paramref name="reported"/> as is when the provider's final count arrived, else
    /// with output raised to the estimate from <paramref name="relayedBytes"/>, at most <paramref name="outputLimit"/>
    /// (the request's <c>max_tokens</c>; 0 or less for none).</summary>
    public static TokenUsage Complete(in TokenUsage reported, bool finalUsageArrived, long relayedBytes, long outputLimit)
    {
        if (finalUsageArrived)
        {
            return reported;
        }

        var estimate = relayedBytes / BytesPerToken;
        if (outputLimit > 0)
        {
            estimate = Math.Min(estimate, outputLimit);
        }

        return reported with { OutputTokens = Math.Max(reported.OutputTokens, estimate) };
    }
}
