namespace Relay.Endpoints.Admin;

internal static class AdminRoute
{
    /// <summary>A name from the path. Kestrel decodes a path except <c>%2F</c>, so a name with a slash (a price for
    /// <c>provider/model</c>) arrives encoded and is decoded here.</summary>
    public static string Value(HttpContext context, string name) =>
        ((string?)context.Request.RouteValues[name] ?? "").Replace("%2F", "/", StringComparison.OrdinalIgnoreCase);
}
