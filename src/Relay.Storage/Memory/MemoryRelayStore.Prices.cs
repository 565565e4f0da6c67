using Relay.Storage.Accounts;

namespace Relay.Storage.Memory;

public sealed partial class MemoryRelayStore
{
    private readonly SortedDictionary<string, StoredPrice> _prices = new(StringComparer.Ordinal);

    public Task<IReadOnlyList<StoredPrice>> ListPricesAsync(CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            return Task.FromResult<IReadOnlyList<StoredPrice>>(_prices.Values.ToArray());
        }
    }

    public Task SetPriceAsync(string model, PriceRates rates, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            _prices[model] = new StoredPrice(model, rates, DateTimeOffset.UtcNow);
        }

        return Task.CompletedTask;
    }

    public Task<bool> DeletePriceAsync(string model, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            return Task.FromResult(_prices.Remove(model));
        }
    }
}
