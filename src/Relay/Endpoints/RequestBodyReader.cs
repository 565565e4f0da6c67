using Microsoft.AspNetCore.Http.Features;
using Relay.Buffers;
using Relay.Errors;

namespace Relay.Endpoints;

/// <summary>Reads a request body into a pooled buffer, refusing bodies over the configured limit.</summary>
internal static class RequestBodyReader
{
    /// <returns>The body, or null with <paramref name="error"/> set.</returns>
    public static async Task<(PooledByteBuffer? Body, RelayError? Error)> ReadAsync(HttpRequest request, long limit, CancellationToken cancellationToken)
    {
        if (request.ContentLength > limit)
        {
            return (null, RelayError.TooLarge(limit));
        }

        var sizeFeature = request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>();
        if (sizeFeature is { IsReadOnly: false })
        {
            sizeFeature.MaxRequestBodySize = limit;
        }

        var buffer = new PooledByteBuffer((int)Math.Min(request.ContentLength ?? 16 * 1024, limit) + 1);
        try
        {
            while (true)
            {
                var read = await request.Body.ReadAsync(buffer.GetMemory(16 * 1024), cancellationToken);
                if (read == 0)
                {
                    return (buffer, null);
                }

                buffer.Advance(read);
                if (buffer.Length > limit)
                {
                    buffer.Dispose();
                    return (null, RelayError.TooLarge(limit));
                }
            }
        }
        catch (BadHttpRequestException ex)
        {
            buffer.Dispose();
            return (null, ex.StatusCode == StatusCodes.Status413PayloadTooLarge
                ? RelayError.TooLarge(limit)
                : RelayError.InvalidRequest($"The request body could not be read: {ex.Message}"));
        }
        catch
        {
            buffer.Dispose();
            throw;
        }
    }
}
