using Relay.Errors;
using Relay.Protocol.Anthropic;

namespace Relay.Endpoints.Admin;

/// <summary>Errors only the admin API answers.</summary>
internal static class AdminErrors
{
    /// <summary>409: the name is taken. Anthropic has no conflict type; the request itself is what must change.</summary>
    public static RelayError Conflict(string message) => new(409, ErrorTypes.InvalidRequest, message, false);
}
