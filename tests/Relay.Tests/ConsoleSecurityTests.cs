using System.Net;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Relay.Configuration;
using Relay.Tests.Infrastructure;

namespace Relay.Tests;

/// <summary>The web console's security over real Kestrel: nothing but the shell and its assets without a session, API
/// keys in headers count for nothing, the cookie's flags, CSRF on every change, rate-limited sign-in, expiry, the
/// headers on every answer, and no secret in any page or answer.</summary>
public sealed class ConsoleSecurityTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);
    private readonly CountingLoggerProvider _logs = new(LogLevel.Information);
    private RelayTestServer _server = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        var config = RelayTestServer.DefaultConfig(null);
        config.AdminKey = AdminClient.AdminKey;
        config.BasePath = "/relay";
        config.UnauthenticatedLimit.Burst = 1000;
        _server = await RelayTestServer.StartAsync(config, builder =>
        {
            builder.Services.AddSingleton<TimeProvider>(_time);
            builder.Logging.AddProvider(_logs);
            builder.Logging.SetMinimumLevel(LogLevel.Information);
        });
    }

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    [Theory]
    [InlineData("console")]
    [InlineData("console/")]
    [InlineData("console/keys")]
    [InlineData("console/usage/some/deep/link")]
    [InlineData("console/signin")]
    public async Task EveryPagePath_GetsTheAppShell_UnderBasePath_WithStrictHeaders(string path)
    {
        using var http = new HttpClient();

        using var response = await http.GetAsync(_server.BaseUrl + "/" + path, Ct);
        var html = await response.Content.ReadAsStringAsync(Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("""<base href="/relay/console/">""", html, StringComparison.Ordinal);
        Assert.DoesNotMatch(new Regex("<script(?![^>]*\\bsrc=)", RegexOptions.IgnoreCase), html);
        AssertConsoleHeaders(response);
    }

    [Theory]
    [InlineData("assets/app.js", "text/javascript")]
    [InlineData("assets/i18n.js", "text/javascript")]
    [InlineData("assets/style.css", "text/css")]
    public async Task Assets_AreServedFromTheBinary_WithoutASession(string path, string type)
    {
        using var http = new HttpClient();

        using var response = await http.GetAsync(_server.BaseUrl + "/console/" + path, Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(type, response.Content.Headers.ContentType?.MediaType);
        AssertConsoleHeaders(response);
    }

    [Theory]
    [InlineData("assets/missing.js")]
    [InlineData("api/nothing-here")]
    [InlineData("api")]
    public async Task UnknownAssetsAndApiPaths_Are404_NotTheShell(string path)
    {
        using var http = new HttpClient();

        using var response = await http.GetAsync(_server.BaseUrl + "/console/" + path, Ct);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task EveryConsoleApiRoute_IsRefusedWithoutASession_EvenWithTheAdminKeyOrAClientKeyInAHeader()
    {
        var routes = ((IEndpointRouteBuilder)_server.App).DataSources.SelectMany(d => d.Endpoints).OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText!.Contains("/console/api/", StringComparison.Ordinal))
            .SelectMany(e => e.Metadata.GetMetadata<HttpMethodMetadata>()!.HttpMethods.Select(m => (Method: m, Path: Concrete(e.RoutePattern.RawText!))))
            .Where(r => !(r.Method == "POST" && r.Path.EndsWith("/api/session", StringComparison.Ordinal)))
            .ToList();
        Assert.True(routes.Count >= 18, $"only {routes.Count} console API routes found");

        foreach (var key in new string?[] { null, AdminClient.AdminKey, _server.Key })
        {
            foreach (var bearer in new[] { false, true })
            {
                using var http = _server.CreateClient(key, bearer);
                foreach (var (method, path) in routes)
                {
                    using var request = new HttpRequestMessage(new HttpMethod(method), path["/relay/".Length..]);
                    request.Content = method is "GET" or "DELETE" ? null : JsonBody.Of("{}");
                    var answer = await AdminClient.SendAsync(http, request);
                    Assert.True(answer.Status == HttpStatusCode.Unauthorized, $"{method} {path} with {(key is null ? "no key" : "a key header")}: {(int)answer.Status}");
                    AssertConsoleHeaders(answer.Response);
                }
            }
        }
    }

    [Fact]
    public async Task SignIn_SetsAnHttpOnlySameSiteStrictCookie_ForTheConsolePathOnly()
    {
        using var console = new ConsoleClient(_server);

        var answer = await console.SignInAsync(AdminClient.AdminKey);

        Assert.Equal(HttpStatusCode.OK, answer.Status);
        var cookie = Assert.Single(answer.Response.Headers.GetValues("Set-Cookie"));
        Assert.StartsWith("relay_console=", cookie, StringComparison.Ordinal);
        var flags = cookie.Split(';', StringSplitOptions.TrimEntries).Skip(1).Select(f => f.ToLowerInvariant()).ToList();
        Assert.Contains("httponly", flags);
        Assert.Contains("samesite=strict", flags);
        Assert.Contains("path=/relay/console", flags);
        Assert.DoesNotContain("secure", flags); // plain HTTP here; Secure is set when the request came over HTTPS
        Assert.DoesNotContain(AdminClient.AdminKey, answer.Body, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await console.SendAsync(HttpMethod.Get, "api/keys")).Status);
    }

    [Fact]
    public async Task SignIn_WithAWrongOrRevokedKey_IsRefused()
    {
        using var admin = new ConsoleClient(_server);
        await admin.SignInAsync(AdminClient.AdminKey);
        var revoked = (await admin.SendAsync(HttpMethod.Post, "api/keys", """{"name":"gone"}"""))["key"].GetString()!;
        Assert.Equal(HttpStatusCode.NoContent, (await admin.SendAsync(HttpMethod.Delete, "api/keys/gone")).Status);
        using var console = new ConsoleClient(_server);

        Assert.Equal(HttpStatusCode.Unauthorized, (await console.SignInAsync("not-the-admin-key")).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await console.SignInAsync(revoked)).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await console.SignInAsync(_server.Key[..^2] + "xx")).Status);
        Assert.Empty(console.Cookies.GetAllCookies());
        Assert.Equal(HttpStatusCode.Unauthorized, (await console.SendAsync(HttpMethod.Get, "api/keys")).Status);
    }

    [Fact]
    public async Task AKeyHoldersSession_ReadsItsOwnKeyOnly_AndEveryOperatorRouteIs403()
    {
        using var admin = new ConsoleClient(_server);
        await admin.SignInAsync(AdminClient.AdminKey);
        var mine = (await admin.SendAsync(HttpMethod.Post, "api/keys", """{"name":"mine","rpm":7}"""))["key"].GetString()!;
        await admin.SendAsync(HttpMethod.Post, "api/keys", """{"name":"someone-elses"}""");
        Assert.Equal(HttpStatusCode.NotFound, (await admin.SendAsync(HttpMethod.Get, "api/me")).Status);
        using var holder = new ConsoleClient(_server);

        var signIn = await holder.SignInAsync(mine);
        var me = await holder.SendAsync(HttpMethod.Get, "api/me");
        var session = await holder.SendAsync(HttpMethod.Get, "api/session");

        Assert.Equal(HttpStatusCode.OK, signIn.Status);
        Assert.Equal("keyHolder", signIn["kind"].GetString());
        Assert.Equal("keyHolder", session["kind"].GetString());
        Assert.Equal(HttpStatusCode.OK, me.Status);
        Assert.Equal("mine", me["name"].GetString());
        Assert.Equal(7, me["limits"].GetProperty("requests_per_minute").GetInt32());
        using (var direct = _server.CreateClient(mine))
        {
            // The same document as GET /v1/key with the key itself.
            Assert.Equal(await direct.GetStringAsync("v1/key", Ct), me.Body);
        }

        foreach (var body in new[] { signIn.Body, me.Body, session.Body })
        {
            Assert.DoesNotContain(mine, body, StringComparison.Ordinal);
            Assert.DoesNotContain("someone-elses", body, StringComparison.Ordinal);
        }

        foreach (var (method, path) in OperatorRoutes())
        {
            var answer = await holder.SendAsync(new HttpMethod(method), path["/relay/console/".Length..], method is "GET" or "DELETE" ? null : "{}");
            Assert.True(answer.Status == HttpStatusCode.Forbidden, $"{method} {path} with a key holder's session: {(int)answer.Status}");
        }

        Assert.Null(await _server.Store.FindUserAsync("someone", Ct));
        Assert.NotNull(await _server.Store.FindKeyAsync("someone-elses", Ct));

        // Disabled, the key still signs in and reads its status, as GET /v1/key allows; revoked after sign-in, the
        // session shows nothing more.
        Assert.Equal(HttpStatusCode.OK, (await admin.SendAsync(HttpMethod.Post, "api/keys/mine/disable")).Status);
        using (var disabled = new ConsoleClient(_server))
        {
            Assert.Equal(HttpStatusCode.OK, (await disabled.SignInAsync(mine)).Status);
            Assert.Equal("disabled", (await disabled.SendAsync(HttpMethod.Get, "api/me"))["status"].GetString());
        }

        Assert.Equal(HttpStatusCode.NoContent, (await admin.SendAsync(HttpMethod.Delete, "api/keys/mine")).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await holder.SendAsync(HttpMethod.Get, "api/me")).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await holder.SendAsync(HttpMethod.Get, "api/session")).Status);
    }

    [Fact]
    public async Task AChange_WithoutTheCsrfToken_Is403_AndWithIt_GoesThrough()
    {
        using var console = new ConsoleClient(_server);
        await console.SignInAsync(AdminClient.AdminKey);
        var token = console.CsrfToken;

        var without = await console.SendAsync(HttpMethod.Post, "api/users", """{"name":"alice"}""", csrf: false);
        console.CsrfToken = "forged";
        var wrong = await console.SendAsync(HttpMethod.Post, "api/users", """{"name":"alice"}""");
        console.CsrfToken = token;
        var right = await console.SendAsync(HttpMethod.Post, "api/users", """{"name":"alice"}""");

        Assert.Equal(HttpStatusCode.Forbidden, without.Status);
        Assert.Equal(HttpStatusCode.Forbidden, wrong.Status);
        Assert.Equal(HttpStatusCode.Created, right.Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await console.SendAsync(HttpMethod.Delete, "api/session", csrf: false)).Status);
        Assert.Equal(HttpStatusCode.OK, (await console.SendAsync(HttpMethod.Get, "api/users", csrf: false)).Status);
    }

    [Fact]
    public async Task TheSessionCookie_OpensNothingOutsideTheConsole()
    {
        using var console = new ConsoleClient(_server);
        await console.SignInAsync(AdminClient.AdminKey);
        var cookie = console.Cookies.GetCookies(new Uri(_server.BaseUrl + "/console/")).Single();
        using var http = new HttpClient(new HttpClientHandler { UseCookies = false });

        // A browser would not even send it there (its path is the console's); a client that does gains nothing.
        foreach (var (method, path) in new[] { (HttpMethod.Get, "admin/api/keys"), (HttpMethod.Post, "admin/api/users"), (HttpMethod.Get, "metrics"),
            (HttpMethod.Get, "v1/key"), (HttpMethod.Get, "v1/models"), (HttpMethod.Post, "v1/messages") })
        {
            using var request = new HttpRequestMessage(method, $"{_server.BaseUrl}/{path}");
            request.Headers.Add("Cookie", $"{cookie.Name}={cookie.Value}");
            request.Headers.Add("X-Relay-Csrf", console.CsrfToken);
            if (method == HttpMethod.Post)
            {
                request.Content = JsonBody.Of("""{"name":"mallory","model":"claude-haiku-4-5","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}""");
            }

            using var response = await http.SendAsync(request, Ct);
            Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{method} {path}: {response.StatusCode}");
        }

        Assert.Null(await _server.Store.FindUserAsync("mallory", Ct));
    }

    [Fact]
    public async Task SignOut_EndsTheSession()
    {
        using var console = new ConsoleClient(_server);
        await console.SignInAsync(AdminClient.AdminKey);

        Assert.Equal(HttpStatusCode.NoContent, (await console.SendAsync(HttpMethod.Delete, "api/session")).Status);

        Assert.Equal(HttpStatusCode.Unauthorized, (await console.SendAsync(HttpMethod.Get, "api/keys")).Status);
    }

    [Fact]
    public async Task ASession_EndsAfter30IdleMinutes_And12HoursInAll()
    {
        using var idle = new ConsoleClient(_server);
        await idle.SignInAsync(AdminClient.AdminKey);
        _time.Advance(TimeSpan.FromMinutes(29));
        Assert.Equal(HttpStatusCode.OK, (await idle.SendAsync(HttpMethod.Get, "api/keys")).Status);
        _time.Advance(TimeSpan.FromMinutes(30));
        Assert.Equal(HttpStatusCode.Unauthorized, (await idle.SendAsync(HttpMethod.Get, "api/keys")).Status);

        using var busy = new ConsoleClient(_server);
        await busy.SignInAsync(AdminClient.AdminKey);
        for (var elapsed = TimeSpan.Zero; elapsed < TimeSpan.FromHours(12); elapsed += TimeSpan.FromMinutes(20))
        {
            Assert.Equal(HttpStatusCode.OK, (await busy.SendAsync(HttpMethod.Get, "api/session")).Status);
            _time.Advance(TimeSpan.FromMinutes(20));
        }

        Assert.Equal(HttpStatusCode.Unauthorized, (await busy.SendAsync(HttpMethod.Get, "api/session")).Status);
    }

    [Fact]
    public async Task NoAdminKeyOrClientKey_InAnyPageOrConsoleApiAnswer_ButTheNewKeyOnce()
    {
        using var console = new ConsoleClient(_server);
        var signIn = await console.SignInAsync(AdminClient.AdminKey);
        var created = await console.SendAsync(HttpMethod.Post, "api/keys", """{"name":"fresh"}""");
        var newKey = created["key"].GetString()!;
        using var http = new HttpClient();

        var bodies = new List<string> { signIn.Body };
        foreach (var path in new[] { "", "keys", "assets/app.js", "assets/api.js", "assets/keys.js", "assets/usage.js", "assets/signin.js", "assets/me.js", "assets/i18n.js", "assets/dom.js", "assets/style.css" })
        {
            bodies.Add(await http.GetStringAsync(_server.BaseUrl + "/console/" + path, Ct));
        }

        foreach (var path in new[] { "api/session", "api/keys", "api/keys?all=true", "api/keys/fresh", "api/users", "api/prices", "api/usage", "api/usage/totals", "api/usage.csv" })
        {
            bodies.Add((await console.SendAsync(HttpMethod.Get, path)).Body);
        }

        Assert.Equal(HttpStatusCode.Created, created.Status);
        foreach (var body in bodies)
        {
            Assert.DoesNotContain(AdminClient.AdminKey, body, StringComparison.Ordinal);
            Assert.DoesNotContain(_server.Key, body, StringComparison.Ordinal);
            Assert.DoesNotContain(newKey, body, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task SignInAndOut_AreLogged_WithoutAnyKeySessionOrToken()
    {
        using var console = new ConsoleClient(_server);
        await console.SignInAsync("a-wrong-guess-0123456789");
        await console.SignInAsync(AdminClient.AdminKey);
        var session = console.Cookies.GetAllCookies().Single().Value;
        var created = await console.SendAsync(HttpMethod.Post, "api/keys", """{"name":"logged"}""");
        await console.SendAsync(HttpMethod.Delete, "api/session");

        Assert.Contains(_logs.Entries, e => e.EventId == 170);
        Assert.Contains(_logs.Entries, e => e.EventId == 171);
        foreach (var secret in new[] { "a-wrong-guess-0123456789", AdminClient.AdminKey, session, console.CsrfToken!, created["key"].GetString()! })
        {
            Assert.DoesNotContain(_logs.Entries, e => e.Message.Contains(secret, StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task FailedSignIns_AreRateLimitedPerAddress_AndTheRightKeyStillSignsIn()
    {
        await using var server = await StrictServerAsync();
        using var console = new ConsoleClient(server);

        var answers = new List<HttpStatusCode>();
        for (var i = 0; i < 5; i++)
        {
            answers.Add((await console.SignInAsync("guess-" + i)).Status);
        }

        Assert.Equal([HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, (HttpStatusCode)429, (HttpStatusCode)429], answers);
        Assert.Equal(HttpStatusCode.OK, (await console.SignInAsync(AdminClient.AdminKey)).Status);
    }

    private static async Task<RelayTestServer> StrictServerAsync()
    {
        var config = RelayTestServer.DefaultConfig(null);
        config.AdminKey = AdminClient.AdminKey;
        config.UnauthenticatedLimit.Burst = 3;
        config.UnauthenticatedLimit.PerSecond = 0.001;
        return await RelayTestServer.StartAsync(config);
    }

    private static void AssertConsoleHeaders(HttpResponseMessage response)
    {
        var csp = string.Join(";", response.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("script-src 'self'", csp, StringComparison.Ordinal);
        Assert.Contains("frame-ancestors 'none'", csp, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe-inline", csp, StringComparison.Ordinal);
        Assert.Equal("nosniff", Assert.Single(response.Headers.GetValues("X-Content-Type-Options")));
        Assert.Equal("no-referrer", Assert.Single(response.Headers.GetValues("Referrer-Policy")));
    }

    /// <summary>Every console API route but the session's and the key holder's own page.</summary>
    private List<(string Method, string Path)> OperatorRoutes()
    {
        var routes = ((IEndpointRouteBuilder)_server.App).DataSources.SelectMany(d => d.Endpoints).OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText!.Contains("/console/api/", StringComparison.Ordinal))
            .Where(e => !e.RoutePattern.RawText!.EndsWith("/api/session", StringComparison.Ordinal) && !e.RoutePattern.RawText!.EndsWith("/api/me", StringComparison.Ordinal))
            .SelectMany(e => e.Metadata.GetMetadata<HttpMethodMetadata>()!.HttpMethods.Select(m => (Method: m, Path: Concrete(e.RoutePattern.RawText!))))
            .ToList();
        Assert.True(routes.Count >= 16, $"only {routes.Count} operator console API routes found");
        return routes;
    }

    private static string Concrete(string pattern) =>
        Regex.Replace(pattern, @"\{\*{0,2}(\w+)\}", m => m.Groups[1].Value == "model" ? "demo/x" : "someone");
}
