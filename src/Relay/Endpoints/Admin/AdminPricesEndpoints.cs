using System.Text.Json;
using Relay.Accounting;
using Relay.Errors;
using Relay.Protocol.Text;
using Relay.Storage.Accounts;

namespace Relay.Endpoints.Admin;

/// <summary><c>/admin/api/prices</c>: the price table in effect, and the prices an operator sets at run time (they win
/// over relay.json and the shipped defaults, apply in this process at once and in other instances within
/// <see cref="Hosting.StoreRefreshedService.RefreshInterval"/>, or at once through the change feed).</summary>
internal sealed class AdminPricesEndpoints(PriceBook prices)
{
    private static readonly string[] RateFields = ["input", "output", "cacheWrite5m", "cacheWrite1h", "cacheRead", "serverToolCall",
        "longPromptThreshold", "longPrompt"];

    /// <summary>Every model name priced, each with the entry that applies to it (admin, then relay.json, then the defaults).</summary>
    public async Task ListAsync(HttpContext context)
    {
        var effective = prices.Entries.DistinctBy(p => p.Model, StringComparer.Ordinal).OrderBy(p => p.Model, StringComparer.Ordinal);
        await AdminJson.WriteAsync(context, 200, new ListView<PriceView> { Data = [.. effective.Select(PriceView.From)] },
            AdminJsonContext.Default.ListViewPriceView);
    }

    public async Task PutAsync(HttpContext context)
    {
        var model = AdminRoute.Value(context, "model");
        if (PriceRules.ModelProblem(model) is { } modelProblem)
        {
            await ErrorResponses.WriteAsync(context, RelayError.InvalidRequest($"model: {modelProblem}"));
            return;
        }

        var (body, error) = await AdminBody.ReadAsync(context, RateFields);
        using (body)
        {
            var rates = body is null ? null : ReadRates(body);
            if ((error ?? body!.Error) is { } problem)
            {
                await ErrorResponses.WriteAsync(context, problem);
                return;
            }

            await prices.SetPriceAsync(model, rates!, context.RequestAborted);
            var price = prices.Entries.First(p => p.Model == model && p.Source == PriceBook.AdminSource);
            await AdminJson.WriteAsync(context, 200, PriceView.From(price), AdminJsonContext.Default.PriceView);
        }
    }

    public async Task DeleteAsync(HttpContext context)
    {
        var model = AdminRoute.Value(context, "model");
        if (!await prices.DeletePriceAsync(model, context.RequestAborted))
        {
            await ErrorResponses.WriteAsync(context, RelayError.NotFound(
                $"model: no admin price is set for '{ClientText.Shorten(model)}' (prices from relay.json and the defaults are changed in relay.json)."));
            return;
        }

        context.Response.StatusCode = 204;
    }

    /// <summary>The rates in the body, checked as relay.json's prices are; null with <see cref="AdminBody.Error"/> set.</summary>
    private static PriceRates? ReadRates(AdminBody body)
    {
        var input = body.Decimal("input", required: true);
        var output = body.Decimal("output", required: true);
        PriceRates? longPrompt = null;
        if (body.ObjectText("longPrompt") is { } longPromptJson)
        {
            try
            {
                longPrompt = PriceRatesJson.Deserialize(longPromptJson);
            }
            catch (JsonException ex)
            {
                body.Fail("longPrompt", $"must be rates such as {{\"input\": 6, \"output\": 22.5}} ({ClientText.Shorten(ex.Message)}).");
            }
        }

        var rates = new PriceRates
        {
            Input = input ?? 0,
            Output = output ?? 0,
            CacheWrite5m = body.Decimal("cacheWrite5m"),
            CacheWrite1h = body.Decimal("cacheWrite1h"),
            CacheRead = body.Decimal("cacheRead"),
            ServerToolCall = body.Decimal("serverToolCall"),
            LongPromptThreshold = body.PositiveLong("longPromptThreshold"),
            LongPrompt = longPrompt,
        };
        if (body.Error is null && PriceRules.RatesProblem(rates) is { } problem)
        {
            body.Fail(problem.Field, problem.Problem);
        }

        return body.Error is null ? rates : null;
    }
}
