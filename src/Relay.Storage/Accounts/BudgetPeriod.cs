namespace Relay.Storage.Accounts;

/// <summary>How often a key's budget starts again. Periods are calendar periods in UTC; weeks start on Monday.</summary>
public enum BudgetPeriod
{
    /// <summary>Never resets: the budget is for the key's whole life.</summary>
    Total,
    Day,
    Week,
    Month,
}

public static class BudgetPeriods
{
    /// <summary>The start of the period that contains <paramref name="time"/> (<see cref="DateTimeOffset.UnixEpoch"/> for <see cref="BudgetPeriod.Total"/>).</summary>
    public static DateTimeOffset Start(BudgetPeriod period, DateTimeOffset time)
    {
        var utc = time.ToUniversalTime();
        var day = new DateTimeOffset(utc.Year, utc.Month, utc.Day, 0, 0, 0, TimeSpan.Zero);
        return period switch
        {
            BudgetPeriod.Day => day,
            BudgetPeriod.Week => day.AddDays(-(((int)utc.DayOfWeek + 6) % 7)),
            BudgetPeriod.Month => new DateTimeOffset(utc.Year, utc.Month, 1, 0, 0, 0, TimeSpan.Zero),
            _ => DateTimeOffset.UnixEpoch,
        };
    }

    /// <summary>When the period that contains <paramref name="time"/> ends and the budget starts again; null for <see cref="BudgetPeriod.Total"/>.</summary>
    public static DateTimeOffset? End(BudgetPeriod period, DateTimeOffset time)
    {
        var start = Start(period, time);
        return period switch
        {
            BudgetPeriod.Day => start.AddDays(1),
            BudgetPeriod.Week => start.AddDays(7),
            BudgetPeriod.Month => start.AddMonths(1),
            _ => null,
        };
    }

    public static string Name(BudgetPeriod period) => period switch
    {
        BudgetPeriod.Day => "day",
        BudgetPeriod.Week => "week",
        BudgetPeriod.Month => "month",
        _ => "total",
    };

    public static bool TryParse(string? text, out BudgetPeriod period)
    {
        period = text?.Trim().ToLowerInvariant() switch
        {
            "day" or "daily" => BudgetPeriod.Day,
            "week" or "weekly" => BudgetPeriod.Week,
            "month" or "monthly" => BudgetPeriod.Month,
            "total" or "" or null => BudgetPeriod.Total,
            _ => (BudgetPeriod)(-1),
        };
        return period >= 0;
    }
}
