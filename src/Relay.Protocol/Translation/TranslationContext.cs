using System.Security.Cryptography;

namespace Relay.Protocol.Translation;

/// <summary>What translating a response needs to know about its request.</summary>
/// <param name="Model">The model name the client asked for, echoed back (clients compare it with what they sent).</param>
/// <param name="ToolNames">Shortened tool name → original, when any name had to be shortened.</param>
public sealed record TranslationContext(string Model, IReadOnlyDictionary<string, string>? ToolNames)
{
    /// <summary>The Anthropic-style id of the message being translated.</summary>
    public string MessageId { get; init; } = NewMessageId();

    /// <summary>Relay's estimate of the request's input tokens, shown in <c>message_start</c> before the provider's
    /// own count arrives; zero when not estimated.</summary>
    public long EstimatedInputTokens { get; init; }

    public string RestoreToolName(string upstreamName) =>
        ToolNames is not null && ToolNames.TryGetValue(upstreamName, out var original) ? original : upstreamName;

    public static string NewMessageId()
    {
        Span<byte> random = stackalloc byte[12];
        RandomNumberGenerator.Fill(random);
        return "msg_" + Convert.ToHexStringLower(random);
    }
}
