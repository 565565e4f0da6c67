using System.Security.Cryptography;
using System.Text;
using Relay.Auth;
using Relay.Endpoints.Admin;
using Relay.Errors;
using Relay.Protocol.Anthropic;

namespace Relay.WebConsole;

/// <summary>
/// The console API's check: a live session from the console cookie (an API key in a header counts for nothing here),
/// and for every change (any method but GET and HEAD) the session's CSRF token in <see cref="CsrfHeader"/>. The cookie
/// is SameSite=Strict as well; the token is what a forged cross-site request cannot know. The operator's routes take only
/// an operator's session: a key holder's is refused with 403 (<see cref="AuthorizeAnySession"/> lets it through).
/// </summary>
internal sealed class ConsoleGate(ConsoleSessions sessions, UnauthenticatedRequests strangers) : IRequestGate
{
    public const string CookieName = "relay_console";
    public const string CsrfHeader = "X-Relay-Csrf";

    public RelayError? Authorize(HttpContext context) => Check(context, operatorOnly: true);

    /// <summary>The check for routes open to the operator and key holders alike: the session routes and <c>/me</c>.</summary>
    public RelayError? AuthorizeAnySession(HttpContext context) => Check(context, operatorOnly: false);

    private RelayError? Check(HttpContext context, bool operatorOnly)
    {
        if (Session(context) is not { } session)
        {
            return strangers.Refuse(context, new RelayError(401, ErrorTypes.Authentication, "Sign in to the console first.", false));
        }

        if (operatorOnly && session.KeyHolder is not null)
        {
            return new RelayError(403, ErrorTypes.Permission, "A key holder's session opens only their own key's page.", false);
        }

        if (HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method))
        {
            return null;
        }

        var presented = context.Request.Headers[CsrfHeader].ToString();
        return CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(presented), Encoding.UTF8.GetBytes(session.CsrfToken))
            ? null
            : new RelayError(403, ErrorTypes.Permission, $"This change needs the session's {CsrfHeader} header.", false);
    }

    /// <summary>The request's live session, or null.</summary>
    public ConsoleSession? Session(HttpContext context) => sessions.Find(context.Request.Cookies[CookieName]);
}
