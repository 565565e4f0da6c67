using StackExchange.Redis;

namespace Relay.Hosting;

/// <summary>The change feed's channel and messages: <c>KIND INSTANCE</c>, such as <c>keys 3f2a…</c>. Shared by the
/// server (<see cref="RedisChangeFeed"/>) and the CLI, which publishes its own changes.</summary>
internal static class RedisChangeMessages
{
    public static RedisChannel Channel(string prefix) => RedisChannel.Literal(prefix + "changes");

    public static string Write(StoreChange change, string instance) => $"{Name(change)} {instance}";

    /// <summary>The change and the instance that made it; a null change for a message this version does not know.</summary>
    public static (StoreChange? Change, string Instance) Read(RedisValue message)
    {
        var text = (string?)message ?? "";
        var space = text.IndexOf(' ', StringComparison.Ordinal);
        var kind = space < 0 ? text : text[..space];
        var instance = space < 0 ? "" : text[(space + 1)..];
        StoreChange? change = kind switch
        {
            "keys" => StoreChange.Keys,
            "prices" => StoreChange.Prices,
            "corrections" => StoreChange.Corrections,
            _ => null,
        };
        return (change, instance);
    }

    private static string Name(StoreChange change) => change switch
    {
        StoreChange.Keys => "keys",
        StoreChange.Prices => "prices",
        _ => "corrections",
    };
}
