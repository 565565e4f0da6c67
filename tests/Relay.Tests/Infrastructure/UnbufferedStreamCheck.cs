using System.Diagnostics;
using System.Text;

namespace Relay.Tests.Infrastructure;

/// <summary>The "streaming is not buffered" proof, shared by every path that forwards streams (serve, bridge): the
/// upstream sends 20 events 50 ms apart, and the first must reach the client long before the last is sent.</summary>
public static class UnbufferedStreamCheck
{
    public static async Task RunAsync(FakeUpstream upstream, HttpClient client, string model)
    {
        var ct = TestContext.Current.CancellationToken;
        var events = Responses.StreamEvents(Enumerable.Range(0, 14).Select(i => $"w{i} ").ToArray()); // 20 events in all
        Assert.Equal(20, events.Count);
        var lastSent = new TaskCompletionSource<long>();
        upstream.Handler = async (ctx, _) =>
        {
            await Responses.Stream(ctx, events, TimeSpan.FromMilliseconds(50));
            lastSent.TrySetResult(Stopwatch.GetTimestamp());
        };

        var started = Stopwatch.GetTimestamp();
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/messages") { Content = JsonBody.Of(JsonBody.Message(model, stream: true)) };
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
        await using var body = await response.Content.ReadAsStreamAsync(ct);
        var buffer = new byte[64 * 1024];
        var firstRead = await body.ReadAsync(buffer, ct);
        var firstArrived = Stopwatch.GetTimestamp();
        var all = new MemoryStream();
        all.Write(buffer, 0, firstRead);
        await body.CopyToAsync(all, ct);
        var lastSentAt = await lastSent.Task;

        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        Assert.StartsWith("event: message_start", Encoding.UTF8.GetString(buffer, 0, firstRead), StringComparison.Ordinal);
        // The upstream needs 19 × 50 ms = 950 ms to send everything; the first event must not wait for that.
        Assert.True(Stopwatch.GetElapsedTime(firstArrived, lastSentAt) > TimeSpan.FromMilliseconds(600),
            $"first event reached the client only {Stopwatch.GetElapsedTime(firstArrived, lastSentAt).TotalMilliseconds:F0} ms before the last was sent");
        Assert.True(Stopwatch.GetElapsedTime(started, firstArrived) < TimeSpan.FromMilliseconds(500));
        Assert.Equal(string.Concat(events), Encoding.UTF8.GetString(all.ToArray()));
    }
}
