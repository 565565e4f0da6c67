using System.Text.Json;
using Relay.Auth;
using Relay.Configuration;
using Relay.Errors;
using Relay.Hosting;
using Relay.Protocol.Anthropic;

namespace Relay.WebConsole;

/// <summary><c>/console/api/session</c>: sign in with the admin key (POST), the session's CSRF token after a reload
/// (GET), sign out (DELETE). Failed sign-ins count against the client address like any other failed key
/// (<see cref="UnauthenticatedRequests"/>), so guessing the admin key here is rate-limited too.</summary>
internal sealed class ConsoleSessionEndpoints(AdminCredential admin, ConsoleSessions sessions, ConsoleGate gate,
    UnauthenticatedRequests strangers, RelayConfig config, ILogger<ConsoleSessionEndpoints> logger)
{
    private const int MaxBodyBytes = 4096;

    public async Task SignInAsync(HttpContext context)
    {
        if (!admin.Configured)
        {
            await ErrorResponses.WriteAsync(context, new RelayError(403, ErrorTypes.Permission, "The console is off: set adminKey in relay.json or RELAY_ADMIN_KEY.", false));
            return;
        }

        var presented = await ReadAdminKeyAsync(context);
        if (presented is null || !admin.Matches(presented))
        {
            await ErrorResponses.WriteAsync(context, strangers.Refuse(context, new RelayError(401, ErrorTypes.Authentication, "That is not the admin key.", false)));
            return;
        }

        var (id, session) = sessions.Start();
        context.Response.Cookies.Append(ConsoleGate.CookieName, id, new CookieOptions
        {
            HttpOnly = true,
            Secure = context.Request.IsHttps,
            SameSite = SameSiteMode.Strict,
            Path = config.BasePath + "/console",
            IsEssential = true,
        });
        Log.ConsoleSignedIn(logger, Address(context));
        await WriteSessionAsync(context, session);
    }

    public async Task GetAsync(HttpContext context)
    {
        if (gate.Authorize(context) is { } error)
        {
            await ErrorResponses.WriteAsync(context, error);
            return;
        }

        await WriteSessionAsync(context, gate.Session(context)!);
    }

    public async Task SignOutAsync(HttpContext context)
    {
        if (gate.Authorize(context) is { } error)
        {
            await ErrorResponses.WriteAsync(context, error);
            return;
        }

        sessions.End(context.Request.Cookies[ConsoleGate.CookieName]);
        context.Response.Cookies.Delete(ConsoleGate.CookieName, new CookieOptions { Path = config.BasePath + "/console", HttpOnly = true, SameSite = SameSiteMode.Strict, Secure = context.Request.IsHttps });
        Log.ConsoleSignedOut(logger, Address(context));
        context.Response.StatusCode = 204;
    }

    private static string Address(HttpContext context) => context.Connection.RemoteIpAddress?.ToString() ?? "unknown";

    private static Task WriteSessionAsync(HttpContext context, ConsoleSession session)
    {
        context.Response.ContentType = "application/json";
        var view = new ConsoleSessionView { CsrfToken = session.CsrfToken, ExpiresAt = session.Started + ConsoleSessions.AbsoluteTimeout };
        return JsonSerializer.SerializeAsync(context.Response.Body, view, ConsoleJsonContext.Default.ConsoleSessionView, context.RequestAborted);
    }

    /// <summary>The <c>adminKey</c> field of a small JSON body; null for anything else.</summary>
    private static async Task<string?> ReadAdminKeyAsync(HttpContext context)
    {
        if (context.Request.ContentLength is > MaxBodyBytes || context.Request.ContentType?.StartsWith("application/json", StringComparison.OrdinalIgnoreCase) != true)
        {
            return null;
        }

        try
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body, context.RequestAborted);
            if (body.Length > MaxBodyBytes)
            {
                return null;
            }

            using var document = JsonDocument.Parse(body.ToArray());
            return document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("adminKey", out var key) && key.ValueKind == JsonValueKind.String
                ? key.GetString()
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
