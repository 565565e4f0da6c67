namespace Relay.Tests.Infrastructure;

/// <summary>Waits for a condition instead of sleeping a fixed time: the machine may be slow, the test need not be.</summary>
internal static class Eventually
{
    /// <param name="state">What to report when the wait fails, besides <paramref name="what"/> was awaited.</param>
    public static async Task TrueAsync(Func<Task<bool>> condition, TimeSpan timeout, string what, Func<Task<string>>? state = null)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"Waited {timeout.TotalSeconds} s for: {what}" + (state is null ? "" : $"; found {await state()}"));
            }

            await Task.Delay(25);
        }
    }

    public static Task TrueAsync(Func<bool> condition, TimeSpan timeout, string what) =>
        TrueAsync(() => Task.FromResult(condition()), timeout, what);
}
