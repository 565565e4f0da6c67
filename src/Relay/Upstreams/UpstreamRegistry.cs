using Relay.Configuration;
using Relay.Upstreams.Mock;

namespace Relay.Upstreams;

/// <summary>The configured providers by name, each with its own connection pool.</summary>
internal sealed class UpstreamRegistry : IDisposable
{
    private readonly Dictionary<string, IUpstream> _upstreams = new(StringComparer.Ordinal);

    public UpstreamRegistry(RelayConfig config, TimeProvider time, ILoggerFactory loggerFactory)
    {
        var logger = loggerFactory.CreateLogger("Relay.Upstreams");
        foreach (var (name, provider) in config.Providers)
        {
            _upstreams[name] = provider.Type switch
            {
                "anthropic" => new AnthropicUpstream(name, provider, time, logger, isBridge: config.BridgeProvider == name),
                "openai" => new OpenAIUpstream(name, provider, time, logger),
                "openai-responses" => new ResponsesUpstream(name, provider, time, logger),
                "mock" => new MockUpstream(name, provider),
                _ => throw new InvalidOperationException($"Provider type '{provider.Type}' has no implementation."),
            };
        }

        AnyForwardsClientCredentials = _upstreams.Values.Any(u => u.ForwardsClientCredentials);
    }

    /// <summary>True when some provider authenticates clients itself, so an unknown key may still be valid there.</summary>
    public bool AnyForwardsClientCredentials { get; }

    public IUpstream this[string name] => _upstreams[name];

    public IEnumerable<IUpstream> All => _upstreams.Values;

    public void Dispose()
    {
        foreach (var upstream in _upstreams.Values.OfType<IDisposable>())
        {
            upstream.Dispose();
        }
    }
}
