namespace Relay.Routing;

/// <summary>A configured model name or pattern with its routes.</summary>
internal sealed record ModelEntry(string Name, IReadOnlyList<RouteTarget> Routes, string? Family, string? DisplayName)
{
    public bool IsPattern => Name.Contains('*', StringComparison.Ordinal);
}
