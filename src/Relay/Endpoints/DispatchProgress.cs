using System.Text;
using Relay.Protocol.Anthropic;
using Relay.Routing;

namespace Relay.Endpoints;

/// <summary>What one request's dispatch has done so far. The handler reads it when the dispatch ends early (the client
/// left, Relay is stopping), so the usage record keeps the attempts and the tokens already seen.</summary>
internal sealed class DispatchProgress
{
    public int Attempts { get; set; }

    public StringBuilder Log { get; } = new();

    public TokenUsage Usage { get; set; }

    public RouteTarget? Route { get; set; }
}
