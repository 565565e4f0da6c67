using Relay.Auth;

namespace Relay.Endpoints;

/// <summary>The body of <c>GET /v1/routes</c>.</summary>
internal sealed class RouteStatusList
{
    public required IReadOnlyList<RouteStatus> Routes { get; init; }

    /// <summary>Requests refused for their key (they leave no usage record, so this is where they show).</summary>
    public UnauthenticatedStatus? Unauthenticated { get; init; }
}

/// <summary>One route's health as an operator sees it.</summary>
internal sealed class RouteStatus
{
    public required string Route { get; init; }

    /// <summary>The model names (and patterns) that use this route.</summary>
    public required IReadOnlyList<string> Models { get; init; }

    /// <summary><c>healthy</c>, <c>open</c> (skipped), <c>half_open</c> (next request probes it) or <c>provider_down</c>.</summary>
    public required string State { get; init; }

    public int ConsecutiveFailures { get; init; }

    public long Requests { get; init; }

    /// <summary>Failures among the last 100 attempts, 0 to 1.</summary>
    public double RecentErrorRate { get; init; }

    /// <summary>Median time to the upstream's response headers over the last 100 successful attempts.</summary>
    public double? P50Ms { get; init; }

    public int InFlight { get; init; }

    public DateTimeOffset? OpenUntil { get; init; }

    public string? LastError { get; init; }

    /// <summary>What Relay changes in requests for this route, learned from the provider's refusals.</summary>
    public IReadOnlyList<string> Corrections { get; init; } = [];
}
