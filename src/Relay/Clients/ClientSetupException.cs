namespace Relay.Clients;

/// <summary>A setup or diagnosis step that cannot go on; the message says why and what to do.</summary>
internal sealed class ClientSetupException(string message) : Exception(message);
