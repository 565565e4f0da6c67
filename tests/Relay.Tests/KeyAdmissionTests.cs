using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Relay.Accounting;
using Relay.Auth;
using Relay.Configuration;
using Relay.Protocol.Anthropic;
using Relay.Routing;
using Relay.Storage;
using Relay.Storage.Accounts;
using Relay.Tests.Infrastructure;

namespace Relay.Tests;

/// <summary>
/// Admission under load and when requests end badly, over real Kestrel and a real SQLite file: concurrent requests
/// cannot overspend a balance by more than the documented bound, failed and abandoned requests free their slot and
/// settle what they used, count_tokens is never limited or billed, and a limits store that fails refuses requests
/// rather than serving them unmetered.
/// </summary>
public sealed class KeyAdmissionTests : RelayWithUpstream
{
    /// <summary>$1 per million tokens of every kind: 1000 nanodollars a token, cache writes included.</summary>
    private const string MeteredModel = "metered-model";

    private const long NanosPerToken = 1000;

    private protected override void Configure(RelayConfig config)
    {
        config.Models[MeteredModel] = new ModelConfig { Routes = ["up/metered-upstream"], MaxAttempts = 1 };
        config.Prices[MeteredModel] = new PriceConfig { Input = 1, Output = 1, CacheWrite5m = 1, CacheWrite1h = 1, CacheRead = 1 };
    }

    private protected override void Customize(WebApplicationBuilder builder) =>
        builder.Services.AddSingleton<IAdmissionStore>(services => new BreakableAdmissionStore(services.GetRequiredService<IRelayStore>()));

    [Fact]
    public async Task FiftyConcurrentRequests_AgainstABalanceForTen_StayWithinTheBound()
    {
        // Each request holds (1 input token estimated + max_tokens 99) x 1000 = 100,000 nanodollars, and the answer
        // costs exactly that (1 input + 99 output tokens); the balance covers ten of them.
        const long cost = 100 * NanosPerToken;
        const long balance = 10 * cost;
        Upstream.Handler = async (ctx, _) =>
        {
            await Task.Delay(300, ctx.RequestAborted); // so the requests overlap
            await Responses.Json(ctx, 200, Responses.MessageJson(input: 1, output: 99));
        };
        await Server.Store.CreateUserAsync("eve", balance, Ct);
        var key = await LimitedKeys.CreateAsync(Server, KeyLimits.None, user: "eve");
        using var client = Server.CreateClient(key);

        var responses = await Task.WhenAll(Enumerable.Range(0, 50).Select(async _ =>
        {
            using var response = await client.PostAsync("v1/messages", JsonBody.Of(JsonBody.Message(MeteredModel, maxTokens: 99)), Ct);
            var body = await response.Content.ReadAsStringAsync(Ct);
            return (response.StatusCode, RequestId: AnthropicAssert.HasRelayRequestId(response), Body: body);
        }));

        var succeeded = responses.Count(r => r.StatusCode == HttpStatusCode.OK);
        Assert.InRange(succeeded, 1, 10);
        Assert.All(responses.Where(r => r.StatusCode != HttpStatusCode.OK), r =>
        {
            Assert.Equal(HttpStatusCode.PaymentRequired, r.StatusCode);
            Assert.Contains("\"billing_error\"", r.Body, StringComparison.Ordinal);
        });
        Assert.Equal(succeeded, Upstream.Requests.Count);

        var records = await Server.WaitForUsageAsync(50);
        Assert.Equal(50, records.Count);
        Assert.Equal(responses.Select(r => r.RequestId).Order(), records.Select(r => r.RequestId).Order());
        Assert.Equal(succeeded * cost, records.Sum(r => r.CostNanos ?? 0));

        // The floor: a balance ends above minus one reservation; here, where holds equal costs, at or above zero.
        var user = (await Server.Store.FindUserAsync("eve", Ct))!;
        Assert.Equal(balance - (succeeded * cost), user.BalanceNanos);
        Assert.True(user.BalanceNanos > -cost);
        Assert.Equal((succeeded * cost, 0L), (user.SpentNanos, user.ReservedNanos));
    }

    [Theory]
    [MemberData(nameof(LimitedKeys.Doors), MemberType = typeof(LimitedKeys))]
    public async Task AFailedUpstream_FreesTheSlot_AndReleasesTheHold(string door)
    {
        Upstream.Handler = (ctx, _) => Responses.Json(ctx, 529, Responses.ErrorJson("overloaded_error", "Overloaded"));
        await Server.Store.CreateUserAsync("frank", 10_000_000, Ct);
        var key = await LimitedKeys.CreateAsync(Server, new KeyLimits { Concurrency = 1 }, user: "frank");

        using var failed = await LimitedKeys.SendAsync(Server, door, key, MeteredModel);
        await Server.WaitForUsageAsync(1);
        Upstream.Handler = (ctx, _) => Responses.Json(ctx, 200, Responses.MessageJson(input: 10, output: 5));
        using var next = await LimitedKeys.SendAsync(Server, door, key, MeteredModel);
        await Server.WaitForUsageAsync(2);

        Assert.Equal(529, (int)failed.StatusCode);
        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
        var user = (await Server.Store.FindUserAsync("frank", Ct))!;
        Assert.Equal((10_000_000 - (15 * NanosPerToken), 15 * NanosPerToken, 0L), (user.BalanceNanos!.Value, user.SpentNanos, user.ReservedNanos));
    }

    [Fact]
    public async Task AClientThatLeaves_FreesTheSlot_AndPaysForWhatWasUsed()
    {
        Upstream.Handler = async (ctx, _) =>
        {
            try
            {
                // message_start reports 20 input tokens and 1 output token, then the answer crawls.
                await Responses.Stream(ctx, Responses.StreamEvents(Enumerable.Repeat("x", 100).ToArray(), input: 20), TimeSpan.FromSeconds(1));
            }
            catch (OperationCanceledException)
            {
            }
        };
        await Server.Store.CreateUserAsync("gina", 10_000_000, Ct);
        var key = await LimitedKeys.CreateAsync(Server, new KeyLimits { Concurrency = 1 }, user: "gina");
        using var client = Server.CreateClient(key);

        using (var request = new HttpRequestMessage(HttpMethod.Post, "v1/messages") { Content = JsonBody.Of(JsonBody.Message(MeteredModel, stream: true)) })
        using (var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, Ct))
        {
            await using var body = await response.Content.ReadAsStreamAsync(Ct);
            Assert.True(await body.ReadAsync(new byte[1024], Ct) > 0);
        } // the client leaves mid-stream

        var record = Assert.Single(await Server.WaitForUsageAsync(1));
        Upstream.Handler = (ctx, _) => Responses.Json(ctx, 200, Responses.MessageJson());
        using var next = await client.PostAsync("v1/messages", JsonBody.Of(JsonBody.Message(MeteredModel)), Ct);

        Assert.Equal((499, 21 * NanosPerToken), (record.Status, record.CostNanos));
        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
        await Server.WaitForUsageAsync(2);
        var user = (await Server.Store.FindUserAsync("gina", Ct))!;
        Assert.Equal((10_000_000 - (38 * NanosPerToken), 0L), (user.BalanceNanos!.Value, user.ReservedNanos));
    }

    [Fact]
    public async Task CountTokens_IsNeitherLimitedNorBilled()
    {
        Upstream.Handler = (ctx, _) => Responses.Json(ctx, 200, """{"input_tokens":5}""");
        await Server.Store.CreateUserAsync("hal", 0, Ct);
        var key = await LimitedKeys.CreateAsync(Server, new KeyLimits { RequestsPerMinute = 1, Concurrency = 1, BudgetNanos = 1 }, user: "hal");
        using var client = Server.CreateClient(key);
        const string count = """{"model":"metered-model","messages":[{"role":"user","content":"Hello"}]}""";

        var counted = new List<HttpStatusCode>();
        for (var i = 0; i < 3; i++)
        {
            using var response = await client.PostAsync("v1/messages/count_tokens", JsonBody.Of(count), Ct);
            Assert.False(response.Headers.Contains("anthropic-ratelimit-requests-limit"));
            counted.Add(response.StatusCode);
        }

        using var message = await client.PostAsync("v1/messages", JsonBody.Of(JsonBody.Message(MeteredModel)), Ct);

        Assert.All(counted, status => Assert.Equal(HttpStatusCode.OK, status));
        // The request allowance is untouched: the message is refused for the empty balance, not for the rate.
        await AnthropicAssert.IsErrorAsync(message, HttpStatusCode.PaymentRequired, "billing_error");
        var records = await Server.WaitForUsageAsync(4);
        Assert.All(records.Where(r => r.Endpoint == "count_tokens"), r => Assert.Equal(0, r.CostNanos));
        var user = (await Server.Store.FindUserAsync("hal", Ct))!;
        Assert.Equal((0L, 0L), (user.BalanceNanos!.Value, user.SpentNanos));
    }

    [Theory]
    [MemberData(nameof(LimitedKeys.Doors), MemberType = typeof(LimitedKeys))]
    public async Task WhenTheLimitsStoreFails_LimitedKeysAreRefused_AndUnlimitedKeysAreServed(string door)
    {
        var limited = await LimitedKeys.CreateAsync(Server, new KeyLimits { RequestsPerMinute = 100 });
        var unlimited = await LimitedKeys.CreateAsync(Server, KeyLimits.None);
        Assert.IsType<BreakableAdmissionStore>(Server.App.Services.GetRequiredService<IAdmissionStore>()).Broken = true;

        using var refused = await LimitedKeys.SendAsync(Server, door, limited, "claude-sonnet-4-6");
        using var served = await LimitedKeys.SendAsync(Server, door, unlimited, "claude-sonnet-4-6");

        var message = await LimitedKeys.AssertErrorAsync(refused, door, HttpStatusCode.ServiceUnavailable, "api_error", retryable: true);
        Assert.StartsWith("Relay could not check this key's limits", message, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        Assert.Single(Upstream.Requests);
        var records = await Server.WaitForUsageAsync(2);
        Assert.Contains(records, r => r.Status == 503 && r.ErrorType == "api_error");
    }

    [Fact]
    public async Task AStoreFailureWhileRelayStops_IsStillA503_AndTheRequestsOwnCancellationGoesOn()
    {
        var secret = await LimitedKeys.CreateAsync(Server, new KeyLimits { RequestsPerMinute = 100 });
        var key = (await Server.Store.FindActiveKeyAsync(ApiKeys.Hash(secret), Ct))!;
        var store = Assert.IsType<BreakableAdmissionStore>(Server.App.Services.GetRequiredService<IAdmissionStore>());
        var admission = Server.App.Services.GetRequiredService<KeyAdmission>();
        var model = Server.App.Services.GetRequiredService<ModelCatalog>().Exact(MeteredModel)!;
        Assert.True(MessagesRequestInspector.TryInspect(Encoding.UTF8.GetBytes(JsonBody.Message(MeteredModel)), MessagesEndpointKind.Messages, out var info, out _));
        using var stopping = new CancellationTokenSource();
        await stopping.CancelAsync(); // the drain deadline passed while the store was failing

        store.Broken = true;
        var refusal = await admission.AdmitAsync(new DefaultHttpContext(), key, MessagesEndpointKind.Messages, info, model, MeteredModel, new KeyAdmission.Ticket(), stopping.Token);
        store.Broken = false;
        store.Cancelled = true;
        var cancelled = admission.AdmitAsync(new DefaultHttpContext(), key, MessagesEndpointKind.Messages, info, model, MeteredModel, new KeyAdmission.Ticket(), stopping.Token);

        Assert.Equal((503, "api_error"), (refusal?.Status, refusal?.Type));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
    }

    [Fact]
    public async Task AHugeMaxTokens_OnAMeteredKey_IsAdmittedAgainstTheBudget_NotA500()
    {
        Upstream.Handler = (ctx, _) => Responses.Json(ctx, 200, Responses.MessageJson(input: 1, output: 9));
        var key = await LimitedKeys.CreateAsync(Server, new KeyLimits { BudgetNanos = Usd.ToNanos(1) });
        using var client = Server.CreateClient(key);
        var body = $$"""{"model":"{{MeteredModel}}","max_tokens":{{long.MaxValue}},"messages":[{"role":"user","content":"Hello"}]}""";

        using var first = await client.PostAsync("v1/messages", JsonBody.Of(body), Ct);
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        var record = Assert.Single(await Server.WaitForUsageAsync(1));
        using var second = await client.PostAsync("v1/messages", JsonBody.Of(body), Ct);

        // It held more than the budget while it ran and settled at what it used (10 tokens), so the next one is served.
        Assert.Equal(10 * NanosPerToken, record.CostNanos);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
    }
}

/// <summary>The server's admission store, made to fail on demand as a locked or broken database would.</summary>
internal sealed class BreakableAdmissionStore(IAdmissionStore inner) : IAdmissionStore
{
    public bool Broken { get; set; }

    /// <summary>Admission throws as a store does when its caller's token was cancelled.</summary>
    public bool Cancelled { get; set; }

    public Task<AdmissionDecision> AdmitAsync(AdmissionRequest request, CancellationToken cancellationToken) =>
        Broken ? throw new InvalidOperationException("database is locked")
        : Cancelled ? throw new OperationCanceledException(cancellationToken)
        : inner.AdmitAsync(request, cancellationToken);

    public Task ReleaseAsync(long reservationId, long actualTokens, DateTimeOffset now, CancellationToken cancellationToken) =>
        Broken ? throw new InvalidOperationException("database is locked") : inner.ReleaseAsync(reservationId, actualTokens, now, cancellationToken);
}
