using System.Globalization;

namespace Relay.Storage;

/// <summary>Which usage records a query looks at. Every null matches all; the filters given must all match.</summary>
public sealed record UsageFilter
{
    public static UsageFilter All { get; } = new();

    /// <summary>Records at or after this instant.</summary>
    public DateTimeOffset? Since { get; init; }

    /// <summary>Records before this instant (exclusive).</summary>
    public DateTimeOffset? Until { get; init; }

    /// <summary>The key's name as recorded: a revoked key's records keep its name, so a reused name matches both.</summary>
    public string? KeyName { get; init; }

    /// <summary>One key by id, for a key holder's own records (a name can be reused after a key is revoked).</summary>
    public long? KeyId { get; init; }

    public string? UserName { get; init; }

    /// <summary>The model name the client requested, exactly.</summary>
    public string? Model { get; init; }

    public UsageStatusFilter? Status { get; init; }

    /// <summary><c>messages</c> or <c>count_tokens</c>.</summary>
    public string? Endpoint { get; init; }
}

/// <summary>A filter on how requests went: <c>ok</c>, <c>error</c>, or one HTTP status.</summary>
public sealed record UsageStatusFilter
{
    private UsageStatusFilter(bool? succeeded, int? code)
    {
        Succeeded = succeeded;
        Code = code;
    }

    /// <summary>Status below 400 and no error, not even one sent inside a stream.</summary>
    public static UsageStatusFilter Ok { get; } = new(true, null);

    /// <summary>Status 400 or above, or an error sent inside a stream.</summary>
    public static UsageStatusFilter Error { get; } = new(false, null);

    /// <summary>True for <see cref="Ok"/>, false for <see cref="Error"/>, null for an exact <see cref="Code"/>.</summary>
    public bool? Succeeded { get; }

    public int? Code { get; }

    public static UsageStatusFilter ExactCode(int code) => new(null, code);

    /// <summary>Reads <c>ok</c>, <c>error</c> or a status code from 100 to 599.</summary>
    public static bool TryParse(string? text, out UsageStatusFilter? filter)
    {
        filter = text?.Trim().ToLowerInvariant() switch
        {
            "ok" => Ok,
            "error" => Error,
            { } code when int.TryParse(code, NumberStyles.None, CultureInfo.InvariantCulture, out var status) && status is >= 100 and <= 599 => ExactCode(status),
            _ => null,
        };
        return filter is not null;
    }

    /// <summary>Whether a record passes, as the SQL stores decide it.</summary>
    public bool Matches(int status, string? errorType) => Succeeded switch
    {
        true => status < 400 && errorType is null,
        false => status >= 400 || errorType is not null,
        null => status == Code,
    };

    public override string ToString() => Succeeded switch
    {
        true => "ok",
        false => "error",
        null => Code!.Value.ToString(CultureInfo.InvariantCulture),
    };
}

/// <summary>What usage totals are summed per.</summary>
public enum UsageGrouping
{
    Key,
    User,
    Model,

    /// <summary>The UTC calendar day, as <c>yyyy-MM-dd</c>.</summary>
    Day,
    Provider,
}

/// <summary>A stored usage record with the id that orders it (newer records have larger ids).</summary>
public sealed record UsageEntry(long Id, UsageRecord Record);

/// <summary>One page of usage records, newest first.</summary>
/// <param name="NextBeforeId">Pass as <c>beforeId</c> for the next (older) page; null when this page is the last.</param>
public sealed record UsagePage(IReadOnlyList<UsageEntry> Items, long? NextBeforeId);

/// <summary>Usage summed over one group of records (<see cref="UsageGrouping"/>); money in <see cref="Accounts.Usd"/> nanos.</summary>
public sealed record UsageGroupTotals(string Group)
{
    /// <summary>The group name for records without a key, user, model or provider.</summary>
    public const string None = "(none)";

    public long Requests { get; init; }

    /// <summary>Requests with status 400 or above, or an error sent inside a stream.</summary>
    public long Errors { get; init; }

    public long InputTokens { get; init; }

    public long OutputTokens { get; init; }

    /// <summary>Cache writes kept five minutes: the cache writes that were not one-hour writes.</summary>
    public long CacheWrite5mTokens { get; init; }

    public long CacheWrite1hTokens { get; init; }

    public long CacheReadTokens { get; init; }

    public long ServerToolUses { get; init; }

    /// <summary>The sum of the priced records' costs.</summary>
    public long CostNanos { get; init; }

    /// <summary>Records without a cost (no price was known for their model), not included in <see cref="CostNanos"/>.</summary>
    public long UnpricedRequests { get; init; }

    /// <summary>The sum of several groups, named <paramref name="group"/>.</summary>
    public static UsageGroupTotals Sum(string group, IEnumerable<UsageGroupTotals> rows) =>
        rows.Aggregate(new UsageGroupTotals(group), (sum, row) => sum with
        {
            Requests = sum.Requests + row.Requests,
            Errors = sum.Errors + row.Errors,
            InputTokens = sum.InputTokens + row.InputTokens,
            OutputTokens = sum.OutputTokens + row.OutputTokens,
            CacheWrite5mTokens = sum.CacheWrite5mTokens + row.CacheWrite5mTokens,
            CacheWrite1hTokens = sum.CacheWrite1hTokens + row.CacheWrite1hTokens,
            CacheReadTokens = sum.CacheReadTokens + row.CacheReadTokens,
            ServerToolUses = sum.ServerToolUses + row.ServerToolUses,
            CostNanos = sum.CostNanos + row.CostNanos,
            UnpricedRequests = sum.UnpricedRequests + row.UnpricedRequests,
        });
}
