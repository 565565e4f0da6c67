using Relay.Errors;
using Relay.Protocol.Text;
using Relay.Storage.Accounts;

namespace Relay.Endpoints.Admin;

/// <summary><c>/admin/api/users</c>: the people or teams a station serves, and their prepaid balances.</summary>
internal sealed class AdminUsersEndpoints(IUserStore users)
{
    public async Task ListAsync(HttpContext context)
    {
        var list = await users.ListUsersAsync(context.RequestAborted);
        await AdminJson.WriteAsync(context, 200, new ListView<UserView> { Data = [.. list.Select(UserView.From)] },
            AdminJsonContext.Default.ListViewUserView);
    }

    public async Task GetAsync(HttpContext context)
    {
        var name = AdminRoute.Value(context, "name");
        if (await users.FindUserAsync(name, context.RequestAborted) is not { } user)
        {
            await ErrorResponses.WriteAsync(context, UnknownUser(name));
            return;
        }

        await AdminJson.WriteAsync(context, 200, UserView.From(user), AdminJsonContext.Default.UserView);
    }

    /// <summary>Creates a user; with <c>balance</c> the user is prepaid and its keys stop when it runs out.</summary>
    public async Task CreateAsync(HttpContext context)
    {
        var (body, error) = await AdminBody.ReadAsync(context, "name", "balance");
        using (body)
        {
            var name = body?.Name("name", required: true);
            var balance = body?.Usd("balance");
            if ((error ?? body!.Error) is { } problem)
            {
                await ErrorResponses.WriteAsync(context, problem);
                return;
            }

            UserInfo user;
            try
            {
                user = await users.CreateUserAsync(name!, balance, context.RequestAborted);
            }
            catch (DuplicateUserNameException ex)
            {
                await ErrorResponses.WriteAsync(context, AdminErrors.Conflict($"name: {ex.Message}"));
                return;
            }

            await AdminJson.WriteAsync(context, 201, UserView.From(user), AdminJsonContext.Default.UserView);
        }
    }

    /// <summary>Adds <c>amount</c> US dollars to the balance (a negative amount corrects it); a user who was not
    /// prepaid becomes prepaid with this amount.</summary>
    public async Task TopUpAsync(HttpContext context)
    {
        var name = AdminRoute.Value(context, "name");
        var (body, error) = await AdminBody.ReadAsync(context, "amount");
        using (body)
        {
            var amount = body?.Usd("amount", allowNegative: true, required: true);
            if (amount == 0)
            {
                body!.Fail("amount", "must not be 0.");
            }

            if ((error ?? body!.Error) is { } problem)
            {
                await ErrorResponses.WriteAsync(context, problem);
                return;
            }

            if (await users.TopUpAsync(name, amount!.Value, context.RequestAborted) is not { } user)
            {
                await ErrorResponses.WriteAsync(context, UnknownUser(name));
                return;
            }

            await AdminJson.WriteAsync(context, 200, UserView.From(user), AdminJsonContext.Default.UserView);
        }
    }

    private static RelayError UnknownUser(string name) => RelayError.NotFound($"name: no user is named '{ClientText.Shorten(name)}'.");
}
