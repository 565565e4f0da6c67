using System.Reflection;
using Microsoft.Extensions.Logging;

namespace Relay.Tests;

/// <summary>Log event ids identify a message in log pipelines and filters, so no two messages may share one.</summary>
public sealed class LogEventIdTests
{
    [Fact]
    public void EveryLogMessage_HasItsOwnEventId()
    {
        var ids = typeof(Log).Assembly.GetTypes()
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static))
            .Select(m => (Method: m, Attribute: m.GetCustomAttribute<LoggerMessageAttribute>()))
            .Where(x => x.Attribute is not null)
            .ToList();

        Assert.NotEmpty(ids);
        var shared = ids.GroupBy(x => x.Attribute!.EventId).Where(g => g.Count() > 1)
            .Select(g => $"{g.Key}: {string.Join(", ", g.Select(x => x.Method.Name))}").ToList();
        Assert.True(shared.Count == 0, "event ids used more than once: " + string.Join("; ", shared));
    }
}
