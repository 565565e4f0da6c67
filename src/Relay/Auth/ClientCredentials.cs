using Microsoft.Extensions.Primitives;

namespace Relay.Auth;

/// <summary>The credential a client presented, from <c>x-api-key</c> or <c>Authorization: Bearer</c>.</summary>
internal static class ClientCredentials
{
    /// <summary>Returns the presented key; x-api-key wins when both are sent (Claude Code sends both with an apiKeyHelper).</summary>
    public static string? Read(IHeaderDictionary headers)
    {
        if (headers.TryGetValue("x-api-key", out var apiKey) && !StringValues.IsNullOrEmpty(apiKey))
        {
            return apiKey.ToString().Trim();
        }

        if (headers.TryGetValue("authorization", out var authorization))
        {
            var value = authorization.ToString();
            if (value.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            {
                var token = value[7..].Trim();
                return token.Length == 0 ? null : token;
            }
        }

        return null;
    }
}
