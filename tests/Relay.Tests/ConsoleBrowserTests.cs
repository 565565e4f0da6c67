using System.Net;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Relay.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace Relay.Tests;

/// <summary>The web console in a real browser (Debian's Chromium) over real Kestrel: sign in with the admin key, create
/// a key and use it, revoke it and see it refused, top up a user, the Chinese UI, deep links and reload, and sign-in
/// refusals. Each page's screenshot is saved under <see cref="ConsoleBrowser.ScreenshotFolder"/>.</summary>
public sealed class ConsoleBrowserTests : IAsyncLifetime
{
    private const string Request = """{"model":"claude-haiku-4-5","max_tokens":16,"messages":[{"role":"user","content":"hi"}]}""";

    private ConsoleBrowser _browser = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => _browser = await ConsoleBrowser.LaunchAsync();

    public async ValueTask DisposeAsync() => await _browser.DisposeAsync();

    [Fact]
    public async Task Operator_CreatesAKey_ItWorks_RevokesIt_AndTheNextRequestIsRefused()
    {
        await using var relay = await StartAsync(burst: 1000);
        var page = await _browser.NewPageAsync();

        await page.GotoAsync(relay.BaseUrl + "/console/keys");
        await Expect(page).ToHaveURLAsync(new Regex("/relay/console/signin$"));
        await ConsoleBrowser.ScreenshotAsync(page, "signin");
        await SignInAsync(page);
        await Expect(page).ToHaveURLAsync(new Regex("/relay/console/keys$"));

        await page.FillAsync("#key-name", "laptop");
        await page.ClickAsync("#create-key button[type=submit]");
        var key = (await page.Locator("#new-key").TextContentAsync())!;
        Assert.StartsWith("sk-", key, StringComparison.Ordinal);
        var settings = (await page.Locator("#claude-code-settings").TextContentAsync())!;
        Assert.Contains($"\"ANTHROPIC_BASE_URL\": \"{relay.BaseUrl}\"", settings, StringComparison.Ordinal);
        Assert.Contains($"\"ANTHROPIC_AUTH_TOKEN\": \"{key}\"", settings, StringComparison.Ordinal);
        await Expect(page.Locator("#claude-desktop-values")).ToContainTextAsync($"inferenceGatewayBaseUrl: {relay.BaseUrl}");
        await Expect(page.Locator("tr[data-key=laptop] .status-active")).ToBeVisibleAsync();
        await ConsoleBrowser.ScreenshotAsync(page, "keys-created");

        using var client = relay.CreateClient(key);
        using (var answer = await client.PostAsync("v1/messages", JsonBody.Of(Request), Ct))
        {
            Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        }

        page.Dialog += async (_, dialog) => await dialog.AcceptAsync();
        await page.ClickAsync("tr[data-key=laptop] button.danger");
        await Expect(page.Locator("tr[data-key=laptop]")).ToHaveCountAsync(0);
        using (var refused = await client.PostAsync("v1/messages", JsonBody.Of(Request), Ct))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }

        // A deep link survives a reload; the page's own session stays.
        await page.ReloadAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/relay/console/keys$"));
        await Expect(page.Locator("#create-key")).ToBeVisibleAsync();
        await ConsoleBrowser.ScreenshotAsync(page, "keys");
    }

    [Fact]
    public async Task Operator_DisablesAndEnablesAKey_AndTopsUpAUser()
    {
        await using var relay = await StartAsync(burst: 1000);
        var page = await _browser.NewPageAsync();
        await page.GotoAsync(relay.BaseUrl + "/console/");
        await SignInAsync(page);

        await page.FillAsync("#user-name", "alice");
        await page.FillAsync("#user-balance", "1");
        await page.ClickAsync("#create-user button[type=submit]");
        await page.FillAsync("tr[data-user=alice] .topup-amount", "4.5");
        await page.ClickAsync("tr[data-user=alice] button[type=submit]");
        await Expect(page.Locator("tr[data-user=alice] .balance")).ToHaveTextAsync("$5.50");

        await page.ClickAsync("tr[data-key=test] button:not(.danger)");
        await Expect(page.Locator("tr[data-key=test] .status-disabled")).ToBeVisibleAsync();
        using (var refused = await relay.Client.PostAsync("v1/messages", JsonBody.Of(Request), Ct))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }

        await page.ClickAsync("tr[data-key=test] button:not(.danger)");
        await Expect(page.Locator("tr[data-key=test] .status-active")).ToBeVisibleAsync();
        using var accepted = await relay.Client.PostAsync("v1/messages", JsonBody.Of(Request), Ct);
        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
    }

    [Fact]
    public async Task UsageLog_FiltersByKeyAndStatus_PagesThrough_AndOpensOneRequest_FromADeepLink()
    {
        await using var relay = await StartAsync(burst: 1000);
        for (var i = 0; i < 3; i++)
        {
            using var answer = await relay.Client.PostAsync("v1/messages", JsonBody.Of(Request), Ct);
            Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        }

        using (var unknown = await relay.Client.PostAsync("v1/messages", JsonBody.Of(Request.Replace("claude-haiku-4-5", "no-such-model", StringComparison.Ordinal)), Ct))
        {
            Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        }

        var records = await relay.WaitForUsageAsync(4);
        Assert.Equal(4, records.Count);
        var page = await _browser.NewPageAsync();

        // A deep link opened before sign-in is where sign-in leads.
        await page.GotoAsync(relay.BaseUrl + "/console/usage?key=test&status=ok&limit=2");
        await SignInAsync(page);
        await Expect(page).ToHaveURLAsync(new Regex("/relay/console/usage\\?key=test&status=ok&limit=2$"));
        await Expect(page.Locator("#usage-table tbody tr")).ToHaveCountAsync(2);
        await ConsoleBrowser.ScreenshotAsync(page, "usage");
        var firstPage = await page.Locator("#usage-table tbody tr").EvaluateAllAsync<string[]>("rows => rows.map(r => r.dataset.request)");

        await page.ClickAsync("#usage-older");
        await Expect(page.Locator("#usage-table tbody tr")).ToHaveCountAsync(1);
        var secondPage = await page.Locator("#usage-table tbody tr").GetAttributeAsync("data-request");
        Assert.Equal(records.Where(r => r.Status == 200).Select(r => r.RequestId).Order(), firstPage.Append(secondPage!).Order());

        await page.GoBackAsync();
        await Expect(page.Locator("#usage-table tbody tr")).ToHaveCountAsync(2);

        await page.FillAsync("#filter-status", "404");
        await page.ClickAsync("#usage-filter button[type=submit]");
        await Expect(page.Locator("#usage-table tbody tr")).ToHaveCountAsync(1);
        var failed = records.Single(r => r.Status == 404);
        await page.ClickAsync($"tr[data-request='{failed.RequestId}'] a");
        await Expect(page.Locator("#usage-request")).ToContainTextAsync(failed.RequestId);
        await Expect(page.Locator("#usage-request")).ToContainTextAsync("no-such-model");
        await ConsoleBrowser.ScreenshotAsync(page, "usage-request");

        await page.ReloadAsync();
        await Expect(page.Locator("#usage-request")).ToContainTextAsync(failed.RequestId);
    }

    [Fact]
    public async Task AChangeWithoutTheCsrfToken_IsRefusedEvenFromTheSignedInPage()
    {
        await using var relay = await StartAsync(burst: 1000);
        var page = await _browser.NewPageAsync();
        await page.GotoAsync(relay.BaseUrl + "/console/");
        await SignInAsync(page);

        var status = await page.EvaluateAsync<int>("""
            async () => (await fetch("api/users", { method: "POST", headers: { "Content-Type": "application/json" }, body: '{"name":"mallory"}' })).status
            """);

        Assert.Equal(403, status);
        Assert.Null(await relay.Store.FindUserAsync("mallory", Ct));
    }

    [Fact]
    public async Task TheChineseUi_RendersChinese_AfterTheSwitch_AndRemembersIt()
    {
        await using var relay = await StartAsync(burst: 1000);
        var page = await _browser.NewPageAsync();
        await page.GotoAsync(relay.BaseUrl + "/console/");
        await SignInAsync(page);
        await Expect(page.Locator("h1")).ToHaveTextAsync("Users and keys");

        await page.SelectOptionAsync("#language", "zh-CN");

        await Expect(page.Locator("h1")).ToHaveTextAsync("用户与密钥");
        await Expect(page.Locator("html")).ToHaveAttributeAsync("lang", "zh-CN");
        await Expect(page.Locator("tr[data-key=test] .status-active")).ToHaveTextAsync("正常");
        await page.ReloadAsync();
        await Expect(page.Locator("h1")).ToHaveTextAsync("用户与密钥");
        await ConsoleBrowser.ScreenshotAsync(page, "keys-zh-CN");
    }

    [Fact]
    public async Task AChineseBrowser_GetsTheChineseSignInPage()
    {
        await using var relay = await StartAsync(burst: 1000);
        var page = await _browser.NewPageAsync(locale: "zh-CN");

        await page.GotoAsync(relay.BaseUrl + "/console/");

        await Expect(page.Locator("h1")).ToHaveTextAsync("登录");
        await Expect(page.Locator("html")).ToHaveAttributeAsync("lang", "zh-CN");
        await ConsoleBrowser.ScreenshotAsync(page, "signin-zh-CN");
    }

    [Fact]
    public async Task AWrongAdminKey_IsRefused_AndRepeatedFailuresAreRateLimited()
    {
        await using var relay = await StartAsync(burst: 2);
        var page = await _browser.NewPageAsync();
        await page.GotoAsync(relay.BaseUrl + "/console/");

        await SignInAsync(page, "wrong-key-1");
        await Expect(page.Locator("#signin-error")).ToHaveTextAsync("That is neither the admin key nor a valid API key.");
        await SignInAsync(page, "wrong-key-2");
        await SignInAsync(page, "wrong-key-3");

        await Expect(page.Locator("#signin-error")).ToContainTextAsync("Too many failed sign-ins");
        await Expect(page).ToHaveURLAsync(new Regex("/relay/console/signin$"));
        using var http = new HttpClient();
        using var keys = await http.GetAsync(relay.BaseUrl + "/console/api/keys", Ct);
        Assert.NotEqual(HttpStatusCode.OK, keys.StatusCode);
    }

    [Fact]
    public async Task AKeyHolder_SignsInWithTheirKey_AndSeesOnlyThatKey_AndTheirOwnRequest()
    {
        await using var relay = await StartAsync(burst: 1000);
        using (var admin = new ConsoleClient(relay))
        {
            await admin.SignInAsync(AdminClient.AdminKey);
            Assert.Equal(HttpStatusCode.OK, (await admin.SendAsync(HttpMethod.Patch, "api/keys/test", """{"budget":5,"budgetPeriod":"month"}""")).Status);
            var other = (await admin.SendAsync(HttpMethod.Post, "api/keys", """{"name":"other-team-key"}"""))["key"].GetString()!;
            using var otherClient = relay.CreateClient(other);
            using var otherAnswer = await otherClient.PostAsync("v1/messages", JsonBody.Of(Request), Ct);
            Assert.Equal(HttpStatusCode.OK, otherAnswer.StatusCode);
        }

        string requestId;
        using (var mine = await relay.Client.PostAsync("v1/messages", JsonBody.Of(Request), Ct))
        {
            Assert.Equal(HttpStatusCode.OK, mine.StatusCode);
            requestId = mine.Headers.GetValues("request-id").Single();
        }

        await relay.WaitForUsageAsync(2);
        var page = await _browser.NewPageAsync();
        await page.GotoAsync(relay.BaseUrl + "/console/");

        await SignInAsync(page, relay.Key);

        await Expect(page).ToHaveURLAsync(new Regex("/relay/console/me$"));
        await Expect(page.Locator("#me-name")).ToHaveTextAsync("test");
        await Expect(page.Locator("#me-status .status-active")).ToBeVisibleAsync();
        await Expect(page.Locator($"#me-recent tr[data-request='{requestId}']")).ToBeVisibleAsync();
        await Expect(page.Locator("#me-recent tbody tr")).ToHaveCountAsync(1);
        await Expect(page.Locator("#me-budget-left")).ToContainTextAsync("$4.99");
        await Expect(page.Locator("nav a")).ToHaveCountAsync(1);
        await Expect(page.Locator("nav a[href=keys], nav a[href=usage]")).ToHaveCountAsync(0);
        Assert.DoesNotContain("other-team-key", await page.ContentAsync(), StringComparison.Ordinal);
        Assert.DoesNotContain(relay.Key, await page.ContentAsync(), StringComparison.Ordinal);
        await ConsoleBrowser.ScreenshotAsync(page, "key-holder-me");

        await page.ReloadAsync();
        await Expect(page.Locator("#me-name")).ToHaveTextAsync("test");

        // An operator's page is not theirs: the console brings them back to their own key.
        await page.GotoAsync(relay.BaseUrl + "/console/keys");
        await Expect(page).ToHaveURLAsync(new Regex("/relay/console/me$"));
        await page.SelectOptionAsync("#language", "zh-CN");
        await Expect(page.Locator("h1")).ToHaveTextAsync("我的密钥");
        Assert.DoesNotContain("other-team-key", await page.ContentAsync(), StringComparison.Ordinal);
        await ConsoleBrowser.ScreenshotAsync(page, "key-holder-me-zh");
    }

    [Fact]
    public async Task SignOut_ReturnsToSignIn_AndTheBackButtonDoesNotReopenThePage()
    {
        await using var relay = await StartAsync(burst: 1000);
        var page = await _browser.NewPageAsync();
        await page.GotoAsync(relay.BaseUrl + "/console/");
        await SignInAsync(page);
        await Expect(page.Locator("#create-key")).ToBeVisibleAsync();

        await page.ClickAsync("#sign-out");
        await Expect(page).ToHaveURLAsync(new Regex("/relay/console/signin$"));
        await page.GoBackAsync();

        await Expect(page.Locator("#admin-key")).ToBeVisibleAsync();
        await Expect(page.Locator("#create-key")).ToHaveCountAsync(0);
    }

    private static async Task SignInAsync(IPage page, string key = AdminClient.AdminKey)
    {
        await page.FillAsync("#admin-key", key);
        await page.ClickAsync("form button[type=submit]");
    }

    private static async Task<RelayTestServer> StartAsync(int burst)
    {
        var config = RelayTestServer.DefaultConfig(null);
        config.AdminKey = AdminClient.AdminKey;
        config.BasePath = "/relay";
        config.UnauthenticatedLimit.Burst = burst;
        config.UnauthenticatedLimit.PerSecond = 0.001;
        return await RelayTestServer.StartAsync(config);
    }
}
