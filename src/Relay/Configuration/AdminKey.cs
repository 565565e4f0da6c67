namespace Relay.Configuration;

/// <summary>Where the admin key comes from: the config's <c>adminKey</c>, else <c>RELAY_ADMIN_KEY</c>. Both follow
/// <see cref="ConfigValidator.MinAdminKeyLength"/>, checked when the config is validated.</summary>
internal static class AdminKey
{
    public const string EnvironmentVariable = "RELAY_ADMIN_KEY";

    /// <summary>The admin key in effect, or null when admin endpoints are off.</summary>
    public static string? Resolve(RelayConfig config, Func<string, string?>? environment = null) =>
        config.AdminKey ?? (FromEnvironment(environment) is { Length: > 0 } key ? key : null);

    /// <summary>The variable's value; an empty one counts as unset.</summary>
    internal static string? FromEnvironment(Func<string, string?>? environment) =>
        (environment ?? Environment.GetEnvironmentVariable)(EnvironmentVariable) is { Length: > 0 } key ? key : null;
}
