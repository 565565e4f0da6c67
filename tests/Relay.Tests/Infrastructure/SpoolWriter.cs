using System.Text;
using System.Text.Json;
using Relay.Hosting;
using Relay.Storage;
using Relay.Usage;

namespace Relay.Tests.Infrastructure;

/// <summary>Usage records with every field set, and spool files of them as an earlier run would have left them.</summary>
internal static class SpoolWriter
{
    public static List<UsageRecord> Records(int count, string prefix) =>
        [.. Enumerable.Range(0, count).Select(i => Record($"{prefix}-{i:D5}"))];

    /// <summary>A record whose every property differs from its type's default.</summary>
    public static UsageRecord Record(string requestId) => new()
    {
        Timestamp = new DateTimeOffset(2026, 3, 1, 12, 34, 56, 789, TimeSpan.FromHours(2)),
        RequestId = requestId,
        KeyId = 7,
        KeyName = "alice-laptop",
        Endpoint = "messages",
        RequestedModel = "claude-sonnet-4-6[1m]",
        Provider = "up",
        UpstreamModel = "upstream-sonnet",
        Status = 529,
        ErrorType = "overloaded_error",
        InputTokens = 1234,
        OutputTokens = 56,
        CacheCreationInputTokens = 78,
        CacheReadInputTokens = 9012,
        CacheCreation1hInputTokens = 34,
        ServerToolUses = 2,
        CostNanos = 1_234_567_890_123,
        UserId = 42,
        UserName = "Zoë \"quoted\" \u001b",
        ReservationId = 987_654_321,
        FirstByteMs = 123.456,
        DurationMs = 7890.125,
        Streamed = true,
        Attempts = 3,
        AttemptLog = "up/upstream-sonnet 529 overloaded_error 12 ms; up/upstream-sonnet 200 300 ms",
        RouteRule = "scenario:thinking",
        SessionId = "0b3c1d4e-session",
        AgentId = "agent-1",
        ParentAgentId = "agent-0",
        RequestClass = "subagent",
    };

    /// <summary>Writes <paramref name="records"/> as one spool file created at <paramref name="createdAt"/>; with
    /// <paramref name="padTo"/>, the last line is padded with spaces (still valid JSON) to make the file that long.</summary>
    public static string WriteFile(string folder, DateTimeOffset createdAt, IReadOnlyList<UsageRecord> records, long? padTo = null)
    {
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, SpoolFileNames.New(createdAt));
        var text = new StringBuilder();
        foreach (var record in records)
        {
            text.Append(JsonSerializer.Serialize(record, RelayJsonContext.Default.UsageRecord)).Append('\n');
        }

        if (padTo is { } length && length > text.Length)
        {
            text.Insert(text.Length - 1, new string(' ', (int)(length - text.Length)));
        }

        File.WriteAllText(path, text.ToString());
        return path;
    }

    /// <summary>As many records as fit below <paramref name="bytes"/>, the file then padded to exactly that size.</summary>
    public static List<UsageRecord> FillFile(string folder, DateTimeOffset createdAt, long bytes, string prefix)
    {
        var lineLength = JsonSerializer.Serialize(Record($"{prefix}-00000"), RelayJsonContext.Default.UsageRecord).Length + 1;
        var records = Records((int)(bytes / lineLength), prefix);
        WriteFile(folder, createdAt, records, bytes);
        return records;
    }
}
