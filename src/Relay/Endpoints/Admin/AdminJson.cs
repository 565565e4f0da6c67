using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace Relay.Endpoints.Admin;

/// <summary>Source-generated JSON for the admin API. Field names are camelCase, as in relay.json and the CLI's options
/// (<c>budgetPeriod</c>, <c>cacheWrite1h</c>); money is US dollars as JSON numbers.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = false)]
[JsonSerializable(typeof(UserView))]
[JsonSerializable(typeof(ListView<UserView>))]
[JsonSerializable(typeof(KeyView))]
[JsonSerializable(typeof(CreatedKeyView))]
[JsonSerializable(typeof(ListView<KeyView>))]
[JsonSerializable(typeof(PriceView))]
[JsonSerializable(typeof(ListView<PriceView>))]
[JsonSerializable(typeof(UsagePageView))]
[JsonSerializable(typeof(UsageTotalsListView))]
internal sealed partial class AdminJsonContext : JsonSerializerContext;

/// <summary>A list answer: <c>{"data": [...]}</c>.</summary>
internal sealed class ListView<T>
{
    public required IReadOnlyList<T> Data { get; init; }
}

internal static class AdminJson
{
    public static async Task WriteAsync<T>(HttpContext context, int status, T value, JsonTypeInfo<T> type)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await JsonSerializer.SerializeAsync(context.Response.Body, value, type, context.RequestAborted);
    }
}
