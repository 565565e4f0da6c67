using System.Net;
using Relay.Tests.Infrastructure;

namespace Relay.Tests;

/// <summary>Every request leaves exactly one usage record with the right numbers, failures and shutdowns included.</summary>
public sealed class UsageRecordTests : RelayWithUpstream
{
    [Fact]
    public async Task NonStreaming_RecordHasUsageRouteKeyAndTiming()
    {
        Upstream.Handler = (ctx, _) => Responses.Json(ctx, 200, Responses.MessageJson(input: 31, output: 7, cacheWrite: 11, cacheRead: 400));

        using var response = await Server.Client.PostAsync("v1/messages?beta=true", JsonBody.Of(JsonBody.Message("claude-sonnet-4-6[1m]")), TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        var record = (await Server.WaitForUsageAsync(1)).Single();
        Assert.Equal("messages", record.Endpoint);
        Assert.Equal("claude-sonnet-4-6[1m]", record.RequestedModel);
        Assert.Equal(("up", "upstream-sonnet"), (record.Provider, record.UpstreamModel));
        Assert.Equal("test", record.KeyName);
        Assert.Equal(200, record.Status);
        Assert.Equal((31L, 7L, 11L, 400L), (record.InputTokens, record.OutputTokens, record.CacheCreationInputTokens, record.CacheReadInputTokens));
        Assert.False(record.Streamed);
        Assert.Equal(response.Headers.GetValues("request-id").Single(), record.RequestId);
        Assert.NotNull(record.FirstByteMs);
    }

    [Fact]
    public async Task Failures_AreRecordedWithStatusAndErrorType_ExceptRequestsWithoutAValidKey()
    {
        Upstream.Handler = (ctx, _) => Responses.Json(ctx, 529, Responses.ErrorJson("overloaded_error", "Overloaded"));
        using var anonymous = Server.CreateClient();

        (await anonymous.PostAsync("v1/messages", JsonBody.Of(JsonBody.Message("claude-sonnet-4-6")), TestContext.Current.CancellationToken)).Dispose();
        (await Server.Client.PostAsync("v1/messages", JsonBody.Of(JsonBody.Message("no-such-model")), TestContext.Current.CancellationToken)).Dispose();
        (await Server.Client.PostAsync("v1/messages", JsonBody.Of("{not json"), TestContext.Current.CancellationToken)).Dispose();
        (await Server.Client.PostAsync("v1/messages", JsonBody.Of(JsonBody.Message("claude-sonnet-4-6")), TestContext.Current.CancellationToken)).Dispose();

        // A stranger's 401 is counted, not recorded: it must not be able to fill the database.
        var records = (await Server.WaitForUsageAsync(4, TimeSpan.FromSeconds(2))).Reverse().ToList();
        Assert.Equal(3, records.Count);
        Assert.Equal((404, "not_found_error", "no-such-model"), (records[0].Status, records[0].ErrorType, records[0].RequestedModel));
        Assert.Equal((400, "invalid_request_error"), (records[1].Status, records[1].ErrorType));
        Assert.Equal((529, "overloaded_error", "up"), (records[2].Status, records[2].ErrorType, records[2].Provider));
        Assert.All(records, r => Assert.Equal("test", r.KeyName));
    }

    [Fact]
    public async Task CountTokens_IsRecordedAsItsOwnEndpoint()
    {
        Upstream.Handler = (ctx, _) => Responses.Json(ctx, 200, """{"input_tokens":1234}""");

        using var response = await Server.Client.PostAsync("v1/messages/count_tokens",
            JsonBody.Of("""{"model":"claude-sonnet-4-6","messages":[{"role":"user","content":"hi"}]}"""), TestContext.Current.CancellationToken);

        Assert.Equal("""{"input_tokens":1234}""", await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        Assert.Equal("/v1/messages/count_tokens", Upstream.LastRequest.PathAndQuery);
        var record = (await Server.WaitForUsageAsync(1)).Single();
        Assert.Equal(("count_tokens", 200), (record.Endpoint, record.Status));
    }

    [Fact]
    public async Task ClaudeCodeSessionAndAgentHeaders_AreRecorded_SoUsageSumsPerSession()
    {
        Upstream.Handler = (ctx, _) => Responses.Json(ctx, 200, Responses.MessageJson(input: 10, output: 4));
        var session = "4bbdb410-bb7f-42d2-b656-4860cc3b809e";
        async Task SendAsync(params (string Name, string Value)[] headers)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "v1/messages?beta=true") { Content = JsonBody.Of(JsonBody.Message("claude-sonnet-4-6")) };
            foreach (var (name, value) in headers)
            {
                request.Headers.TryAddWithoutValidation(name, value);
            }

            using var response = await Server.Client.SendAsync(request, TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        await SendAsync(("X-Claude-Code-Session-Id", session), ("x-claude-code-request-class", "main"));
        await SendAsync(("X-Claude-Code-Session-Id", session), ("x-claude-code-agent-id", "agent-explore-1"), ("x-claude-code-request-class", "subagent"));
        await SendAsync(("X-Claude-Code-Session-Id", session), ("x-claude-code-agent-id", "agent-nested-2"),
            ("x-claude-code-parent-agent-id", "agent-explore-1"));
        await SendAsync(("X-Claude-Code-Session-Id", new string('s', 5000)));
        await SendAsync();

        var records = (await Server.WaitForUsageAsync(5)).Reverse().ToList();
        Assert.Equal((session, null, null, "main"), (records[0].SessionId, records[0].AgentId, records[0].ParentAgentId, records[0].RequestClass));
        Assert.Equal((session, "agent-explore-1", null, "subagent"), (records[1].SessionId, records[1].AgentId, records[1].ParentAgentId, records[1].RequestClass));
        Assert.Equal((session, "agent-nested-2", "agent-explore-1"), (records[2].SessionId, records[2].AgentId, records[2].ParentAgentId));
        Assert.Equal(new string('s', 128), records[3].SessionId); // a header cannot fill the store
        Assert.Null(records[4].SessionId);

        var sessions = await Server.Store.GetUsageBySessionAsync(null, 50, TestContext.Current.CancellationToken);
        var one = sessions.Single(s => s.SessionId == session);
        Assert.Equal((3L, 2L, 30L, 12L), (one.Totals.Requests, one.Agents, one.Totals.InputTokens, one.Totals.OutputTokens));
        Assert.Equal(1, sessions.Single(s => s.SessionId == "(no session)").Totals.Requests);
        Assert.Equal(3, sessions.Count);
    }

    [Fact]
    public async Task ManyConcurrentRequests_EachGetsExactlyOneRecord()
    {
        Upstream.Handler = (ctx, _) => Responses.Json(ctx, 200, Responses.MessageJson(input: 3, output: 2));
        var tasks = Enumerable.Range(0, 200).Select(async i =>
        {
            using var response = await Server.Client.PostAsync("v1/messages", JsonBody.Of(JsonBody.Message(i % 2 == 0 ? "claude-sonnet-4-6" : "claude-haiku-4-5")), TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return response.Headers.GetValues("request-id").Single();
        });
        var ids = await Task.WhenAll(tasks);

        var records = await Server.WaitForUsageAsync(200);
        Assert.Equal(200, records.Count);
        Assert.Equal(ids.Order(), records.Select(r => r.RequestId).Order());
        var report = await Server.Store.GetUsageReportAsync(null, TestContext.Current.CancellationToken);
        Assert.Equal(200, report.Total.Requests);
        Assert.Equal(300, report.ByModel.Single(m => m.Group == "claude-sonnet-4-6").InputTokens);
        Assert.Equal(100, report.ByModel.Single(m => m.Group == "claude-haiku-4-5").Requests);
    }

    [Fact]
    public async Task GracefulShutdown_FinishesInFlightStreamsAndKeepsEveryRecord()
    {
        Upstream.Handler = (ctx, _) => Responses.Stream(ctx, Responses.StreamEvents(["a", "b", "c", "d"], input: 8, output: 4), TimeSpan.FromMilliseconds(150));
        var inFlight = Enumerable.Range(0, 10).Select(async _ =>
        {
            using var response = await Server.Client.PostAsync("v1/messages", JsonBody.Of(JsonBody.Message("claude-sonnet-4-6", stream: true)), TestContext.Current.CancellationToken);
            return await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        }).ToList();
        await Task.Delay(200, TestContext.Current.CancellationToken); // all ten are streaming now

        await Server.StopAsync(); // what Ctrl-C does: stop accepting, drain requests, flush usage

        var bodies = await Task.WhenAll(inFlight);
        Assert.All(bodies, b => Assert.EndsWith("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n", b, StringComparison.Ordinal));
        var records = await Server.Store.GetRecentUsageAsync(100, TestContext.Current.CancellationToken);
        Assert.Equal(10, records.Count);
        Assert.All(records, r => Assert.Equal((200, 8L, 4L), (r.Status, r.InputTokens, r.OutputTokens)));
    }
}
