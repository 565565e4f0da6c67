using System.Text;
using Relay.Protocol.Anthropic;

namespace Relay.Routing;

/// <summary>
/// What one request's dispatch did, filled in as it goes: the attempts and their log, the route that answered last,
/// the tokens seen, and how it ended. The usage record is built from this one object; when the dispatch is cut short
/// (the client left, Relay is stopping) it still holds everything known so far.
/// </summary>
internal sealed class DispatchResult
{
    public int Attempts { get; set; }

    public StringBuilder Log { get; } = new();

    public TokenUsage Usage { get; set; }

    /// <summary>The route of the latest attempt.</summary>
    public RouteTarget? Route { get; set; }

    /// <summary>The status the client got; set when the dispatch ends normally.</summary>
    public int? Status { get; set; }

    public string? ErrorType { get; set; }

    public string? AttemptLog => Log.Length > 0 ? Log.ToString() : null;
}
