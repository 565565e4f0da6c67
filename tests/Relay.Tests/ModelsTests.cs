using System.Globalization;
using System.Net;
using System.Text.Json;
using Relay.Configuration;
using Relay.Tests.Infrastructure;

namespace Relay.Tests;

/// <summary><c>GET /v1/models</c> in Anthropic's list format with its cursors, and <c>GET /v1/models/{id}</c>.</summary>
public sealed class ModelsTests : IAsyncLifetime
{
    /// <summary>The exact names in config order, then the current Claude ids the patterns ("claude-haiku-*", "*") route.</summary>
    private static readonly string[] Listed =
    [
        "claude-sonnet-4-6", "claude-opus-4-7", "alias-sonnet", "claude-haiku-4-5", "deepseek-chat",
        "claude-opus-5-5", "claude-sonnet-5-5", "claude-haiku-5-5", "claude-fable-5", "claude-opus-4-8", "claude-sonnet-5",
    ];

    private RelayTestServer _relay = null!;

    public async ValueTask InitializeAsync()
    {
        var config = new RelayConfig { Listen = ["http://127.0.0.1:0"] };
        config.Providers["demo"] = new ProviderConfig { Type = "mock", ChunkDelayMs = 0 };
        config.Models["claude-sonnet-4-6"] = new ModelConfig { Routes = ["demo/a"], Family = "sonnet", DisplayName = "Claude Sonnet 4.6 (via Relay)" };
        config.Models["claude-opus-4-7"] = new ModelConfig { Routes = ["demo/b"], Family = "opus" };
        config.Models["claude-haiku-*"] = new ModelConfig { Routes = ["demo/c"], Family = "haiku" };
        config.Models["alias-sonnet"] = new ModelConfig { Routes = ["demo/d"], Family = "sonnet" };
        config.Models["claude-haiku-4-5"] = new ModelConfig { Routes = ["demo/e"], Family = "haiku" };
        config.Models["deepseek-chat"] = new ModelConfig { Routes = ["demo/f"] };
        config.Models["*"] = new ModelConfig { Routes = ["demo/g"] };
        _relay = await RelayTestServer.StartAsync(config);
    }

    public async ValueTask DisposeAsync() => await _relay.DisposeAsync();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private async Task<JsonDocument> GetJsonAsync(string path)
    {
        using var response = await _relay.Client.GetAsync(path, Ct);
        var body = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {body}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        AnthropicAssert.HasRelayRequestId(response);
        return JsonDocument.Parse(body);
    }

    private static string[] Ids(JsonDocument page) =>
        page.RootElement.GetProperty("data").EnumerateArray().Select(m => m.GetProperty("id").GetString()!).ToArray();

    private static void AssertCursors(JsonDocument page, string[] expectedIds, bool hasMore)
    {
        var root = page.RootElement;
        Assert.Equal(expectedIds, Ids(page));
        Assert.Equal(hasMore, root.GetProperty("has_more").GetBoolean());
        if (expectedIds.Length == 0)
        {
            Assert.Equal(JsonValueKind.Null, root.GetProperty("first_id").ValueKind);
            Assert.Equal(JsonValueKind.Null, root.GetProperty("last_id").ValueKind);
        }
        else
        {
            Assert.Equal(expectedIds[0], root.GetProperty("first_id").GetString());
            Assert.Equal(expectedIds[^1], root.GetProperty("last_id").GetString());
        }
    }

    [Fact]
    public async Task List_IsAnthropicFormat_WithOpenAIsFieldsBeside_ExactNamesInConfigOrder_NoPatterns()
    {
        using var page = await GetJsonAsync("v1/models");
        var root = page.RootElement;

        Assert.Equal(["data", "first_id", "has_more", "last_id", "object"], root.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.Equal("list", root.GetProperty("object").GetString());
        AssertCursors(page, Listed, hasMore: false);
        foreach (var model in root.GetProperty("data").EnumerateArray())
        {
            Assert.Equal("model", model.GetProperty("type").GetString());
            Assert.False(string.IsNullOrEmpty(model.GetProperty("display_name").GetString()));
            var createdAt = model.GetProperty("created_at").GetString()!;
            Assert.Matches(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$", createdAt);
            Assert.True(DateTimeOffset.TryParse(createdAt, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out _));
            Assert.DoesNotContain("*", model.GetProperty("id").GetString()!, StringComparison.Ordinal);
            // What the OpenAI SDKs read from the same entry.
            Assert.Equal("model", model.GetProperty("object").GetString());
            Assert.Equal(DateTimeOffset.Parse(createdAt, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal).ToUnixTimeSeconds(), model.GetProperty("created").GetInt64());
            Assert.Equal("relay", model.GetProperty("owned_by").GetString());
        }
    }

    [Fact]
    public async Task List_DisplayNameDefaultsToTheId()
    {
        using var page = await GetJsonAsync("v1/models");
        var data = page.RootElement.GetProperty("data");

        Assert.Equal("Claude Sonnet 4.6 (via Relay)", data[0].GetProperty("display_name").GetString());
        Assert.Equal("claude-opus-4-7", data[1].GetProperty("display_name").GetString());
    }

    [Fact]
    public async Task List_MarksFamilyTierAndTheFirstOfEachFamilyAsDefault()
    {
        using var page = await GetJsonAsync("v1/models");
        var byId = page.RootElement.GetProperty("data").EnumerateArray().ToDictionary(m => m.GetProperty("id").GetString()!);

        void AssertFamily(string id, string family, bool isDefault)
        {
            Assert.Equal(family, byId[id].GetProperty("anthropic_family_tier").GetString());
            Assert.Equal(isDefault, byId[id].GetProperty("is_family_default").GetBoolean());
        }

        AssertFamily("claude-sonnet-4-6", "sonnet", true);
        AssertFamily("claude-opus-4-7", "opus", true);
        AssertFamily("alias-sonnet", "sonnet", false);

        // The haiku pattern comes first in the file but is not listed, so the exact haiku name is the default.
        AssertFamily("claude-haiku-4-5", "haiku", true);
        Assert.False(byId["deepseek-chat"].TryGetProperty("anthropic_family_tier", out _));
        Assert.False(byId["deepseek-chat"].TryGetProperty("is_family_default", out _));
    }

    [Fact]
    public async Task Limit_PagesForwardWithAfterId()
    {
        using var first = await GetJsonAsync("v1/models?limit=2");
        AssertCursors(first, Listed[..2], hasMore: true);

        using var second = await GetJsonAsync("v1/models?limit=2&after_id=" + first.RootElement.GetProperty("last_id").GetString());
        AssertCursors(second, Listed[2..4], hasMore: true);

        using var third = await GetJsonAsync("v1/models?limit=2&after_id=" + second.RootElement.GetProperty("last_id").GetString());
        AssertCursors(third, Listed[4..6], hasMore: true);

        using var exact = await GetJsonAsync($"v1/models?limit={Listed.Length}");
        AssertCursors(exact, Listed, hasMore: false);

        using var afterLast = await GetJsonAsync("v1/models?after_id=" + Listed[^1]);
        AssertCursors(afterLast, [], hasMore: false);
    }

    [Fact]
    public async Task BeforeId_PagesBackward()
    {
        using var page = await GetJsonAsync("v1/models?limit=2&before_id=deepseek-chat");
        AssertCursors(page, Listed[2..4], hasMore: true);

        using var previous = await GetJsonAsync("v1/models?limit=2&before_id=" + page.RootElement.GetProperty("first_id").GetString());
        AssertCursors(previous, Listed[..2], hasMore: false);

        using var all = await GetJsonAsync("v1/models?before_id=claude-haiku-4-5");
        AssertCursors(all, Listed[..3], hasMore: false);

        using var none = await GetJsonAsync("v1/models?before_id=claude-sonnet-4-6");
        AssertCursors(none, [], hasMore: false);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("1001")]
    [InlineData("-1")]
    [InlineData("abc")]
    [InlineData("2.5")]
    [InlineData("")]
    public async Task InvalidLimit_Is400(string limit)
    {
        using var response = await _relay.Client.GetAsync("v1/models?limit=" + limit, Ct);

        var error = await AnthropicAssert.IsErrorAsync(response, HttpStatusCode.BadRequest, "invalid_request_error");
        Assert.StartsWith("limit:", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("1", 1)]
    [InlineData("1000", 11)]
    public async Task BoundaryLimits_AreAccepted(string limit, int count)
    {
        using var page = await GetJsonAsync("v1/models?limit=" + limit);

        Assert.Equal(Listed[..count], Ids(page));
    }

    [Fact]
    public async Task GetListedModel_ReturnsItsEntry()
    {
        using var model = await GetJsonAsync("v1/models/claude-sonnet-4-6");
        var root = model.RootElement;

        Assert.Equal("model", root.GetProperty("type").GetString());
        Assert.Equal("claude-sonnet-4-6", root.GetProperty("id").GetString());
        Assert.Equal("Claude Sonnet 4.6 (via Relay)", root.GetProperty("display_name").GetString());
        Assert.Equal("sonnet", root.GetProperty("anthropic_family_tier").GetString());
        Assert.True(root.GetProperty("is_family_default").GetBoolean());
        Assert.Matches(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$", root.GetProperty("created_at").GetString()!);
    }

    [Fact]
    public async Task GetListedModel_IsTheSameObjectAsInTheList()
    {
        using var list = await GetJsonAsync("v1/models");
        using var one = await GetJsonAsync("v1/models/alias-sonnet");

        var listed = list.RootElement.GetProperty("data").EnumerateArray().Single(m => m.GetProperty("id").GetString() == "alias-sonnet");
        Assert.Equal(listed.GetRawText(), one.RootElement.GetRawText());
    }

    [Fact]
    public async Task GetPatternMatchedName_AnswersAsItself()
    {
        using var model = await GetJsonAsync("v1/models/claude-haiku-3-9");
        var root = model.RootElement;

        Assert.Equal("model", root.GetProperty("type").GetString());
        Assert.Equal("claude-haiku-3-9", root.GetProperty("id").GetString());
        Assert.Equal("haiku", root.GetProperty("anthropic_family_tier").GetString());
    }

    [Fact]
    public async Task GetUnknownName_Is404()
    {
        var config = new RelayConfig { Listen = ["http://127.0.0.1:0"] };
        config.Providers["demo"] = new ProviderConfig { Type = "mock" };
        config.Models["claude-sonnet-4-6"] = new ModelConfig { Routes = ["demo/a"] };
        config.Models["claude-haiku-*"] = new ModelConfig { Routes = ["demo/c"] };
        await using var relay = await RelayTestServer.StartAsync(config);

        using var response = await relay.Client.GetAsync("v1/models/gpt-5", Ct);

        var error = await AnthropicAssert.IsErrorAsync(response, HttpStatusCode.NotFound, "not_found_error");
        Assert.Contains("gpt-5", error.Message, StringComparison.Ordinal);
        Assert.Contains("claude-sonnet-4-6", error.Message, StringComparison.Ordinal);
        Assert.Contains("claude-haiku-*", error.Message, StringComparison.Ordinal);
    }
}
