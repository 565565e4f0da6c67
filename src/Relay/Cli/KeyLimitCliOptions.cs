using System.CommandLine;
using System.Diagnostics.CodeAnalysis;
using Relay.Storage.Accounts;

namespace Relay.Cli;

/// <summary>The options <c>relay keys create</c> and <c>relay keys update</c> share, and how they change a key.</summary>
/// <remarks>Only the options given change anything; each can be cleared with <c>none</c>.</remarks>
internal sealed class KeyLimitCliOptions
{
    public Option<string?> User { get; } = new("--user", "-u")
    {
        HelpName = "USER",
        Description = "The user whose balance the key spends (see `relay users list`); none for no user.",
    };

    public Option<string?> Models { get; } = new("--models")
    {
        HelpName = "PATTERN,...",
        Description = "Model patterns the key may use, comma-separated, * for any run of characters (claude-sonnet-*,claude-haiku-4-5); none for every model.",
    };

    public Option<string?> Expires { get; } = new("--expires")
    {
        HelpName = "DATE|DURATION",
        Description = "When the key stops working: a date or date and time (2026-12-31, 2026-12-31T18:00:00+02:00; UTC unless it has an offset), a duration from now (90m, 12h, 30d, 2w; at most 100 years), or never.",
    };

    public Option<string?> Ips { get; } = new("--ip")
    {
        HelpName = "CIDR,...",
        Description = "Client addresses or CIDR ranges the key may be used from, comma-separated (203.0.113.7,10.0.0.0/8,2001:db8::/32); none for anywhere.",
    };

    public Option<string?> Rpm { get; } = new("--rpm") { HelpName = "N", Description = "Requests per minute; none for no limit." };

    public Option<string?> Tpm { get; } = new("--tpm") { HelpName = "N", Description = "Tokens per minute (input + cache writes + output); none for no limit." };

    public Option<string?> Concurrency { get; } = new("--concurrency") { HelpName = "N", Description = "Requests the key may have open at once; none for no limit." };

    public Option<string?> Budget { get; } = new("--budget") {
        HelpName = "USD", Description = "US dollars the key may spend per budget period (25, 7.50); none for no budget." };

    public Option<string?> BudgetPeriod { get; } = new("--budget-period")
    {
        HelpName = "day|week|month|total",
        Description = "When the budget starts again: day, week (from Monday) or month, in UTC; or total (never, the default).",
    };

    private IEnumerable<Option<string?>> All => [User, Models, Expires, Ips, Rpm, Tpm, Concurrency, Budget, BudgetPeriod];

    public void AddTo(Command command)
    {
        foreach (var option in All)
        {
            command.Options.Add(option);
        }
    }

    public bool AnyGiven(ParseResult parse) => All.Any(o => parse.GetValue(o) is not null);

    /// <summary>The key's limits and user with the given options applied over <paramref name="limits"/> and
    /// <paramref name="userName"/>; false with a message when a value is not valid.</summary>
    public bool TryApply(ParseResult parse, DateTimeOffset now, KeyLimits limits, string? userName,
        out KeyLimits result, out string? resultUser, [NotNullWhen(false)] out string? error)
    {
        result = limits;
        resultUser = userName;
        error = null;

        if (parse.GetValue(User) is { } user)
        {
            resultUser = KeyLimitOptions.IsNone(user) ? null : user.Trim();
            if (resultUser?.Length == 0)
            {
                error = "--user must not be empty (none for no user).";
                return false;
            }
        }

        if (parse.GetValue(Models) is { } models)
        {
            if (!KeyLimitOptions.TryParseModels(models, out var patterns, out var message))
            {
                error = $"--models: {message}";
                return false;
            }

            result = result with { Models = patterns };
        }

        if (parse.GetValue(Expires) is { } expires)
        {
            if (!KeyLimitOptions.TryParseExpiry(expires, now, out var at, out var message))
            {
                error = $"--expires: {message}";
                return false;
            }

            result = result with { ExpiresAt = at };
        }

        if (parse.GetValue(Ips) is { } ips)
        {
            if (!KeyLimitOptions.TryParseAddresses(ips, out var addresses, out var message))
            {
                error = $"--ip: {message}";
                return false;
            }

            result = result with { AllowedIps = addresses };
        }

        if (!TryCount(parse, Rpm, result.RequestsPerMinute, out var rpm, out error)
            || !TryCount(parse, Tpm, result.TokensPerMinute, out var tpm, out error)
            || !TryCount(parse, Concurrency, result.Concurrency, out var concurrency, out error))
        {
            return false;
        }

        result = result with { RequestsPerMinute = rpm, TokensPerMinute = tpm, Concurrency = concurrency };

        if (parse.GetValue(Budget) is { } budget)
        {
            if (!KeyLimitOptions.TryParseBudget(budget, out var nanos))
            {
                error = $"--budget: '{budget}' is not an amount of US dollars such as 25 or 7.50 (or none).";
                return false;
            }

            result = result with { BudgetNanos = nanos };
        }

        var periodText = parse.GetValue(BudgetPeriod);
        if (periodText is not null)
        {
            if (!KeyLimitOptions.TryParseBudgetPeriod(periodText, out var period))
            {
                error = $"--budget-period: '{periodText}' is not day, week, month or total.";
                return false;
            }

            if (result.BudgetNanos is null && period != Storage.Accounts.BudgetPeriod.Total)
            {
                error = "--budget-period needs a budget: add --budget USD.";
                return false;
            }

            result = result with { BudgetPeriod = period };
        }
        else if (result.BudgetNanos is null)
        {
            // A budget cleared takes its period with it.
            result = result with { BudgetPeriod = Storage.Accounts.BudgetPeriod.Total };
        }

        return true;
    }

    private static bool TryCount(ParseResult parse, Option<string?> option, int? current, out int? count, [NotNullWhen(false)] out string? error)
    {
        count = current;
        error = null;
        if (parse.GetValue(option) is not { } text)
        {
            return true;
        }

        if (!KeyLimitOptions.TryParseCount(text, out count))
        {
            error = $"{option.Name}: '{text}' is not a whole number of at least 1 (or none for no limit).";
            return false;
        }

        return true;
    }
}
