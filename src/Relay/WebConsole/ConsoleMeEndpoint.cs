using Relay.Auth;
using Relay.Endpoints;
using Relay.Errors;
using Relay.Protocol.Anthropic;
using Relay.Storage;

namespace Relay.WebConsole;

/// <summary>
/// <c>GET /console/api/me</c>: a key holder's session reads its own key's status, the same document as
/// <c>GET /v1/key</c>. The key is looked up afresh on every call, so a key revoked (or deleted and its name reused)
/// after sign-in ends the session instead of showing anything.
/// </summary>
internal sealed class ConsoleMeEndpoint(ConsoleGate gate, ConsoleSessions sessions, IApiKeyStore keys, KeyAccess access, KeyStatusHandler status)
{
    public async Task GetAsync(HttpContext context)
    {
        if (gate.AuthorizeAnySession(context) is { } error)
        {
            await ErrorResponses.WriteAsync(context, error);
            return;
        }

        if (gate.Session(context)?.KeyHolder is not { } holder)
        {
            await ErrorResponses.WriteAsync(context, RelayError.NotFound("The operator has no key of their own; sign in with a Relay API key to see it here."));
            return;
        }

        ApiKeyInfo? key;
        try
        {
            key = await keys.FindKeyAsync(holder.KeyName, context.RequestAborted);
        }
        catch (Exception ex) when (!context.RequestAborted.IsCancellationRequested && ex is not OperationCanceledException)
        {
            await ErrorResponses.WriteAsync(context, RelayError.KeyStoreUnavailable());
            return;
        }

        if (key is null || key.Id != holder.KeyId || key.RevokedAt is not null)
        {
            sessions.End(context.Request.Cookies[ConsoleGate.CookieName]);
            await ErrorResponses.WriteAsync(context, new RelayError(401, ErrorTypes.Authentication, "This key was revoked; the session has ended.", false));
            return;
        }

        // The key's address list holds here as it does for GET /v1/key.
        if (access.CheckAddress(context, new StoredApiKey(key.Id, key.Name, []) { Limits = key.Limits }) is { } refused)
        {
            await ErrorResponses.WriteAsync(context, refused);
            return;
        }

        await KeyStatusHandler.WriteAsync(context, await status.BuildAsync(key, context.RequestAborted));
    }
}
