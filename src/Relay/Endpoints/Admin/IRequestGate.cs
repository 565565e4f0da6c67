using Relay.Errors;

namespace Relay.Endpoints.Admin;

/// <summary>Who may call the admin resource handlers: the admin key (<see cref="AdminGate"/>) or a signed-in console
/// session (<c>ConsoleGate</c>). The handlers themselves do not know which.</summary>
internal interface IRequestGate
{
    /// <summary>Null when the request may go on; otherwise the error to answer with.</summary>
    RelayError? Authorize(HttpContext context);
}
