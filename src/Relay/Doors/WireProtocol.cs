namespace Relay.Doors;

/// <summary>The API protocols Relay speaks, to clients (front doors) and to providers (upstream kinds).</summary>
internal enum WireProtocol
{
    /// <summary>Anthropic Messages: <c>/v1/messages</c>.</summary>
    Anthropic,

    /// <summary>OpenAI Chat Completions: <c>/v1/chat/completions</c>.</summary>
    ChatCompletions,

    /// <summary>OpenAI Responses: <c>/v1/responses</c>.</summary>
    Responses,
}
