using System.Net;
using System.Text.Json;
using Relay.Auth;
using Relay.Storage;
using Relay.Storage.Accounts;
using Relay.Tests.Infrastructure;

namespace Relay.Tests;

/// <summary><c>GET /v1/key</c>: a key holder reads their own key with the key itself, and nothing else.</summary>
public sealed class KeyStatusTests : RelayWithUpstream
{
    [Fact]
    public async Task OwnKey_ShowsLimitsBudgetBalanceAndItsOwnRecentUsage()
    {
        await Server.Store.CreateUserAsync("acme", Usd.ToNanos(20m), Ct);
        var key = ApiKeys.Generate();
        await Server.Store.CreateKeyAsync(new NewApiKey("alice", ApiKeys.Hash(key), ApiKeys.DisplayPrefix(key))
        {
            UserName = "acme",
            Limits = new KeyLimits
            {
                Models = ["claude-sonnet-*"],
                AllowedIps = ["127.0.0.1"],
                RequestsPerMinute = 600,
                Concurrency = 5,
                BudgetNanos = Usd.ToNanos(10m),
                BudgetPeriod = BudgetPeriod.Month,
                ExpiresAt = DateTimeOffset.UtcNow.AddDays(30),
            },
        }, Ct);
        using var holder = Server.CreateClient(key, bearer: true);
        for (var i = 0; i < 2; i++)
        {
            using var sent = await holder.PostAsync("v1/messages", JsonBody.Of(JsonBody.Message("claude-sonnet-4-6")), Ct);
            Assert.Equal(HttpStatusCode.OK, sent.StatusCode);
        }

        // Another key's request must not show.
        (await Server.Client.PostAsync("v1/messages", JsonBody.Of(JsonBody.Message("claude-sonnet-4-6")), Ct)).Dispose();
        await Server.WaitForUsageAsync(3);

        using var response = await holder.GetAsync("v1/key", Ct);
        var body = await response.Content.ReadAsStringAsync(Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        AnthropicAssert.HasRelayRequestId(response);
        Assert.DoesNotContain(key, body, StringComparison.Ordinal);
        Assert.DoesNotContain("\"test\"", body, StringComparison.Ordinal);
        using var json = JsonDocument.Parse(body);
        var root = json.RootElement;
        Assert.Equal(("alice", "active"), (root.GetProperty("name").GetString(), root.GetProperty("status").GetString()));
        Assert.Equal(["claude-sonnet-*"], root.GetProperty("models").EnumerateArray().Select(m => m.GetString()));
        Assert.Equal(["127.0.0.1"], root.GetProperty("allowed_ips").EnumerateArray().Select(m => m.GetString()));
        Assert.Equal(JsonValueKind.String, root.GetProperty("expires_at").ValueKind);
        var limits = root.GetProperty("limits");
        Assert.Equal((600, JsonValueKind.Null, 5), (limits.GetProperty("requests_per_minute").GetInt32(),
            limits.GetProperty("tokens_per_minute").ValueKind, limits.GetProperty("concurrency").GetInt32()));
        var budget = root.GetProperty("budget");
        Assert.Equal((10m, "month"), (budget.GetProperty("limit").GetDecimal(), budget.GetProperty("period").GetString()));
        var spent = budget.GetProperty("period_spent").GetDecimal();
        Assert.True(spent > 0, "a priced model's requests count against the budget");
        Assert.Equal(10m - spent, budget.GetProperty("remaining").GetDecimal());
        var now = DateTimeOffset.UtcNow;
        Assert.Equal(new DateTimeOffset(now.Year, now.Month, 1, 0, 0, 0, TimeSpan.Zero).AddMonths(1), budget.GetProperty("resets_at").GetDateTimeOffset());
        var user = root.GetProperty("user");
        Assert.Equal(("acme", 20m - spent), (user.GetProperty("name").GetString(), user.GetProperty("balance").GetDecimal()));

        var recent = root.GetProperty("recent_usage").EnumerateArray().ToList();
        Assert.Equal(2, recent.Count);
        Assert.All(recent, r => Assert.Equal(("claude-sonnet-4-6", 200, 12L), (r.GetProperty("model").GetString(), r.GetProperty("status").GetInt32(),
            r.GetProperty("input_tokens").GetInt64())));
        Assert.Equal(spent, recent.Sum(r => r.GetProperty("cost").GetDecimal()));
    }

    [Fact]
    public async Task RecentUsage_IsTheLast20_NewestFirst()
    {
        using var me = JsonDocument.Parse(await Server.Client.GetStringAsync("v1/key", Ct));
        Assert.Empty(me.RootElement.GetProperty("recent_usage").EnumerateArray());
        var keyId = (await Server.Store.FindKeyAsync("test", Ct))!.Id;
        var start = DateTimeOffset.UtcNow.AddHours(-1);
        await Server.Store.AppendUsageAsync([.. Enumerable.Range(0, 25).Select(i => new UsageRecord
        {
            Timestamp = start.AddMinutes(i), RequestId = $"req_{i}", KeyId = keyId, KeyName = "test", Endpoint = "messages",
            RequestedModel = "m", Status = 200, InputTokens = i, DurationMs = 1, Streamed = false,
        })], Ct);

        using var json = JsonDocument.Parse(await Server.Client.GetStringAsync("v1/key", Ct));

        var recent = json.RootElement.GetProperty("recent_usage").EnumerateArray().Select(r => r.GetProperty("input_tokens").GetInt64()).ToList();
        Assert.Equal(Enumerable.Range(5, 20).Reverse().Select(i => (long)i), recent);
        Assert.Equal(JsonValueKind.Null, json.RootElement.GetProperty("budget").ValueKind);
        Assert.Equal(JsonValueKind.Null, json.RootElement.GetProperty("user").ValueKind);
    }

    [Fact]
    public async Task DisabledKey_StillReadsItsStatus_RevokedAndUnknownKeysGet401()
    {
        var key = ApiKeys.Generate();
        await Server.Store.CreateKeyAsync("bob", ApiKeys.Hash(key), ApiKeys.DisplayPrefix(key), Ct);
        using var holder = Server.CreateClient(key);

        await Server.Store.SetKeyDisabledAsync("bob", true, Ct);
        using var disabled = JsonDocument.Parse(await holder.GetStringAsync("v1/key", Ct));
        Assert.Equal("disabled", disabled.RootElement.GetProperty("status").GetString());

        await Server.Store.RevokeKeyAsync("bob", Ct);
        using var revoked = await holder.GetAsync("v1/key", Ct);
        await AnthropicAssert.IsErrorAsync(revoked, HttpStatusCode.Unauthorized, "authentication_error");

        using var anonymous = Server.CreateClient();
        using var missing = await anonymous.GetAsync("v1/key", Ct);
        var error = await AnthropicAssert.IsErrorAsync(missing, HttpStatusCode.Unauthorized, "authentication_error");
        Assert.Contains("x-api-key", error.Message, StringComparison.Ordinal);

        using var stranger = Server.CreateClient(ApiKeys.Generate());
        using var unknown = await stranger.GetAsync("v1/key", Ct);
        await AnthropicAssert.IsErrorAsync(unknown, HttpStatusCode.Unauthorized, "authentication_error");
    }

    [Fact]
    public async Task KeyLimitedToOtherAddresses_Is403()
    {
        var key = ApiKeys.Generate();
        await Server.Store.CreateKeyAsync(new NewApiKey("far", ApiKeys.Hash(key), ApiKeys.DisplayPrefix(key))
        {
            Limits = new KeyLimits { AllowedIps = ["10.0.0.0/8"] },
        }, Ct);
        using var holder = Server.CreateClient(key);

        using var response = await holder.GetAsync("v1/key", Ct);

        var error = await AnthropicAssert.IsErrorAsync(response, HttpStatusCode.Forbidden, "permission_error");
        Assert.DoesNotContain("far", error.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ThroughABridge_TheRemoteRelayAnswers()
    {
        await using var bridge = await RelayTestServer.StartAsync(Relay.Cli.BridgeCommand.CreateConfig(Server.BaseUrl, "http://127.0.0.1:0", 30));
        using var client = bridge.CreateClient(Server.Key, bearer: true);

        using var response = await client.GetAsync("v1/key", Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct));
        Assert.Equal("test", json.RootElement.GetProperty("name").GetString());
    }
}
