using System.Text.Json;
using Relay.Auth;
using Relay.Configuration;
using Relay.Errors;
using Relay.Hosting;
using Relay.Protocol.Anthropic;

namespace Relay.WebConsole;

/// <summary><c>/console/api/session</c>: sign in (POST) with the admin key as the operator, or with a Relay API key as
/// that key's holder; the session's CSRF token after a reload (GET); sign out (DELETE). Failed sign-ins count against
/// the client address like any other failed key (<see cref="UnauthenticatedRequests"/>), so guessing a key here is
/// rate-limited too. A key holder's session keeps the key's id and name, never the key.</summary>
internal sealed class ConsoleSessionEndpoints(AdminCredential admin, ClientAuthenticator authenticator, KeyAccess access,
    ConsoleSessions sessions, ConsoleGate gate, UnauthenticatedRequests strangers, RelayConfig config, ILogger<ConsoleSessionEndpoints> logger)
{
    private const int MaxBodyBytes = 4096;

    public async Task SignInAsync(HttpContext context)
    {
        if (!admin.Configured)
        {
            await ErrorResponses.WriteAsync(context, new RelayError(403, ErrorTypes.Permission, "The console is off: set adminKey in relay.json or RELAY_ADMIN_KEY.", false));
            return;
        }

        var presented = await ReadKeyAsync(context);
        ConsoleKeyHolder? keyHolder = null;
        if (presented is null || !admin.Matches(presented))
        {
            // Not the admin key: perhaps a client key, checked exactly as a model request checks it (a revoked or
            // unknown key fails; a disabled or expired one may still see its own status, as GET /v1/key allows).
            var auth = presented is null ? default : await authenticator.AuthenticateAsync(new HeaderDictionary { ["x-api-key"] = presented }, context.RequestAborted);
            if (auth.StoreFailed)
            {
                await ErrorResponses.WriteAsync(context, RelayError.KeyStoreUnavailable());
                return;
            }

            if (auth.Key is not { } key)
            {
                await ErrorResponses.WriteAsync(context, strangers.Refuse(context, new RelayError(401, ErrorTypes.Authentication, "That is neither the admin key nor a Relay API key.", false)));
                return;
            }

            if (access.CheckAddress(context, key) is { } refused)
            {
                await ErrorResponses.WriteAsync(context, refused);
                return;
            }

            keyHolder = new ConsoleKeyHolder(key.Id, key.Name);
        }

        var (id, session) = sessions.Start(keyHolder);
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
        if (gate.AuthorizeAnySession(context) is { } error)
        {
            await ErrorResponses.WriteAsync(context, error);
            return;
        }

        await WriteSessionAsync(context, gate.Session(context)!);
    }

    public async Task SignOutAsync(HttpContext context)
    {
        if (gate.AuthorizeAnySession(context) is { } error)
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
        var view = new ConsoleSessionView
        {
            CsrfToken = session.CsrfToken,
            ExpiresAt = session.Started + ConsoleSessions.AbsoluteTimeout,
            Kind = session.KeyHolder is null ? ConsoleSessionView.Operator : ConsoleSessionView.KeyHolder,
        };
        return JsonSerializer.SerializeAsync(context.Response.Body, view, ConsoleJsonContext.Default.ConsoleSessionView, context.RequestAborted);
    }

    /// <summary>The <c>key</c> (or, as before key holders could sign in, <c>adminKey</c>) field of a small JSON body; null
    /// for anything else.</summary>
    private static async Task<string?> ReadKeyAsync(HttpContext context)
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
                && (document.RootElement.TryGetProperty("key", out var key) || document.RootElement.TryGetProperty("adminKey", out key))
                && key.ValueKind == JsonValueKind.String
                ? key.GetString()
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
