using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Relay.Configuration;
using Relay.Tests.Infrastructure;

namespace Relay.Tests;

/// <summary>Clients without a valid key cannot fill the database or the log: they are counted, limited per address, and
/// leave no usage record; and whatever a client sends is shortened and escaped before Relay repeats it.</summary>
public sealed class StrangerTests : RelayWithUpstream
{
    private const string AdminKey = "admin-key-for-tests-0123456789";

    private readonly CountingLoggerProvider _log = new(LogLevel.Information);

    private protected override void Configure(RelayConfig config)
    {
        config.AdminKey = AdminKey;
        config.UnauthenticatedLimit = new UnauthenticatedLimitConfig { Burst = 5, PerSecond = 0.5 };
    }

    private protected override void Customize(WebApplicationBuilder builder)
    {
        builder.Logging.SetMinimumLevel(LogLevel.Information);
        builder.Services.AddSingleton<ILoggerProvider>(_log);
    }

    [Fact]
    public async Task RequestsWithoutAValidKey_Get401ThenA429_AreCountedAndLoggedOnce_AndWriteNoUsage()
    {
        using var anonymous = Server.CreateClient();
        using var wrongKey = Server.CreateClient("sk-relay-not-a-key");
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 8; i++)
        {
            using var response = await (i % 2 == 0 ? anonymous : wrongKey).PostAsync("v1/messages", JsonBody.Of(JsonBody.Message("claude-sonnet-4-6")), Ct);
            statuses.Add(response.StatusCode);
            if (i == 7)
            {
                var error = await AnthropicAssert.IsErrorAsync(response, HttpStatusCode.TooManyRequests, "rate_limit_error");
                Assert.Contains("valid API key", error.Message, StringComparison.Ordinal);
                var retryAfter = int.Parse(Assert.Single(response.Headers.GetValues("retry-after")), System.Globalization.CultureInfo.InvariantCulture);
                Assert.InRange(retryAfter, 1, 2);
            }
        }

        // A valid key from the same address is never limited.
        using var valid = await Server.Client.PostAsync("v1/messages", JsonBody.Of(JsonBody.Message("claude-sonnet-4-6")), Ct);
        using var admin = Server.CreateClient(AdminKey);
        var routes = JsonNode.Parse(await admin.GetStringAsync("v1/routes", Ct))!;

        Assert.Equal([.. Enumerable.Repeat(HttpStatusCode.Unauthorized, 5), .. Enumerable.Repeat(HttpStatusCode.TooManyRequests, 3)], statuses);
        Assert.Equal(HttpStatusCode.OK, valid.StatusCode);
        Assert.Equal(8, (long)routes["unauthenticated"]!["requests"]!);
        Assert.Equal(3, (long)routes["unauthenticated"]!["rate_limited"]!);
        var record = Assert.Single(await Server.WaitForUsageAsync(2, TimeSpan.FromSeconds(1)));
        Assert.Equal(200, record.Status);
        var lines = _log.Entries.Where(e => e.EventId == 50).ToList();
        var line = Assert.Single(lines);
        Assert.Contains("127.0.0.1", line.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(_log.Entries, e => e.EventId == 1 && !e.Message.Contains("key=test", StringComparison.Ordinal));

        var output = new StringWriter();
        using var dir = new TempDirectory();
        Assert.Equal(0, await Relay.Cli.RelayCli.RunAsync(["routes", "--url", Server.BaseUrl, "--admin-key", AdminKey, "--config", dir.File("none.json")], output, new StringWriter(), Ct));
        Assert.Contains("Requests without a valid key: 8 (3 answered 429), from 1 address(es)", output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task HugeModelName_IsShortenedInThe404_TheUsageRecordAndTheLog()
    {
        var name = new string('m', 10 * 1024 * 1024);

        using var response = await Server.Client.PostAsync("v1/messages", JsonBody.Of(JsonBody.Message(name)), Ct);

        var error = await AnthropicAssert.IsErrorAsync(response, HttpStatusCode.NotFound, "not_found_error");
        Assert.Contains(new string('m', 200) + "… is not configured", error.Message, StringComparison.Ordinal);
        Assert.True(error.Message.Length < 1_000, $"the 404 message is {error.Message.Length} characters");
        var record = Assert.Single(await Server.WaitForUsageAsync(1));
        Assert.Equal(new string('m', 200) + "…", record.RequestedModel);
        var completed = Assert.Single(_log.Entries, e => e.EventId == 1);
        Assert.True(completed.Message.Length < 1_000, $"the log line is {completed.Message.Length} characters");
    }

    [Fact]
    public async Task EscapeSequencesInAModelName_AreEscapedInThe404_TheUsageRecordAndTheLog()
    {
        const string name = "x\u001b[2J\u001b[31mred\u0007\r\nFAKE LOG LINE";

        using var response = await Server.Client.PostAsync("v1/messages",
            JsonBody.Of($$"""{"model":"x\u001b[2J\u001b[31mred\u0007\r\nFAKE LOG LINE","max_tokens":5,"messages":[]}"""), Ct);

        const string escaped = "x\\u001b[2J\\u001b[31mred\\u0007\\u000d\\u000aFAKE LOG LINE";
        var error = await AnthropicAssert.IsErrorAsync(response, HttpStatusCode.NotFound, "not_found_error");
        Assert.Contains(escaped, error.Message, StringComparison.Ordinal);
        var record = Assert.Single(await Server.WaitForUsageAsync(1));
        Assert.Equal(escaped, record.RequestedModel);
        var completed = Assert.Single(_log.Entries, e => e.EventId == 1);
        Assert.Contains(escaped, completed.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(_log.Entries, e => e.Message.Contains('\u001b', StringComparison.Ordinal));
        Assert.NotEqual(name, record.RequestedModel);
    }

    [Fact]
    public async Task LongPath_IsShortenedInThe404()
    {
        using var response = await Server.Client.GetAsync("v1/nothing%1b%5b2J" + new string('p', 3000), Ct);

        var error = await AnthropicAssert.IsErrorAsync(response, HttpStatusCode.NotFound, "not_found_error");
        Assert.Contains("/v1/nothing%1B%5B2Jppp", error.Message, StringComparison.Ordinal);
        Assert.Contains("p…", error.Message, StringComparison.Ordinal);
        Assert.True(error.Message.Length < 500, $"the 404 message is {error.Message.Length} characters");
    }
}
