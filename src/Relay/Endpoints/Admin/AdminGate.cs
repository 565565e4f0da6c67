using Relay.Auth;
using Relay.Errors;
using Relay.Protocol.Anthropic;

namespace Relay.Endpoints.Admin;

/// <summary>The admin key check every admin endpoint passes first (config <c>adminKey</c> or <c>RELAY_ADMIN_KEY</c>):
/// without a credential 401, with any other credential (a client key included) 403, and with no admin key configured
/// every admin endpoint is off (403).</summary>
internal sealed class AdminGate(AdminCredential admin, UnauthenticatedRequests strangers) : IRequestGate
{
    /// <summary>Null when the request carries the admin key; otherwise the error to answer with.</summary>
    public RelayError? Authorize(HttpContext context)
    {
        if (!admin.Configured)
        {
            return new RelayError(403, ErrorTypes.Permission, "Admin endpoints are off: set adminKey in relay.json or RELAY_ADMIN_KEY.", false);
        }

        var presented = ClientCredentials.Read(context.Request.Headers);
        if (presented is null)
        {
            return strangers.Refuse(context, new RelayError(401, ErrorTypes.Authentication, "This admin endpoint needs the admin key (x-api-key or Authorization: Bearer).", false));
        }

        return admin.Matches(presented)
            ? null
            : strangers.Refuse(context, new RelayError(403, ErrorTypes.Permission, "This endpoint needs the admin key; client keys cannot use it.", false));
    }
}
