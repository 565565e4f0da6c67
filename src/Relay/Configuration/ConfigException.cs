namespace Relay.Configuration;

/// <summary>A config file Relay cannot run with; the message names the file, the key and the problem.</summary>
internal sealed class ConfigException(string message) : Exception(message);
