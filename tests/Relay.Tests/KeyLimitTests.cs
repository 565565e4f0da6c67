using System.Globalization;
using System.Net;
using System.Text.Json;
using Relay.Configuration;
using Relay.Storage.Accounts;
using Relay.Tests.Infrastructure;

namespace Relay.Tests;

/// <summary>
/// Every answer a key's limits give, in each front door's own protocol, over real Kestrel: a disabled or expired key
/// (401), a client address or model the key may not use (403), a model without a price for a metered key (403), rate
/// and concurrency limits (429 with retry-after and Anthropic's rate-limit headers), and a used-up budget or balance
/// (402); and <c>/v1/models</c> lists only what the key may use.
/// </summary>
public sealed class KeyLimitTests : RelayWithUpstream
{
    /// <summary>$1 per million tokens of every kind: 1000 nanodollars a token.</summary>
    private const string MeteredModel = "metered-model";

    private const string UnpricedModel = "unpriced-model";

    private protected override void Configure(RelayConfig config)
    {
        config.Models[MeteredModel] = new ModelConfig { Routes = ["up/metered-upstream"], MaxAttempts = 1 };
        config.Models[UnpricedModel] = new ModelConfig { Routes = ["up/unpriced-upstream"] };
        config.Prices[MeteredModel] = new PriceConfig { Input = 1, Output = 1, CacheWrite5m = 1, CacheWrite1h = 1, CacheRead = 1 };
        config.Models[ThinkingModel] = new ModelConfig { Routes = ["up/thinking-upstream"], MaxAttempts = 1 };
        config.Models[SearchModel] = new ModelConfig { Routes = ["up/search-upstream"], MaxAttempts = 1 };
        config.Prices[ThinkingModel] = new PriceConfig { Input = 100, Output = 100 };
        config.Scenarios = new ScenarioConfig { Thinking = ThinkingModel, WebSearch = SearchModel };
    }

    /// <summary>Where the thinking scenario sends requests; priced $100 per million tokens.</summary>
    private const string ThinkingModel = "thinking-model";

    /// <summary>Where the web search scenario sends requests; it has no price.</summary>
    private const string SearchModel = "search-model";

    private static string Thinking(string model) =>
        $$"""{"model":"{{model}}","max_tokens":2000,"thinking":{"type":"enabled","budget_tokens":1024},"messages":[{"role":"user","content":"Hi"}]}""";

    private static string WebSearch(string model) =>
        $$"""{"model":"{{model}}","max_tokens":100,"tools":[{"type":"web_search_20250305","name":"web_search"}],"messages":[{"role":"user","content":"Hi"}]}""";

    [Theory]
    [MemberData(nameof(LimitedKeys.Doors), MemberType = typeof(LimitedKeys))]
    public async Task DisabledKey_Is401_NotRetryable_AndRecorded(string door)
    {
        var key = await LimitedKeys.CreateAsync(Server, KeyLimits.None);
        var name = (await Server.Store.ListKeysAsync(false, Ct)).Single(k => k.Name.StartsWith("limited-", StringComparison.Ordinal)).Name;
        await Server.Store.SetKeyDisabledAsync(name, true, Ct);

        using var response = await LimitedKeys.SendAsync(Server, door, key, "claude-sonnet-4-6");

        var message = await LimitedKeys.AssertErrorAsync(response, door, HttpStatusCode.Unauthorized, "authentication_error", retryable: false);
        Assert.Equal("This key was disabled by the operator.", message);
        Assert.Empty(Upstream.Requests);
        var record = Assert.Single(await Server.WaitForUsageAsync(1));
        Assert.Equal((name, 401, "authentication_error"), (record.KeyName, record.Status, record.ErrorType));
    }

    [Theory]
    [MemberData(nameof(LimitedKeys.Doors), MemberType = typeof(LimitedKeys))]
    public async Task ExpiredKey_Is401_SayingWhen(string door)
    {
        var expired = new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);
        var key = await LimitedKeys.CreateAsync(Server, new KeyLimits { ExpiresAt = expired });

        using var response = await LimitedKeys.SendAsync(Server, door, key, "claude-sonnet-4-6");

        var message = await LimitedKeys.AssertErrorAsync(response, door, HttpStatusCode.Unauthorized, "authentication_error", retryable: false);
        Assert.Equal("This key expired at 2026-01-02 03:04:05 UTC.", message);
        Assert.Empty(Upstream.Requests);
    }

    [Theory]
    [MemberData(nameof(LimitedKeys.Doors), MemberType = typeof(LimitedKeys))]
    public async Task ClientAddressOutsideTheKeysList_Is403(string door)
    {
        var elsewhere = await LimitedKeys.CreateAsync(Server, new KeyLimits { AllowedIps = ["10.1.2.0/24", "2001:db8::/32"] });
        var here = await LimitedKeys.CreateAsync(Server, new KeyLimits { AllowedIps = ["10.1.2.0/24", "127.0.0.5/8"] });

        using var refused = await LimitedKeys.SendAsync(Server, door, elsewhere, "claude-sonnet-4-6");
        using var allowed = await LimitedKeys.SendAsync(Server, door, here, "claude-sonnet-4-6");

        var message = await LimitedKeys.AssertErrorAsync(refused, door, HttpStatusCode.Forbidden, "permission_error", retryable: false);
        Assert.Contains("may not be used from 127.0.0.1", message, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        Assert.Single(Upstream.Requests);
    }

    [Theory]
    [MemberData(nameof(LimitedKeys.Doors), MemberType = typeof(LimitedKeys))]
    public async Task ModelTheKeyMayNotUse_Is403_NamingTheAllowedPatterns(string door)
    {
        var key = await LimitedKeys.CreateAsync(Server, new KeyLimits { Models = ["claude-haiku-*", MeteredModel] });

        using var refused = await LimitedKeys.SendAsync(Server, door, key, "claude-sonnet-4-6");
        using var pattern = await LimitedKeys.SendAsync(Server, door, key, "claude-haiku-4-5[1m]");
        using var exact = await LimitedKeys.SendAsync(Server, door, key, MeteredModel);

        var message = await LimitedKeys.AssertErrorAsync(refused, door, HttpStatusCode.Forbidden, "permission_error", retryable: false);
        Assert.Equal($"This key may not use model claude-sonnet-4-6; it may use: claude-haiku-*, {MeteredModel}.", message);
        Assert.Equal(HttpStatusCode.OK, pattern.StatusCode);
        Assert.Equal(HttpStatusCode.OK, exact.StatusCode);
        Assert.Equal("/v1/messages", Assert.Single(Upstream.Requests).PathAndQuery); // the metered one; haiku is the mock
    }

    [Fact]
    public async Task ScenarioTarget_TheKeyMayNotUse_Is403_AndNothingIsSent()
    {
        var key = await LimitedKeys.CreateAsync(Server, new KeyLimits { Models = [MeteredModel] });
        var both = await LimitedKeys.CreateAsync(Server, new KeyLimits { Models = [MeteredModel, ThinkingModel] });
        using var client = Server.CreateClient(key);
        using var allowedClient = Server.CreateClient(both);

        using var refused = await client.PostAsync("v1/messages", JsonBody.Of(Thinking(MeteredModel)), Ct);
        var message = await LimitedKeys.AssertErrorAsync(refused, "messages", HttpStatusCode.Forbidden, "permission_error", retryable: false);
        Assert.Empty(Upstream.Requests);
        using var served = await allowedClient.PostAsync("v1/messages", JsonBody.Of(Thinking(MeteredModel)), Ct);

        Assert.Equal($"This request goes to model {ThinkingModel} (Relay's scenario:thinking rule), which this key may not use; it may use: {MeteredModel}.", message);
        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        Assert.Contains("thinking-upstream", Assert.Single(Upstream.Requests).BodyText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MeteredKey_IsPricedAtTheScenarioTarget_NotTheRequestedModel()
    {
        var key = await LimitedKeys.CreateAsync(Server, new KeyLimits { BudgetNanos = Usd.ToNanos(5) });
        using var client = Server.CreateClient(key);

        // The requested model has no price but the thinking scenario's target has; the search target has none.
        using var thinking = await client.PostAsync("v1/messages", JsonBody.Of(Thinking(UnpricedModel)), Ct);
        using var search = await client.PostAsync("v1/messages", JsonBody.Of(WebSearch(MeteredModel)), Ct);

        Assert.Equal(HttpStatusCode.OK, thinking.StatusCode);
        var message = await LimitedKeys.AssertErrorAsync(search, "messages", HttpStatusCode.Forbidden, "permission_error", retryable: false);
        Assert.StartsWith($"Model {SearchModel} has no price in Relay", message, StringComparison.Ordinal);
        Assert.Single(Upstream.Requests);
    }

    [Fact]
    public async Task ModelsList_ShowsOnlyWhatTheKeyMayUse()
    {
        var key = await LimitedKeys.CreateAsync(Server, new KeyLimits { Models = ["claude-sonnet-*"] });
        using var client = Server.CreateClient(key);

        using var list = JsonDocument.Parse(await client.GetStringAsync("v1/models?limit=1000", Ct));
        using var allowed = await client.GetAsync("v1/models/claude-sonnet-4-6", Ct);
        using var other = await client.GetAsync("v1/models/" + MeteredModel, Ct);
        using var everything = JsonDocument.Parse(await Server.Client.GetStringAsync("v1/models?limit=1000", Ct));

        var ids = list.RootElement.GetProperty("data").EnumerateArray().Select(m => m.GetProperty("id").GetString()!).ToList();
        Assert.Equal(["claude-sonnet-4-6"], ids);
        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        await AnthropicAssert.IsErrorAsync(other, HttpStatusCode.NotFound, "not_found_error");
        Assert.Contains(MeteredModel, everything.RootElement.GetProperty("data").EnumerateArray().Select(m => m.GetProperty("id").GetString()));
    }

    [Fact]
    public async Task DisabledKey_CannotListModels()
    {
        var key = await LimitedKeys.CreateAsync(Server, new KeyLimits { ExpiresAt = DateTimeOffset.UtcNow.AddMinutes(-1) });
        using var client = Server.CreateClient(key);

        using var response = await client.GetAsync("v1/models", Ct);

        await AnthropicAssert.IsErrorAsync(response, HttpStatusCode.Unauthorized, "authentication_error");
    }

    [Theory]
    [MemberData(nameof(LimitedKeys.Doors), MemberType = typeof(LimitedKeys))]
    public async Task ModelWithoutAPrice_Is403ForAMeteredKey_AndServedForAnUnmeteredOne(string door)
    {
        var budgeted = await LimitedKeys.CreateAsync(Server, new KeyLimits { BudgetNanos = Usd.ToNanos(5) });
        await Server.Store.CreateUserAsync("prepaid", Usd.ToNanos(5), Ct);
        var prepaid = await LimitedKeys.CreateAsync(Server, KeyLimits.None, user: "prepaid");
        var unmetered = await LimitedKeys.CreateAsync(Server, new KeyLimits { RequestsPerMinute = 100 });

        using var byBudget = await LimitedKeys.SendAsync(Server, door, budgeted, UnpricedModel);
        using var byBalance = await LimitedKeys.SendAsync(Server, door, prepaid, UnpricedModel);
        using var served = await LimitedKeys.SendAsync(Server, door, unmetered, UnpricedModel);

        foreach (var refused in new[] { byBudget, byBalance })
        {
            var message = await LimitedKeys.AssertErrorAsync(refused, door, HttpStatusCode.Forbidden, "permission_error", retryable: false);
            Assert.Contains($"Model {UnpricedModel} has no price in Relay", message, StringComparison.Ordinal);
        }

        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        Assert.Single(Upstream.Requests);
    }

    [Fact]
    public async Task AUserToppedUpForTheFirstTime_IsMeteredFromTheNextRequest()
    {
        await Server.Store.CreateUserAsync("newcomer", null, Ct);
        var key = await LimitedKeys.CreateAsync(Server, KeyLimits.None, user: "newcomer");

        using var unmetered = await LimitedKeys.SendAsync(Server, "messages", key, UnpricedModel);
        await Server.Store.TopUpAsync("newcomer", Usd.ToNanos(5), Ct);
        using var metered = await LimitedKeys.SendAsync(Server, "messages", key, UnpricedModel);

        // Without a balance the key was not metered; now prepaid, it may not use a model without a price.
        Assert.Equal(HttpStatusCode.OK, unmetered.StatusCode);
        await LimitedKeys.AssertErrorAsync(metered, "messages", HttpStatusCode.Forbidden, "permission_error", retryable: false);
    }

    [Theory]
    [MemberData(nameof(LimitedKeys.Doors), MemberType = typeof(LimitedKeys))]
    public async Task RequestsPerMinute_Is429WithRetryAfter_AndEveryAnswerCarriesTheKeysRateLimitHeaders(string door)
    {
        // The provider's own rate-limit headers speak of Relay's account there, not of the client's key.
        Upstream.Handler = (ctx, _) => Responses.Json(ctx, 200, Responses.MessageJson(), new Dictionary<string, string>
        {
            ["anthropic-ratelimit-requests-limit"] = "4000", ["anthropic-ratelimit-input-tokens-limit"] = "400000",
        });
        var key = await LimitedKeys.CreateAsync(Server, new KeyLimits { RequestsPerMinute = 1, TokensPerMinute = 50_000 });
        var before = DateTimeOffset.UtcNow;

        using var first = await LimitedKeys.SendAsync(Server, door, key, "claude-sonnet-4-6");
        using var second = await LimitedKeys.SendAsync(Server, door, key, "claude-sonnet-4-6");

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(("1", "0"), (LimitedKeys.Header(first, "anthropic-ratelimit-requests-limit"), LimitedKeys.Header(first, "anthropic-ratelimit-requests-remaining")));
        Assert.Equal("50000", LimitedKeys.Header(first, "anthropic-ratelimit-tokens-limit"));
        Assert.InRange(long.Parse(LimitedKeys.Header(first, "anthropic-ratelimit-tokens-remaining")!, CultureInfo.InvariantCulture), 49_900, 49_999);
        Assert.Null(LimitedKeys.Header(first, "anthropic-ratelimit-input-tokens-limit"));
        var reset = DateTimeOffset.ParseExact(LimitedKeys.Header(first, "anthropic-ratelimit-requests-reset")!, "yyyy-MM-dd'T'HH:mm:ss'Z'",
            CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
        Assert.InRange(reset, before.AddSeconds(59), DateTimeOffset.UtcNow.AddSeconds(61));

        var message = await LimitedKeys.AssertErrorAsync(second, door, HttpStatusCode.TooManyRequests, "rate_limit_error", retryable: true);
        Assert.Equal("This key's limit of 1 requests per minute is used up; retry in 60 s.", message);
        Assert.Equal("60", LimitedKeys.Header(second, "retry-after"));
        Assert.Equal(("1", "0"), (LimitedKeys.Header(second, "anthropic-ratelimit-requests-limit"), LimitedKeys.Header(second, "anthropic-ratelimit-requests-remaining")));
        Assert.Single(Upstream.Requests);
    }

    [Theory]
    [MemberData(nameof(LimitedKeys.Doors), MemberType = typeof(LimitedKeys))]
    public async Task TokensPerMinute_CountsWhatTheRequestReallyUsed(string door)
    {
        // 6000 a minute is 100 a second; the answer used 6300, so the next request waits about 3 s.
        Upstream.Handler = (ctx, _) => Responses.Json(ctx, 200, Responses.MessageJson(input: 6000, output: 300));
        var key = await LimitedKeys.CreateAsync(Server, new KeyLimits { TokensPerMinute = 6000 });

        using var first = await LimitedKeys.SendAsync(Server, door, key, "claude-sonnet-4-6");
        await Server.WaitForUsageAsync(1); // the request has ended and given its real count
        using var second = await LimitedKeys.SendAsync(Server, door, key, "claude-sonnet-4-6");

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        var message = await LimitedKeys.AssertErrorAsync(second, door, HttpStatusCode.TooManyRequests, "rate_limit_error", retryable: true);
        Assert.StartsWith("This key's limit of 6000 tokens per minute is used up; retry in ", message, StringComparison.Ordinal);
        Assert.InRange(int.Parse(LimitedKeys.Header(second, "retry-after")!, CultureInfo.InvariantCulture), 1, 3);
        Assert.Equal(("6000", "0"), (LimitedKeys.Header(second, "anthropic-ratelimit-tokens-limit"), LimitedKeys.Header(second, "anthropic-ratelimit-tokens-remaining")));
        Assert.Null(LimitedKeys.Header(second, "anthropic-ratelimit-requests-limit"));
    }

    [Theory]
    [MemberData(nameof(LimitedKeys.Doors), MemberType = typeof(LimitedKeys))]
    public async Task Concurrency_Is429WhileEverySlotIsTaken(string door)
    {
        var release = new TaskCompletionSource();
        var started = new TaskCompletionSource();
        Upstream.Handler = async (ctx, _) =>
        {
            started.TrySetResult();
            await release.Task;
            await Responses.Json(ctx, 200, Responses.MessageJson());
        };
        var key = await LimitedKeys.CreateAsync(Server, new KeyLimits { Concurrency = 1 });

        var running = LimitedKeys.SendAsync(Server, door, key, "claude-sonnet-4-6");
        await started.Task.WaitAsync(TimeSpan.FromSeconds(10), Ct);
        using var refused = await LimitedKeys.SendAsync(Server, door, key, "claude-sonnet-4-6");
        release.SetResult();
        using var finished = await running;
        await Server.WaitForUsageAsync(2); // both have ended (the slot is freed before the record is written)
        using var afterwards = await LimitedKeys.SendAsync(Server, door, key, "claude-sonnet-4-6");

        var message = await LimitedKeys.AssertErrorAsync(refused, door, HttpStatusCode.TooManyRequests, "rate_limit_error", retryable: true);
        Assert.Equal("This key already has 1 requests running, its concurrency limit; retry in 1 s.", message);
        Assert.Equal("1", LimitedKeys.Header(refused, "retry-after"));
        Assert.Equal(HttpStatusCode.OK, finished.StatusCode);
        Assert.Equal(HttpStatusCode.OK, afterwards.StatusCode);
    }

    [Theory]
    [MemberData(nameof(LimitedKeys.Doors), MemberType = typeof(LimitedKeys))]
    public async Task UsedUpDailyBudget_Is402_SayingWhenItResets(string door)
    {
        // The answer costs 12 + 5 tokens at $1/M = 17,000 nanodollars; the budget is less than one request.
        var key = await LimitedKeys.CreateAsync(Server, new KeyLimits { BudgetNanos = 10_000, BudgetPeriod = BudgetPeriod.Day });

        using var first = await LimitedKeys.SendAsync(Server, door, key, MeteredModel);
        Assert.Equal(17_000, Assert.Single(await Server.WaitForUsageAsync(1)).CostNanos);
        using var second = await LimitedKeys.SendAsync(Server, door, key, MeteredModel);

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        var message = await LimitedKeys.AssertErrorAsync(second, door, HttpStatusCode.PaymentRequired, "billing_error", retryable: false);
        var tomorrow = DateTime.UtcNow.Date.AddDays(1).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        Assert.Equal($"This key has used up its budget of $0.00001 per day (requests still running count against it); it resets at {tomorrow} 00:00:00 UTC.", message);
        Assert.Null(LimitedKeys.Header(second, "retry-after"));
        Assert.Single(Upstream.Requests);
    }

    [Fact]
    public async Task UsedUpLifetimeBudget_Is402_AskingForMore()
    {
        var key = await LimitedKeys.CreateAsync(Server, new KeyLimits { BudgetNanos = 17_000 });

        using var first = await LimitedKeys.SendAsync(Server, "messages", key, MeteredModel);
        await Server.WaitForUsageAsync(1);
        using var second = await LimitedKeys.SendAsync(Server, "messages", key, MeteredModel);

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        var error = await AnthropicAssert.IsErrorAsync(second, HttpStatusCode.PaymentRequired, "billing_error");
        Assert.Equal("This key has used up its budget of $0.000017 (requests still running count against it); ask the operator to raise it.", error.Message);
    }

    [Theory]
    [MemberData(nameof(LimitedKeys.Doors), MemberType = typeof(LimitedKeys))]
    public async Task UsedUpBalance_Is402_NamingTheUser(string door)
    {
        await Server.Store.CreateUserAsync("dana", 10_000, Ct);
        var key = await LimitedKeys.CreateAsync(Server, KeyLimits.None, user: "dana");

        using var first = await LimitedKeys.SendAsync(Server, door, key, MeteredModel);
        await Server.WaitForUsageAsync(1);
        using var second = await LimitedKeys.SendAsync(Server, door, key, MeteredModel);

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        var message = await LimitedKeys.AssertErrorAsync(second, door, HttpStatusCode.PaymentRequired, "billing_error", retryable: false);
        Assert.Equal("User 'dana' has no balance left for this request (requests still running count against it); ask the operator to top it up.", message);
        var user = await Server.Store.FindUserAsync("dana", Ct);
        Assert.Equal((-7_000L, 17_000L, 0L), (user!.BalanceNanos!.Value, user.SpentNanos, user.ReservedNanos));
        var records = await Server.WaitForUsageAsync(2);
        Assert.All(records, r => Assert.Equal("dana", r.UserName));
    }
}
