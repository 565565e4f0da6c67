using System.Buffers;
using System.Globalization;
using System.Text;
using Relay.Storage;

namespace Relay.Endpoints.Admin;

/// <summary>
/// The usage log as CSV (RFC 4180: a header row, CRLF line ends, fields with a comma, quote or line break quoted and
/// quotes doubled), written page by page as the store reads it, so an export of millions of records holds one page in
/// memory. The columns are the JSON record's fields, in the same order.
/// </summary>
/// <remarks>Text that clients chose (model names, session ids) could start a spreadsheet formula; a text cell that
/// begins with <c>= + - @</c>, a tab or a carriage return gets a leading <c>'</c>, so spreadsheets show it as text
/// (OWASP's advice against CSV injection). Numbers and times Relay formats itself are left alone.</remarks>
internal static class UsageCsv
{
    public const int PageSize = 1000;

    private static readonly SearchValues<char> NeedsQuotes = SearchValues.Create(",\"\r\n");

    private static readonly (string Header, Func<UsageItemView, string?> Cell, bool Text)[] Columns =
    [
        ("id", v => Number(v.Id), false),
        ("time", v => v.Time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture), false),
        ("requestId", v => v.RequestId, true),
        ("key", v => v.Key, true),
        ("user", v => v.User, true),
        ("endpoint", v => v.Endpoint, true),
        ("model", v => v.Model, true),
        ("provider", v => v.Provider, true),
        ("upstreamModel", v => v.UpstreamModel, true),
        ("status", v => Number(v.Status), false),
        ("errorType", v => v.ErrorType, true),
        ("inputTokens", v => Number(v.InputTokens), false),
        ("outputTokens", v => Number(v.OutputTokens), false),
        ("cacheWrite5mTokens", v => Number(v.CacheWrite5mTokens), false),
        ("cacheWrite1hTokens", v => Number(v.CacheWrite1hTokens), false),
        ("cacheReadTokens", v => Number(v.CacheReadTokens), false),
        ("serverToolUses", v => Number(v.ServerToolUses), false),
        ("cost", v => v.Cost?.ToString(CultureInfo.InvariantCulture), false),
        ("durationMs", v => v.DurationMs.ToString("0.###", CultureInfo.InvariantCulture), false),
        ("firstByteMs", v => v.FirstByteMs?.ToString("0.###", CultureInfo.InvariantCulture), false),
        ("streamed", v => v.Streamed ? "true" : "false", false),
        ("attempts", v => Number(v.Attempts), false),
        ("attemptLog", v => v.AttemptLog, true),
        ("routeRule", v => v.RouteRule, true),
        ("sessionId", v => v.SessionId, true),
        ("agentId", v => v.AgentId, true),
        ("parentAgentId", v => v.ParentAgentId, true),
        ("requestClass", v => v.RequestClass, true),
    ];

    public static IEnumerable<string> Headers => Columns.Select(c => c.Header);

    public static async Task WriteAsync(HttpContext context, IUsageStore store, UsageFilter filter)
    {
        var response = context.Response;
        response.ContentType = "text/csv; charset=utf-8";
        response.Headers.ContentDisposition = "attachment; filename=\"relay-usage.csv\"";
        var cancellationToken = context.RequestAborted;
        await using var writer = new StreamWriter(response.Body, new UTF8Encoding(false), 16 * 1024, leaveOpen: true) { NewLine = "\r\n" };
        await writer.WriteLineAsync(string.Join(',', Columns.Select(c => c.Header)));
        var row = new StringBuilder(512);
        long? before = null;
        do
        {
            var page = await store.GetUsagePageAsync(filter, before, PageSize, cancellationToken);
            foreach (var entry in page.Items)
            {
                var view = UsageItemView.From(entry);
                row.Clear();
                for (var i = 0; i < Columns.Length; i++)
                {
                    if (i > 0)
                    {
                        row.Append(',');
                    }

                    AppendCell(row, Columns[i].Cell(view), Columns[i].Text);
                }

                await writer.WriteLineAsync(row, cancellationToken);
            }

            await writer.FlushAsync(cancellationToken);
            before = page.NextBeforeId;
        }
        while (before is not null);
    }

    /// <summary>One field: formula-neutralised when it is text, quoted when RFC 4180 needs it.</summary>
    internal static void AppendCell(StringBuilder row, string? value, bool text)
    {
        if (string.IsNullOrEmpty(value))
        {
            return;
        }

        var neutralise = text && value[0] is '=' or '+' or '-' or '@' or '\t' or '\r';
        if (!neutralise && value.AsSpan().IndexOfAny(NeedsQuotes) < 0)
        {
            row.Append(value);
            return;
        }

        var quote = value.AsSpan().IndexOfAny(NeedsQuotes) >= 0;
        if (quote)
        {
            row.Append('"');
        }

        if (neutralise)
        {
            row.Append('\'');
        }

        row.Append(quote ? value.Replace("\"", "\"\"", StringComparison.Ordinal) : value);
        if (quote)
        {
            row.Append('"');
        }
    }

    private static string Number(long value) => value.ToString(CultureInfo.InvariantCulture);
}
