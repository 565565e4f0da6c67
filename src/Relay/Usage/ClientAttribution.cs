namespace Relay.Usage;

/// <summary>
/// The attribution headers Claude Code sends with each request, read for the usage record so usage can be summed per
/// session and per agent. They go on upstream unchanged as well; here they are only recorded.
/// </summary>
internal readonly record struct ClientAttribution(string? SessionId, string? AgentId, string? ParentAgentId, string? RequestClass)
{
    /// <summary>Longer values are cut: ids are UUIDs or agent names, and a client must not fill the store through a header.</summary>
    public const int MaxLength = 128;

    public static ClientAttribution From(IHeaderDictionary headers) => new(
        Read(headers, "x-claude-code-session-id"),
        Read(headers, "x-claude-code-agent-id"),
        Read(headers, "x-claude-code-parent-agent-id"),
        Read(headers, "x-claude-code-request-class"));

    private static string? Read(IHeaderDictionary headers, string name)
    {
        var value = headers[name].ToString().Trim();
        return value.Length == 0 ? null : value.Length > MaxLength ? value[..MaxLength] : value;
    }
}
