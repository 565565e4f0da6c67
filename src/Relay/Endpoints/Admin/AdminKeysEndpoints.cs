using Relay.Auth;
using Relay.Errors;
using Relay.Protocol.Text;
using Relay.Storage;
using Relay.Storage.Accounts;

namespace Relay.Endpoints.Admin;

/// <summary><c>/admin/api/keys</c>: client keys, their users and limits. A key is shown once, in the answer that
/// creates it; Relay keeps only its hash.</summary>
internal sealed class AdminKeysEndpoints(IApiKeyStore keys, TimeProvider time)
{
    public async Task ListAsync(HttpContext context)
    {
        var all = context.Request.Query["all"].ToString() is "true" or "1";
        var list = await keys.ListKeysAsync(all, context.RequestAborted);
        var now = time.GetUtcNow();
        await AdminJson.WriteAsync(context, 200, new ListView<KeyView> { Data = [.. list.Select(k => KeyView.From(k, now))] },
            AdminJsonContext.Default.ListViewKeyView);
    }

    public async Task GetAsync(HttpContext context)
    {
        var name = AdminRoute.Value(context, "name");
        if (await keys.FindKeyAsync(name, context.RequestAborted) is not { } key)
        {
            await ErrorResponses.WriteAsync(context, UnknownKey(name));
            return;
        }

        await AdminJson.WriteAsync(context, 200, KeyView.From(key, time.GetUtcNow()), AdminJsonContext.Default.KeyView);
    }

    public async Task CreateAsync(HttpContext context)
    {
        var (body, error) = await AdminBody.ReadAsync(context, ["name", .. KeyLimitsBody.Fields]);
        using (body)
        {
            var now = time.GetUtcNow();
            var name = body?.Name("name", required: true);
            var limits = body is null ? null : KeyLimitsBody.Apply(body, KeyLimits.None, now);
            var user = body is null ? null : KeyLimitsBody.User(body, null);
            if ((error ?? body!.Error) is { } problem)
            {
                await ErrorResponses.WriteAsync(context, problem);
                return;
            }

            var key = ApiKeys.Generate();
            ApiKeyInfo created;
            try
            {
                created = await keys.CreateKeyAsync(new NewApiKey(name!, ApiKeys.Hash(key), ApiKeys.DisplayPrefix(key)) { UserName = user, Limits = limits! },
                    context.RequestAborted);
            }
            catch (DuplicateKeyNameException ex)
            {
                await ErrorResponses.WriteAsync(context, AdminErrors.Conflict($"name: {ex.Message}"));
                return;
            }
            catch (UnknownUserException)
            {
                await ErrorResponses.WriteAsync(context, UnknownUserInBody(user!));
                return;
            }

            var stored = await keys.FindKeyAsync(created.Name, context.RequestAborted) ?? created;
            await AdminJson.WriteAsync(context, 201, CreatedKeyView.From(stored, key, now), AdminJsonContext.Default.CreatedKeyView);
        }
    }

    /// <summary>Changes only the fields given; <c>null</c> clears a limit (or detaches the user).</summary>
    public async Task UpdateAsync(HttpContext context)
    {
        var name = AdminRoute.Value(context, "name");
        var (body, error) = await AdminBody.ReadAsync(context, KeyLimitsBody.Fields);
        using (body)
        {
            if (error is not null)
            {
                await ErrorResponses.WriteAsync(context, error);
                return;
            }

            if (await keys.FindKeyAsync(name, context.RequestAborted) is not { } current)
            {
                await ErrorResponses.WriteAsync(context, UnknownKey(name));
                return;
            }

            var now = time.GetUtcNow();
            var limits = KeyLimitsBody.Apply(body!, current.Limits, now);
            var user = KeyLimitsBody.User(body!, current.UserName);
            if (body!.Error is { } problem)
            {
                await ErrorResponses.WriteAsync(context, problem);
                return;
            }

            ApiKeyInfo? updated;
            try
            {
                updated = await keys.UpdateKeyAsync(name, limits, user, context.RequestAborted);
            }
            catch (UnknownUserException)
            {
                await ErrorResponses.WriteAsync(context, UnknownUserInBody(user!));
                return;
            }

            if (updated is null)
            {
                await ErrorResponses.WriteAsync(context, UnknownKey(name));
                return;
            }

            await AdminJson.WriteAsync(context, 200, KeyView.From(updated, now), AdminJsonContext.Default.KeyView);
        }
    }

    public Task DisableAsync(HttpContext context) => SetDisabledAsync(context, true);

    public Task EnableAsync(HttpContext context) => SetDisabledAsync(context, false);

    /// <summary>Revokes the key for good; its name is free again.</summary>
    public async Task RevokeAsync(HttpContext context)
    {
        var name = AdminRoute.Value(context, "name");
        if (!await keys.RevokeKeyAsync(name, context.RequestAborted))
        {
            await ErrorResponses.WriteAsync(context, UnknownKey(name));
            return;
        }

        context.Response.StatusCode = 204;
    }

    private async Task SetDisabledAsync(HttpContext context, bool disabled)
    {
        var name = AdminRoute.Value(context, "name");
        if (!await keys.SetKeyDisabledAsync(name, disabled, context.RequestAborted)
            || await keys.FindKeyAsync(name, context.RequestAborted) is not { } key)
        {
            await ErrorResponses.WriteAsync(context, UnknownKey(name));
            return;
        }

        await AdminJson.WriteAsync(context, 200, KeyView.From(key, time.GetUtcNow()), AdminJsonContext.Default.KeyView);
    }

    private static RelayError UnknownKey(string name) => RelayError.NotFound($"name: no active key is named '{ClientText.Shorten(name)}'.");

    private static RelayError UnknownUserInBody(string user) =>
        RelayError.InvalidRequest($"user: no user is named '{ClientText.Shorten(user)}'; create it first (POST /admin/api/users).");
}
