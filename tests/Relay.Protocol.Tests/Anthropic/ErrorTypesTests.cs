using Relay.Protocol.Anthropic;

namespace Relay.Protocol.Tests.Anthropic;

public sealed class ErrorTypesTests
{
    [Theory]
    [InlineData(400, "invalid_request_error")]
    [InlineData(401, "authentication_error")]
    [InlineData(402, "billing_error")]
    [InlineData(403, "permission_error")]
    [InlineData(404, "not_found_error")]
    [InlineData(408, "timeout_error")]
    [InlineData(413, "request_too_large")]
    [InlineData(422, "invalid_request_error")]
    [InlineData(429, "rate_limit_error")]
    [InlineData(500, "api_error")]
    [InlineData(502, "api_error")]
    [InlineData(503, "overloaded_error")]
    [InlineData(504, "timeout_error")]
    [InlineData(529, "overloaded_error")]
    public void ForStatus_KnownStatus_AnthropicErrorType(int status, string expected)
    {
        Assert.Equal(expected, ErrorTypes.ForStatus(status));
    }

    [Theory]
    [InlineData(405)]
    [InlineData(409)]
    [InlineData(418)]
    [InlineData(501)]
    [InlineData(599)]
    [InlineData(200)]
    [InlineData(0)]
    public void ForStatus_UnmappedStatus_ApiError(int status)
    {
        Assert.Equal("api_error", ErrorTypes.ForStatus(status));
    }
}
