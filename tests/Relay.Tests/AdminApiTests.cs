using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Routing;
using Relay.Configuration;
using Relay.Tests.Infrastructure;

namespace Relay.Tests;

/// <summary>The admin API's users and keys over real Kestrel: the admin key on every route, each happy path, and each
/// error answered in Anthropic's shape with a request-id.</summary>
public sealed class AdminApiTests : RelayWithUpstream
{
    private AdminClient Admin => field ??= new AdminClient(Server.CreateClient(AdminClient.AdminKey));

    private protected override void Configure(RelayConfig config)
    {
        config.AdminKey = AdminClient.AdminKey;
        // Every route is called without a key below; the per-address limit on failed authentication must not turn
        // those 401s into 429s.
        config.UnauthenticatedLimit.Burst = 1000;
    }

    [Fact]
    public async Task EveryAdminRoute_RefusesNoKeyWith401_AndAClientKeyWith403()
    {
        var routes = ((IEndpointRouteBuilder)Server.App).DataSources.SelectMany(d => d.Endpoints).OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText!.Contains("/admin/api/", StringComparison.Ordinal))
            .SelectMany(e => e.Metadata.GetMetadata<HttpMethodMetadata>()!.HttpMethods.Select(m => (Method: m, Path: Concrete(e.RoutePattern.RawText!))))
            .ToList();
        Assert.True(routes.Count >= 17, $"only {routes.Count} admin routes found");

        using var anonymous = new AdminClient(Server.CreateClient());
        using var client = new AdminClient(Server.CreateClient(Server.Key));
        foreach (var (method, path) in routes)
        {
            var json = method is "GET" or "DELETE" ? null : "{}";
            var refused = await anonymous.Send(new HttpMethod(method), path, json);
            var error = await AnthropicAssert.IsErrorAsync(refused.Response, HttpStatusCode.Unauthorized, "authentication_error");
            Assert.Contains("admin key", error.Message, StringComparison.Ordinal);

            var forbidden = await client.Send(new HttpMethod(method), path, json);
            await AnthropicAssert.IsErrorAsync(forbidden.Response, HttpStatusCode.Forbidden, "permission_error");
        }
    }

    [Fact]
    public async Task AdminApi_IsOffWithoutAnAdminKey()
    {
        await using var relay = await RelayTestServer.StartAsync(RelayTestServer.DefaultConfig(null));
        using var admin = new AdminClient(relay.CreateClient(AdminClient.AdminKey));

        var answer = await admin.Get("admin/api/users");

        var error = await AnthropicAssert.IsErrorAsync(answer.Response, HttpStatusCode.Forbidden, "permission_error");
        Assert.Contains("adminKey", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Users_CreateReadListAndTopUp_InUsDollars()
    {
        var created = await Admin.Post("admin/api/users", """{"name":"acme","balance":12.5}""");
        Assert.Equal(HttpStatusCode.Created, created.Status);
        AnthropicAssert.HasRelayRequestId(created.Response);
        Assert.Equal(("acme", true, 12.5m, 0m, 0), (created["name"].GetString(), created["prepaid"].GetBoolean(), created["balance"].GetDecimal(),
            created["spent"].GetDecimal(), created["keys"].GetInt32()));
        Assert.Contains("\"balance\":12.5,", created.Body, StringComparison.Ordinal);

        var free = await Admin.Post("admin/api/users", """{"name":"free"}""");
        Assert.Equal((false, JsonValueKind.Null), (free["prepaid"].GetBoolean(), free["balance"].ValueKind));

        var topped = await Admin.Post("admin/api/users/acme/topup", """{"amount":2.000000001}""");
        Assert.Equal(HttpStatusCode.OK, topped.Status);
        Assert.Equal(14.500000001m, topped["balance"].GetDecimal());
        var corrected = await Admin.Post("admin/api/users/acme/topup", """{"amount":-0.5}""");
        Assert.Equal(14.000000001m, corrected["balance"].GetDecimal());

        // Topping up a user who was not prepaid makes them prepaid with that amount.
        var nowPrepaid = await Admin.Post("admin/api/users/free/topup", """{"amount":3}""");
        Assert.Equal((true, 3m), (nowPrepaid["prepaid"].GetBoolean(), nowPrepaid["balance"].GetDecimal()));

        var one = await Admin.Get("admin/api/users/acme");
        Assert.Equal(14.000000001m, one["balance"].GetDecimal());
        var list = await Admin.Get("admin/api/users");
        Assert.Equal(["acme", "free"], list["data"].EnumerateArray().Select(u => u.GetProperty("name").GetString()).Order());
    }

    [Theory]
    [InlineData("POST", "admin/api/users", """{"name":"acme"}""", HttpStatusCode.Conflict, "name")]
    [InlineData("POST", "admin/api/users", """{"name":"x",""", HttpStatusCode.BadRequest, "body")]
    [InlineData("POST", "admin/api/users", "[1]", HttpStatusCode.BadRequest, "body")]
    [InlineData("POST", "admin/api/users", """{"balance":1}""", HttpStatusCode.BadRequest, "name")]
    [InlineData("POST", "admin/api/users", """{"name":" padded"}""", HttpStatusCode.BadRequest, "name")]
    [InlineData("POST", "admin/api/users", """{"name":"y","balance":"12"}""", HttpStatusCode.BadRequest, "balance")]
    [InlineData("POST", "admin/api/users", """{"name":"y","balance":-1}""", HttpStatusCode.BadRequest, "balance")]
    [InlineData("POST", "admin/api/users", """{"name":"y","balance":0.0000000001}""", HttpStatusCode.BadRequest, "balance")]
    [InlineData("POST", "admin/api/users", """{"name":"y","credit":1}""", HttpStatusCode.BadRequest, "credit")]
    [InlineData("GET", "admin/api/users/nobody", null, HttpStatusCode.NotFound, "nobody")]
    [InlineData("POST", "admin/api/users/nobody/topup", """{"amount":1}""", HttpStatusCode.NotFound, "nobody")]
    [InlineData("POST", "admin/api/users/acme/topup", """{"amount":0}""", HttpStatusCode.BadRequest, "amount")]
    [InlineData("POST", "admin/api/users/acme/topup", "{}", HttpStatusCode.BadRequest, "amount")]
    public async Task Users_BadRequests_AreAnsweredWithTheFieldAtFault(string method, string path, string? json, HttpStatusCode status, string named)
    {
        (await Admin.Post("admin/api/users", """{"name":"acme"}""")).Response.Dispose();

        var answer = await Admin.Send(new HttpMethod(method), path, json);

        var error = await AnthropicAssert.IsErrorAsync(answer.Response, status, status == HttpStatusCode.NotFound ? "not_found_error" : "invalid_request_error");
        Assert.Contains(named, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Key_CreatedThroughTheApi_WorksOnMessages_AndIsShownOnlyOnce()
    {
        await Admin.Post("admin/api/users", """{"name":"acme","balance":50}""");

        var created = await Admin.Post("admin/api/keys",
            """{"name":"bob","user":"acme","models":["claude-sonnet-*"],"rpm":60,"budget":5,"budgetPeriod":"month","allowedIps":["127.0.0.1","10.0.0.0/8"]}""");

        Assert.Equal(HttpStatusCode.Created, created.Status);
        var key = created["key"].GetString()!;
        Assert.StartsWith("sk-relay-", key, StringComparison.Ordinal);
        Assert.Equal(("bob", "active", "acme", 60, 5m, "month"), (created["name"].GetString(), created["status"].GetString(), created["user"].GetString(),
            created["rpm"].GetInt32(), created["budget"].GetDecimal(), created["budgetPeriod"].GetString()));
        Assert.Equal(["claude-sonnet-*"], created["models"].EnumerateArray().Select(m => m.GetString()));
        Assert.Equal(["127.0.0.1", "10.0.0.0/8"], created["allowedIps"].EnumerateArray().Select(m => m.GetString()));
        Assert.Equal((5m, JsonValueKind.String), (created["budgetRemaining"].GetDecimal(), created["budgetResetsAt"].ValueKind));
        Assert.StartsWith(created["prefix"].GetString()!.TrimEnd('…'), key, StringComparison.Ordinal);

        using var holder = Server.CreateClient(key);
        using var response = await holder.PostAsync("v1/messages", JsonBody.Of(JsonBody.Message("claude-sonnet-4-6")), Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        var read = await Admin.Get("admin/api/keys/bob");
        var list = await Admin.Get("admin/api/keys");
        Assert.False(read.Json.TryGetProperty("key", out _));
        Assert.DoesNotContain(key, read.Body, StringComparison.Ordinal);
        Assert.DoesNotContain(key, list.Body, StringComparison.Ordinal);
        Assert.DoesNotContain(key[12..], list.Body, StringComparison.Ordinal);
        Assert.Contains(list["data"].EnumerateArray(), k => k.GetProperty("name").GetString() == "bob");
        Assert.Equal(1, (await Admin.Get("admin/api/users/acme"))["keys"].GetInt32());
    }

    [Fact]
    public async Task Key_Patch_ChangesOnlyTheFieldsGiven_AndNullClears()
    {
        await Admin.Post("admin/api/users", """{"name":"acme"}""");
        await Admin.Post("admin/api/keys", """{"name":"bob","models":["claude-*"],"rpm":60,"tpm":1000,"budget":2.5,"budgetPeriod":"day","expiresAt":"30d"}""");

        var patched = await Admin.Patch("admin/api/keys/bob", """{"tpm":null,"concurrency":3,"user":"acme"}""");

        Assert.Equal(HttpStatusCode.OK, patched.Status);
        Assert.Equal((60, JsonValueKind.Null, 3, "acme"), (patched["rpm"].GetInt32(), patched["tpm"].ValueKind, patched["concurrency"].GetInt32(), patched["user"].GetString()));
        Assert.Equal((2.5m, "day"), (patched["budget"].GetDecimal(), patched["budgetPeriod"].GetString()));
        Assert.Equal(["claude-*"], patched["models"].EnumerateArray().Select(m => m.GetString()));
        Assert.Equal(JsonValueKind.String, patched["expiresAt"].ValueKind);

        var cleared = await Admin.Patch("admin/api/keys/bob", """{"user":null,"models":[],"budget":null,"budgetPeriod":null,"expiresAt":null}""");
        Assert.Equal((JsonValueKind.Null, JsonValueKind.Null, JsonValueKind.Null, "total", JsonValueKind.Null), (cleared["user"].ValueKind,
            cleared["models"].ValueKind, cleared["budget"].ValueKind, cleared["budgetPeriod"].GetString(), cleared["expiresAt"].ValueKind));
        Assert.Equal(60, cleared["rpm"].GetInt32());

        // What PATCH answered is what is stored.
        var read = await Admin.Get("admin/api/keys/bob");
        Assert.Equal(cleared.Body, read.Body);
        Assert.Equal(0, (await Admin.Get("admin/api/users/acme"))["keys"].GetInt32());
    }

    [Fact]
    public async Task Key_DisableEnableAndRevoke()
    {
        var key = (await Admin.Post("admin/api/keys", """{"name":"bob"}"""))["key"].GetString()!;

        var disabled = await Admin.Post("admin/api/keys/bob/disable");
        Assert.Equal(("disabled", JsonValueKind.String), (disabled["status"].GetString(), disabled["disabledAt"].ValueKind));
        var enabled = await Admin.Post("admin/api/keys/bob/enable");
        Assert.Equal(("active", JsonValueKind.Null), (enabled["status"].GetString(), enabled["disabledAt"].ValueKind));

        var revoked = await Admin.Delete("admin/api/keys/bob");
        Assert.Equal(HttpStatusCode.NoContent, revoked.Status);
        AnthropicAssert.HasRelayRequestId(revoked.Response);
        using var holder = Server.CreateClient(key);
        using var refused = await holder.PostAsync("v1/messages", JsonBody.Of(JsonBody.Message("claude-sonnet-4-6")), Ct);
        await AnthropicAssert.IsErrorAsync(refused, HttpStatusCode.Unauthorized, "authentication_error");

        Assert.Equal(HttpStatusCode.NotFound, (await Admin.Get("admin/api/keys/bob")).Status);
        Assert.DoesNotContain((await Admin.Get("admin/api/keys"))["data"].EnumerateArray(), k => k.GetProperty("name").GetString() == "bob");
        var all = await Admin.Get("admin/api/keys?all=true");
        Assert.Contains(all["data"].EnumerateArray(), k => k.GetProperty("name").GetString() == "bob" && k.GetProperty("status").GetString() == "revoked");

        // The name is free again.
        Assert.Equal(HttpStatusCode.Created, (await Admin.Post("admin/api/keys", """{"name":"bob"}""")).Status);
    }

    [Theory]
    [InlineData("POST", "admin/api/keys", """{"name":"taken"}""", HttpStatusCode.Conflict, "name")]
    [InlineData("POST", "admin/api/keys", """{"rpm":5}""", HttpStatusCode.BadRequest, "name")]
    [InlineData("POST", "admin/api/keys", """{"name":"k","user":"nobody"}""", HttpStatusCode.BadRequest, "user")]
    [InlineData("POST", "admin/api/keys", """{"name":"k","models":["claude sonnet"]}""", HttpStatusCode.BadRequest, "models")]
    [InlineData("POST", "admin/api/keys", """{"name":"k","models":"claude-*"}""", HttpStatusCode.BadRequest, "models")]
    [InlineData("POST", "admin/api/keys", """{"name":"k","allowedIps":["10.1.2.3/8"]}""", HttpStatusCode.BadRequest, "allowedIps")]
    [InlineData("POST", "admin/api/keys", """{"name":"k","allowedIps":["10.0.0.1,10.0.0.2"]}""", HttpStatusCode.BadRequest, "allowedIps")]
    [InlineData("POST", "admin/api/keys", """{"name":"k","expiresAt":"2020-01-01"}""", HttpStatusCode.BadRequest, "expiresAt")]
    [InlineData("POST", "admin/api/keys", """{"name":"k","expiresAt":"soon"}""", HttpStatusCode.BadRequest, "expiresAt")]
    [InlineData("POST", "admin/api/keys", """{"name":"k","expiresAt":"3000000d"}""", HttpStatusCode.BadRequest, "expiresAt")]
    [InlineData("PATCH", "admin/api/keys/taken", """{"expiresAt":"3000000d"}""", HttpStatusCode.BadRequest, "expiresAt")]
    [InlineData("PATCH", "admin/api/keys/taken", """{"expiresAt":"2147483647w"}""", HttpStatusCode.BadRequest, "expiresAt")]
    [InlineData("POST", "admin/api/keys", """{"name":"k","rpm":0}""", HttpStatusCode.BadRequest, "rpm")]
    [InlineData("POST", "admin/api/keys", """{"name":"k","tpm":1.5}""", HttpStatusCode.BadRequest, "tpm")]
    [InlineData("POST", "admin/api/keys", """{"name":"k","budget":-5}""", HttpStatusCode.BadRequest, "budget")]
    [InlineData("POST", "admin/api/keys", """{"name":"k","budgetPeriod":"year"}""", HttpStatusCode.BadRequest, "budgetPeriod")]
    [InlineData("POST", "admin/api/keys", "not json", HttpStatusCode.BadRequest, "body")]
    [InlineData("POST", "admin/api/keys", """{"name":"k","budgetPeriod":"week"}""", HttpStatusCode.BadRequest, "budgetPeriod")]
    [InlineData("PATCH", "admin/api/keys/taken", """{"name":"renamed"}""", HttpStatusCode.BadRequest, "name")]
    [InlineData("PATCH", "admin/api/keys/taken", """{"concurrency":"3"}""", HttpStatusCode.BadRequest, "concurrency")]
    [InlineData("PATCH", "admin/api/keys/nobody", """{"rpm":1}""", HttpStatusCode.NotFound, "nobody")]
    [InlineData("GET", "admin/api/keys/nobody", null, HttpStatusCode.NotFound, "nobody")]
    [InlineData("POST", "admin/api/keys/nobody/disable", null, HttpStatusCode.NotFound, "nobody")]
    [InlineData("POST", "admin/api/keys/nobody/enable", null, HttpStatusCode.NotFound, "nobody")]
    [InlineData("DELETE", "admin/api/keys/nobody", null, HttpStatusCode.NotFound, "nobody")]
    public async Task Keys_BadRequests_AreAnsweredWithTheFieldAtFault(string method, string path, string? json, HttpStatusCode status, string named)
    {
        (await Admin.Post("admin/api/keys", """{"name":"taken","rpm":7}""")).Response.Dispose();

        var answer = await Admin.Send(new HttpMethod(method), path, json);

        var error = await AnthropicAssert.IsErrorAsync(answer.Response, status, status == HttpStatusCode.NotFound ? "not_found_error" : "invalid_request_error");
        Assert.Contains(named, error.Message, StringComparison.Ordinal);
        Assert.Equal(7, (await Admin.Get("admin/api/keys/taken"))["rpm"].GetInt32()); // a refused change changes nothing
    }

    /// <summary>A path to call for a route pattern: every parameter filled with a name that does not exist.</summary>
    private static string Concrete(string pattern) =>
        System.Text.RegularExpressions.Regex.Replace(pattern, @"\{\**(\w+)\}", "no-such-$1").TrimStart('/');
}
