using System.Net;
using System.Text;
using Relay.Configuration;
using Relay.Storage;
using Relay.Tests.Infrastructure;

namespace Relay.Tests;

/// <summary><c>/admin/api/usage</c>: pages by cursor, totals per group, and the CSV export with its escaping.</summary>
public sealed class AdminUsageApiTests : RelayWithUpstream
{
    private static readonly DateTimeOffset Day1 = new(2026, 3, 1, 9, 0, 0, TimeSpan.Zero);

    private AdminClient Admin => field ??= new AdminClient(Server.CreateClient(AdminClient.AdminKey));

    private protected override void Configure(RelayConfig config) => config.AdminKey = AdminClient.AdminKey;

    [Fact]
    public async Task Usage_PagesByCursor_NewestFirst_WithFilters()
    {
        await Server.Store.AppendUsageAsync([.. Enumerable.Range(1, 5).Select(i => Record(Day1.AddHours(i), key: i % 2 == 0 ? "even" : "odd", input: i))], Ct);

        var seen = new List<long>();
        string? before = null;
        var pages = 0;
        do
        {
            var page = await Admin.Get("admin/api/usage?limit=2" + (before is null ? "" : "&before=" + before));
            Assert.Equal(HttpStatusCode.OK, page.Status);
            seen.AddRange(page["data"].EnumerateArray().Select(r => r.GetProperty("inputTokens").GetInt64()));
            Assert.Equal(page["hasMore"].GetBoolean(), page["nextBefore"].ValueKind == System.Text.Json.JsonValueKind.Number);
            before = page["hasMore"].GetBoolean() ? page["nextBefore"].GetInt64().ToString(System.Globalization.CultureInfo.InvariantCulture) : null;
            pages++;
        }
        while (before is not null);

        Assert.Equal([5, 4, 3, 2, 1], seen);
        Assert.Equal(3, pages);

        var odd = await Admin.Get("admin/api/usage?key=odd&since=2026-03-01T11:00:00Z&until=2026-03-01T14:00:00Z");
        Assert.Equal([3L], odd["data"].EnumerateArray().Select(r => r.GetProperty("inputTokens").GetInt64()));
        var first = odd["data"][0];
        Assert.Equal(("odd", "claude-sonnet-4-6", 0.000125m, "2026-03-01T12:00:00+00:00"), (first.GetProperty("key").GetString(),
            first.GetProperty("model").GetString(), first.GetProperty("cost").GetDecimal(), first.GetProperty("time").GetString()));
    }

    [Fact]
    public async Task Usage_UntilTheCalendarsLastDay_IncludesEverything()
    {
        await Server.Store.AppendUsageAsync([Record(Day1, key: "k", input: 7)], Ct);

        var all = await Admin.Get("admin/api/usage?until=9999-12-31");
        var totals = await Admin.Get("admin/api/usage/totals?by=key&since=2000-01-01&until=9999-12-31");

        Assert.Equal(HttpStatusCode.OK, all.Status);
        Assert.Equal([7L], all["data"].EnumerateArray().Select(r => r.GetProperty("inputTokens").GetInt64()));
        Assert.Equal(HttpStatusCode.OK, totals.Status);
    }

    [Theory]
    [InlineData("admin/api/usage?limit=0", "limit")]
    [InlineData("admin/api/usage?limit=1001", "limit")]
    [InlineData("admin/api/usage?before=abc", "before")]
    [InlineData("admin/api/usage?since=yesterday", "since")]
    [InlineData("admin/api/usage?until=7x", "until")]
    [InlineData("admin/api/usage?since=999999d", "since")]
    [InlineData("admin/api/usage?until=2147483647w", "until")]
    [InlineData("admin/api/usage/totals?since=999999d", "since")]
    [InlineData("admin/api/usage?status=fine", "status")]
    [InlineData("admin/api/usage/totals?by=planet", "by")]
    [InlineData("admin/api/usage/totals?status=0", "status")]
    [InlineData("admin/api/usage.csv?since=nope", "since")]
    public async Task Usage_BadQuery_Is400NamingTheParameter(string path, string parameter)
    {
        var answer = await Admin.Get(path);

        var error = await AnthropicAssert.IsErrorAsync(answer.Response, HttpStatusCode.BadRequest, "invalid_request_error");
        Assert.StartsWith(parameter + ":", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Totals_PerGroup_WithCostTheCacheSplitAndUnpricedRequests()
    {
        await Server.Store.AppendUsageAsync(
        [
            Record(Day1, key: "a", user: "acme", input: 10, cost: 1_500_000_000, cacheWrite: 100, cacheWrite1h: 40),
            Record(Day1.AddDays(1), key: "a", user: "acme", input: 20, cost: null, status: 529),
            Record(Day1.AddDays(1), key: "b", input: 30, cost: 250_000_000, model: "claude-haiku-4-5"),
        ], Ct);

        var byUser = await Admin.Get("admin/api/usage/totals?by=user");
        Assert.Equal("user", byUser["by"].GetString());
        var acme = byUser["data"].EnumerateArray().Single(g => g.GetProperty("group").GetString() == "acme");
        Assert.Equal((2L, 1L, 30L, 60L, 40L, 1.5m, 1L), (acme.GetProperty("requests").GetInt64(), acme.GetProperty("errors").GetInt64(),
            acme.GetProperty("inputTokens").GetInt64(), acme.GetProperty("cacheWrite5mTokens").GetInt64(), acme.GetProperty("cacheWrite1hTokens").GetInt64(),
            acme.GetProperty("cost").GetDecimal(), acme.GetProperty("unpricedRequests").GetInt64()));
        Assert.Equal((3L, 1.75m), (byUser["total"].GetProperty("requests").GetInt64(), byUser["total"].GetProperty("cost").GetDecimal()));

        var byDay = await Admin.Get("admin/api/usage/totals?by=day&status=ok");
        Assert.Equal([("2026-03-01", 1L), ("2026-03-02", 1L)],
            byDay["data"].EnumerateArray().Select(g => (g.GetProperty("group").GetString(), g.GetProperty("requests").GetInt64())));

        var byKey = await Admin.Get("admin/api/usage/totals"); // key by default
        Assert.Equal(["a", "b"], byKey["data"].EnumerateArray().Select(g => g.GetProperty("group").GetString()));
        var haiku = await Admin.Get("admin/api/usage/totals?by=model&model=claude-haiku-4-5");
        Assert.Equal(0.25m, Assert.Single(haiku["data"].EnumerateArray()).GetProperty("cost").GetDecimal());
    }

    [Fact]
    public async Task Csv_QuotesAsRfc4180_NeutralisesFormulas_AndStreamsEveryPage()
    {
        var hostile = new UsageRecord
        {
            Timestamp = Day1, RequestId = "req_hostile", KeyName = "@evil", UserName = "+1", Endpoint = "messages",
            RequestedModel = "=HYPERLINK(\"http://x\",\"click\")", SessionId = "a,b", AgentId = "line\nbreak", RequestClass = "-2+3",
            Status = 200, InputTokens = 7, DurationMs = 1.5, Streamed = true, CostNanos = 1,
        };
        // More than one CSV page (1000 records) so the export must follow the cursor.
        await Server.Store.AppendUsageAsync([.. Enumerable.Range(0, 2100).Select(i => Record(Day1.AddSeconds(-i - 1), key: "bulk", input: i))], Ct);
        await Server.Store.AppendUsageAsync([hostile], Ct);

        using var admin = Server.CreateClient(AdminClient.AdminKey);
        using var response = await admin.GetAsync("admin/api/usage.csv", HttpCompletionOption.ResponseHeadersRead, Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/csv", response.Content.Headers.ContentType?.MediaType);
        Assert.Null(response.Content.Headers.ContentLength); // streamed, not built whole
        AnthropicAssert.HasRelayRequestId(response);
        var text = await response.Content.ReadAsStringAsync(Ct);

        Assert.EndsWith("\r\n", text, StringComparison.Ordinal);
        var rows = ParseCsv(text);
        var header = rows[0];
        Assert.Equal(["id", "time", "requestId", "key", "user"], header.Take(5));
        Assert.Equal(2102, rows.Count); // header + every record
        Assert.All(rows, r => Assert.Equal(header.Count, r.Count));

        var row = rows[1].Select((value, i) => (header[i], value)).ToDictionary();
        Assert.Equal("req_hostile", row["requestId"]);
        Assert.Equal("'@evil", row["key"]);
        Assert.Equal("'+1", row["user"]);
        Assert.Equal("'=HYPERLINK(\"http://x\",\"click\")", row["model"]);
        Assert.Equal("a,b", row["sessionId"]);
        Assert.Equal("line\nbreak", row["agentId"]);
        Assert.Equal("'-2+3", row["requestClass"]);
        Assert.Equal(("0.000000001", "7", "2026-03-01T09:00:00.000Z", "true"), (row["cost"], row["inputTokens"], row["time"], row["streamed"]));
        // The raw text: quotes doubled inside a quoted field.
        Assert.Contains("\"'=HYPERLINK(\"\"http://x\"\",\"\"click\"\")\"", text, StringComparison.Ordinal);

        var filtered = ParseCsv(await admin.GetStringAsync("admin/api/usage.csv?key=bulk&since=2026-03-01T08:59:50Z", Ct));
        Assert.Equal(11, filtered.Count); // header + the 10 records of the last 10 seconds
    }

    /// <summary>An RFC 4180 reader: quoted fields may hold commas, CRLF and doubled quotes.</summary>
    private static List<List<string>> ParseCsv(string text)
    {
        var rows = new List<List<string>>();
        var row = new List<string>();
        var field = new StringBuilder();
        var quoted = false;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < text.Length && text[i + 1] == '"')
                {
                    field.Append('"');
                    i++;
                }
                else if (c == '"')
                {
                    quoted = false;
                }
                else
                {
                    field.Append(c);
                }
            }
            else if (c == '"')
            {
                Assert.Equal(0, field.Length); // a quote only opens a field
                quoted = true;
            }
            else if (c == ',')
            {
                row.Add(field.ToString());
                field.Clear();
            }
            else if (c == '\r' && i + 1 < text.Length && text[i + 1] == '\n')
            {
                row.Add(field.ToString());
                field.Clear();
                rows.Add(row);
                row = [];
                i++;
            }
            else
            {
                Assert.NotEqual('\n', c); // a bare line break only inside quotes
                field.Append(c);
            }
        }

        Assert.False(quoted);
        Assert.Empty(row);
        return rows;
    }

    private static UsageRecord Record(DateTimeOffset at, string? key = null, string? user = null, long input = 1, long? cost = 125_000,
        int status = 200, string model = "claude-sonnet-4-6", long cacheWrite = 0, long cacheWrite1h = 0) => new()
    {
        Timestamp = at,
        RequestId = "req_" + Guid.NewGuid().ToString("N"),
        KeyName = key,
        UserName = user,
        Endpoint = "messages",
        RequestedModel = model,
        Provider = "up",
        Status = status,
        ErrorType = status >= 400 ? "overloaded_error" : null,
        InputTokens = input,
        CacheCreationInputTokens = cacheWrite,
        CacheCreation1hInputTokens = cacheWrite1h,
        CostNanos = cost,
        DurationMs = 3,
        Streamed = false,
    };
}
