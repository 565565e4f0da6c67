using System.Text;
using System.Text.Json;
using Relay.Bench.Upstream;

namespace Relay.Bench.Soak;

/// <summary>What became of one soak request. The names are what the result file and the summary print.</summary>
internal static class SoakOutcome
{
    public const string StreamStopped = "stream: ended with message_stop";
    public const string StreamProviderError = "stream: ended with an error event for a provider failure";
    public const string StreamRelayStopping = "stream: ended with Relay's shutdown error event";
    public const string StreamRelayError = "stream: ended with an error event of Relay's own";
    public const string StreamUnended = "stream: ended without message_stop or error event";
    public const string StreamMalformed = "stream: malformed";
    public const string JsonWhole = "json: whole message";
    public const string JsonBroken = "json: broken or cut off";
    public const string WrongContentType = "200 with the wrong content type";
    public const string ErrorFromProvider = "error: the provider's own (injected) error";
    public const string ErrorProviderWrapped = "error: Relay's wrapping of a provider failure";
    public const string ErrorProviderUnreachable = "error: Relay's wrapping of a failed connection to the provider";
    public const string ErrorRelayStopping = "error: Relay stopping (drain deadline)";
    public const string ErrorRelayOwn = "error: of Relay's own making";
    public const string Refused = "refused: nothing listening (Relay down)";
    public const string NoAnswer = "no answer: connection failed before a response";
    public const string TimedOut = "timed out";

    /// <summary>Outcomes that break a promise Relay makes, whatever its providers do.</summary>
    public static bool IsViolation(string outcome) => outcome is StreamUnended or StreamMalformed or JsonBroken or WrongContentType
        or ErrorRelayOwn or TimedOut or StreamRelayError;

    /// <summary>Whose error an error body (or an SSE error event's data) is. Relay's wrapping quotes the provider's
    /// body, marker included, so the message's start is looked at first.</summary>
    public static ErrorOrigin ClassifyError(ReadOnlySpan<byte> body)
    {
        var message = Message(body);
        return message?.StartsWith("Provider '", StringComparison.Ordinal) == true ? ErrorOrigin.ProviderWrapped
            : message?.StartsWith("Relay could not reach provider '", StringComparison.Ordinal) == true ? ErrorOrigin.ProviderUnreachable
            : body.IndexOf(Marker) >= 0 ? ErrorOrigin.Provider
            : message?.StartsWith("Relay is shutting down", StringComparison.Ordinal) == true ? ErrorOrigin.RelayStopping
            : ErrorOrigin.Relay;
    }

    private static readonly byte[] Marker = Encoding.UTF8.GetBytes(UpstreamPayloads.FaultMarker);

    /// <summary><c>error.message</c> of an Anthropic error object, or null when the body is not one.</summary>
    private static string? Message(ReadOnlySpan<byte> body)
    {
        try
        {
            var reader = new Utf8JsonReader(body);
            using var document = JsonDocument.ParseValue(ref reader);
            return document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("error", out var error)
                && error.ValueKind == JsonValueKind.Object
                && error.TryGetProperty("message", out var message)
                && message.ValueKind == JsonValueKind.String
                ? message.GetString()
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

internal enum ErrorOrigin
{
    /// <summary>The provider's own error, forwarded: it carries the fake upstream's fault marker.</summary>
    Provider,

    /// <summary>Relay's Anthropic-shaped wrapping of a provider failure: the message starts "Provider '".</summary>
    ProviderWrapped,

    /// <summary>Relay's wrapping of a failed connection to the provider ("Relay could not reach provider '…"): the
    /// provider's failure too, worded differently, and counted apart so it stays visible.</summary>
    ProviderUnreachable,

    /// <summary>Relay ended the request because it was stopping and the drain time ran out.</summary>
    RelayStopping,

    /// <summary>Anything else: an error Relay made itself.</summary>
    Relay,
}
