using Relay.Configuration;

namespace Relay.Routing;

/// <summary>A configured model name or pattern with its routes.</summary>
internal sealed record ModelEntry(string Name, IReadOnlyList<RouteTarget> Routes, string? Family, string? DisplayName, ModelConfig Config)
{
    public bool IsPattern => Name.Contains('*', StringComparison.Ordinal);

    /// <summary>Attempts per request across the chain: by default each route once, plus one retry.</summary>
    public int MaxAttempts => Config.MaxAttempts ?? Math.Min(20, Routes.Count + 1);

    public TimeSpan RetryBudget => TimeSpan.FromSeconds(Config.RetryBudgetSeconds ?? RelayDefaults.RetryBudgetSeconds);
}
