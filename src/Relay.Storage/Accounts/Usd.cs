namespace Relay.Storage.Accounts;

/// <summary>
/// Money is counted in billionths of a US dollar (<c>long</c>), so balances, budgets and costs add up exactly in every
/// store and in atomic counters: a price of up to three decimals per million tokens is a whole number per token.
/// </summary>
public static class Usd
{
    public const long NanosPerDollar = 1_000_000_000;

    public static long ToNanos(decimal dollars) => (long)decimal.Round(dollars * NanosPerDollar, MidpointRounding.AwayFromZero);

    public static decimal FromNanos(long nanos) => nanos / (decimal)NanosPerDollar;

    /// <summary>For people: <c>$1,250.00</c>, <c>$0.004215</c>: cents always, and up to six decimals so a single cheap
    /// request is still visible.</summary>
    public static string Format(long nanos) =>
        (nanos < 0 ? "-$" : "$") + Math.Abs(FromNanos(nanos)).ToString("#,0.00####", System.Globalization.CultureInfo.InvariantCulture);
}
