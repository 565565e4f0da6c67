using Relay.Storage.Accounts;

namespace Relay.Accounting;

/// <summary>What makes a price valid, for relay.json's <c>prices</c> and admin-set prices alike. Problems name the field
/// as relay.json spells it (<c>cacheRead</c>, <c>longPrompt.input</c>).</summary>
internal static class PriceRules
{
    /// <summary>Far above any real price; it keeps a typo (a price per token given per million) from billing millions.</summary>
    public const decimal MaxPerMillionTokens = 100_000m;

    public const decimal MaxPerServerToolCall = 1_000m;

    public const int MaxModelLength = 200;

    /// <summary>The problem with a price table key, or null.</summary>
    public static string? ModelProblem(string model) =>
        model.Length == 0 || model.Trim() != model ? "a model name must not be empty or have surrounding spaces."
        : model.Length > MaxModelLength ? $"a model name must not be longer than {MaxModelLength} characters."
        : model.Any(char.IsControl) ? "a model name must not contain control characters."
        : null;

    /// <summary>The first problem with <paramref name="rates"/>, or null.</summary>
    public static (string Field, string Problem)? RatesProblem(PriceRates rates) => RatesProblem(rates, "");

    private static (string Field, string Problem)? RatesProblem(PriceRates rates, string prefix)
    {
        foreach (var (field, value) in new[]
        {
            ("input", (decimal?)rates.Input), ("output", rates.Output), ("cacheWrite5m", rates.CacheWrite5m),
            ("cacheWrite1h", rates.CacheWrite1h), ("cacheRead", rates.CacheRead),
        })
        {
            if (value is < 0m or > MaxPerMillionTokens)
            {
                return (prefix + field, $"must be between 0 and {MaxPerMillionTokens} (US dollars per million tokens).");
            }
        }

        if (rates.ServerToolCall is < 0m or > MaxPerServerToolCall)
        {
            return (prefix + "serverToolCall", $"must be between 0 and {MaxPerServerToolCall} (US dollars per call).");
        }

        if (rates.LongPromptThreshold is < 1)
        {
            return (prefix + "longPromptThreshold", "must be a positive number of prompt tokens, such as 200000.");
        }

        if ((rates.LongPromptThreshold is null) != (rates.LongPrompt is null))
        {
            return (prefix + (rates.LongPrompt is null ? "longPrompt" : "longPromptThreshold"),
                "\"longPromptThreshold\" and \"longPrompt\" go together: above the threshold, the longPrompt rates apply.");
        }

        if (rates.LongPrompt is { } longPrompt)
        {
            if (prefix.Length > 0 || longPrompt.LongPrompt is not null || longPrompt.LongPromptThreshold is not null)
            {
                return (prefix + "longPrompt.longPrompt", "there is one long-prompt tier; it cannot have another.");
            }

            return RatesProblem(longPrompt, "longPrompt.");
        }

        return null;
    }
}
