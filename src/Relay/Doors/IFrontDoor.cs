using System.Buffers;
using Relay.Errors;
using Relay.Protocol.Anthropic;
using Relay.Protocol.Events;
using Relay.Upstreams;

namespace Relay.Doors;

/// <summary>
/// Writes one client protocol: the status, headers, framing, keep-alives and error shape its clients expect.
/// Upstream adapters talk to providers and hand over what they got; a front door decides how the client sees it.
/// </summary>
/// <remarks>A new client protocol is one implementation of this and one endpoint; a new provider kind is one
/// <see cref="IUpstream"/> that reads its protocol into <see cref="IMessageEvents"/>.</remarks>
internal interface IFrontDoor
{
    WireProtocol Protocol { get; }

    /// <summary>How the usage record names requests through this door.</summary>
    string UsageEndpoint(MessagesEndpointKind endpoint);

    /// <summary>
    /// Reads the client's request into Relay's canonical form, an Anthropic Messages request body, which every
    /// upstream kind knows how to send.
    /// </summary>
    /// <returns>The door that answers this request (it may carry what the request asked of the answer, such as
    /// usage in the stream), or null with <paramref name="error"/> when the request cannot be served.</returns>
    IFrontDoor? ReadRequest(ReadOnlyMemory<byte> body, MessagesEndpointKind endpoint, out ReadOnlyMemory<byte> messagesBody, out RelayError? error);

    /// <summary>An error Relay words itself, before anything was written.</summary>
    Task WriteErrorAsync(HttpContext context, RelayError error, TimeSpan? retryAfter = null);

    /// <summary>A provider's error answer that was held back while other routes were tried. From a provider that
    /// speaks the client's protocol it goes out as received; otherwise its meaning, in the client's shape.</summary>
    Task WriteHeldAsync(HttpContext context, HeldResponse held, string provider);

    /// <summary>Starts a streamed answer that comes from another protocol: the status and headers go out now.</summary>
    void BeginEventStream(HttpResponse response);

    /// <summary>A writer of the client's stream format into <paramref name="output"/>, for translated answers.</summary>
    IMessageEvents CreateEventWriter(IBufferWriter<byte> output);

    /// <summary>A writer of the client's whole-answer format into <paramref name="output"/>, for translated answers to
    /// requests that did not ask for a stream; it writes when the message stops.</summary>
    IMessageEvents CreateMessageWriter(IBufferWriter<byte> output);

    /// <summary>The content type of what <see cref="CreateMessageWriter"/> writes.</summary>
    string MessageContentType { get; }

    /// <summary>The bytes that end a stream that has begun with an error the client can read.</summary>
    byte[] StreamError(string type, string message);
}
