using System.Globalization;
using Relay.Errors;
using Relay.Protocol.Text;
using Relay.Storage;
using Relay.Usage;

namespace Relay.Endpoints.Admin;

/// <summary><c>/admin/api/usage</c>: the usage log in pages (newest first, by cursor), its totals per group, and the
/// whole of it as CSV. All three take the same filters.</summary>
internal sealed class AdminUsageEndpoints(IUsageStore store, TimeProvider time)
{
    public const int DefaultLimit = 100;
    public const int MaxLimit = 1000;

    public async Task PageAsync(HttpContext context)
    {
        var (filter, error) = ReadFilter(context);
        var query = context.Request.Query;
        long? before = null;
        if (error is null && query.TryGetValue("before", out var beforeText))
        {
            before = long.TryParse(beforeText, NumberStyles.None, CultureInfo.InvariantCulture, out var id) && id > 0 ? id : null;
            error = before is null ? RelayError.InvalidRequest("before: must be a record id (the nextBefore of the previous page).") : null;
        }

        var limit = DefaultLimit;
        if (error is null && query.TryGetValue("limit", out var limitText)
            && (!int.TryParse(limitText, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit is < 1 or > MaxLimit))
        {
            error = RelayError.InvalidRequest($"limit: must be a whole number from 1 to {MaxLimit}.");
        }

        if (error is not null)
        {
            await ErrorResponses.WriteAsync(context, error);
            return;
        }

        var page = await store.GetUsagePageAsync(filter!, before, limit, context.RequestAborted);
        var view = new UsagePageView
        {
            Data = [.. page.Items.Select(UsageItemView.From)],
            HasMore = page.NextBeforeId is not null,
            NextBefore = page.NextBeforeId,
        };
        await AdminJson.WriteAsync(context, 200, view, AdminJsonContext.Default.UsagePageView);
    }

    public async Task TotalsAsync(HttpContext context)
    {
        var (filter, error) = ReadFilter(context);
        var by = context.Request.Query["by"].ToString();
        UsageGrouping grouping = default;
        if (error is null && !TryParseGrouping(by.Length == 0 ? "key" : by, out grouping))
        {
            error = RelayError.InvalidRequest("by: must be key, user, model, day or provider.");
        }

        if (error is not null)
        {
            await ErrorResponses.WriteAsync(context, error);
            return;
        }

        var rows = await store.GetUsageTotalsAsync(filter!, grouping, context.RequestAborted);
        var view = new UsageTotalsListView
        {
            By = grouping.ToString().ToLowerInvariant(),
            Data = [.. rows.Select(UsageTotalsView.From)],
            Total = UsageTotalsView.From(UsageGroupTotals.Sum("total", rows)),
        };
        await AdminJson.WriteAsync(context, 200, view, AdminJsonContext.Default.UsageTotalsListView);
    }

    public async Task CsvAsync(HttpContext context)
    {
        var (filter, error) = ReadFilter(context);
        if (error is not null)
        {
            await ErrorResponses.WriteAsync(context, error);
            return;
        }

        await UsageCsv.WriteAsync(context, store, filter!);
    }

    /// <summary>The filters from the query string: since, until, key, user, model, status, endpoint.</summary>
    private (UsageFilter? Filter, RelayError? Error) ReadFilter(HttpContext context)
    {
        var query = context.Request.Query;
        string? Text(string name) => query.TryGetValue(name, out var value) && value.ToString().Length > 0 ? value.ToString() : null;

        var now = time.GetUtcNow();
        var filter = new UsageFilter { KeyName = Text("key"), UserName = Text("user"), Model = Text("model"), Endpoint = Text("endpoint") };
        foreach (var (name, endOfDay) in new[] { ("since", false), ("until", true) })
        {
            if (Text(name) is not { } text)
            {
                continue;
            }

            if (!UsageTimeBound.TryParse(text, now, endOfDay, out var bound))
            {
                return (null, RelayError.InvalidRequest($"{name}: '{ClientText.Shorten(text)}' is not {UsageTimeBound.Forms}."));
            }

            filter = endOfDay ? filter with { Until = bound } : filter with { Since = bound };
        }

        if (Text("status") is { } status)
        {
            if (!UsageStatusFilter.TryParse(status, out var statusFilter))
            {
                return (null, RelayError.InvalidRequest($"status: '{ClientText.Shorten(status)}' is not ok, error or an HTTP status such as 429."));
            }

            filter = filter with { Status = statusFilter };
        }

        return (filter, null);
    }

    private static bool TryParseGrouping(string text, out UsageGrouping grouping)
    {
        grouping = text switch
        {
            "key" => UsageGrouping.Key,
            "user" => UsageGrouping.User,
            "model" => UsageGrouping.Model,
            "day" => UsageGrouping.Day,
            "provider" => UsageGrouping.Provider,
            _ => (UsageGrouping)(-1),
        };
        return grouping >= 0;
    }
}
