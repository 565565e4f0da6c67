using System.Net;
using Relay.Configuration;
using Relay.Tests.Infrastructure;

namespace Relay.Tests;

/// <summary><c>/admin/api/prices</c>: the table in effect with each entry's source, and prices set at run time that the
/// very next request is billed at.</summary>
public sealed class AdminPricesApiTests : RelayWithUpstream
{
    private AdminClient Admin => field ??= new AdminClient(Server.CreateClient(AdminClient.AdminKey));

    private protected override void Configure(RelayConfig config)
    {
        config.AdminKey = AdminClient.AdminKey;
        config.Prices["house-*"] = new PriceConfig { Input = 1, Output = 2 };
    }

    [Fact]
    public async Task List_ShowsEachSource_WithCachePricesApplied()
    {
        await Admin.Put("admin/api/prices/house-*", """{"input":4,"output":8}""");

        var list = await Admin.Get("admin/api/prices");

        Assert.Equal(HttpStatusCode.OK, list.Status);
        var prices = list["data"].EnumerateArray().ToList();
        var house = Assert.Single(prices, p => p.GetProperty("model").GetString() == "house-*"); // the admin price shadows relay.json's
        Assert.Equal(("admin", 4m, 5m, 8m, 0.4m), (house.GetProperty("source").GetString(), house.GetProperty("input").GetDecimal(),
            house.GetProperty("cacheWrite5m").GetDecimal(), house.GetProperty("cacheWrite1h").GetDecimal(), house.GetProperty("cacheRead").GetDecimal()));
        var sonnet = Assert.Single(prices, p => p.GetProperty("model").GetString() == "claude-sonnet-4-6");
        Assert.StartsWith("default", sonnet.GetProperty("source").GetString(), StringComparison.Ordinal);

        Assert.Equal(HttpStatusCode.NoContent, (await Admin.Delete("admin/api/prices/house-*")).Status);
        var after = await Admin.Get("admin/api/prices");
        Assert.Equal("relay.json", after["data"].EnumerateArray().Single(p => p.GetProperty("model").GetString() == "house-*").GetProperty("source").GetString());
    }

    [Fact]
    public async Task Put_AppliesToTheNextRequestAtOnce()
    {
        Upstream.Handler = (ctx, _) => Responses.Json(ctx, 200, Responses.MessageJson(input: 1000, output: 100));

        var put = await Admin.Put("admin/api/prices/claude-sonnet-4-6", """{"input":7,"output":11,"serverToolCall":0.02}""");
        Assert.Equal(HttpStatusCode.OK, put.Status);
        Assert.Equal(("claude-sonnet-4-6", "admin", 0.02m), (put["model"].GetString(), put["source"].GetString(), put["serverToolCall"].GetDecimal()));
        using var response = await Server.Client.PostAsync("v1/messages", JsonBody.Of(JsonBody.Message("claude-sonnet-4-6")), Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        var record = (await Server.WaitForUsageAsync(1)).Single();
        Assert.Equal(1000 * 7_000L + 100 * 11_000L, record.CostNanos); // $7 and $11 per million: 7,000 and 11,000 nanos a token
    }

    [Fact]
    public async Task ProviderSlashModel_IsOnePathSegmentOrEncoded()
    {
        var plain = await Admin.Put("admin/api/prices/up/upstream-sonnet", """{"input":1,"output":2,"longPromptThreshold":200000,"longPrompt":{"input":2,"output":4}}""");
        Assert.Equal(HttpStatusCode.OK, plain.Status);
        Assert.Equal(("up/upstream-sonnet", 200000L, 2.5m), (plain["model"].GetString(), plain["longPromptThreshold"].GetInt64(),
            plain["longPrompt"].GetProperty("cacheWrite5m").GetDecimal()));

        Assert.Equal(HttpStatusCode.NoContent, (await Admin.Delete("admin/api/prices/up%2Fupstream-sonnet")).Status);
        var again = await Admin.Delete("admin/api/prices/up/upstream-sonnet");
        await AnthropicAssert.IsErrorAsync(again.Response, HttpStatusCode.NotFound, "not_found_error");
    }

    [Theory]
    [InlineData("""{"input":3}""", "output")]
    [InlineData("""{"input":-3,"output":1}""", "input")]
    [InlineData("""{"input":3,"output":"15"}""", "output")]
    [InlineData("""{"input":3,"output":15,"cacheRead":200000}""", "cacheRead")]
    [InlineData("""{"input":3,"output":15,"longPromptThreshold":1000}""", "longPrompt")]
    [InlineData("""{"input":3,"output":15,"longPromptThreshold":10,"longPrompt":{"input":1}}""", "longPrompt")]
    [InlineData("""{"input":3,"output":15,"perRequest":1}""", "perRequest")]
    [InlineData("""{"input":3,""", "body")]
    public async Task Put_BadRates_Are400NamingTheField(string json, string field)
    {
        var answer = await Admin.Put("admin/api/prices/some-model", json);

        var error = await AnthropicAssert.IsErrorAsync(answer.Response, HttpStatusCode.BadRequest, "invalid_request_error");
        Assert.StartsWith(field, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain((await Admin.Get("admin/api/prices"))["data"].EnumerateArray(), p => p.GetProperty("model").GetString() == "some-model");
    }
}
