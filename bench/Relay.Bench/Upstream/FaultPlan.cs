using System.Globalization;

namespace Relay.Bench.Upstream;

/// <summary>A way the fake upstream can misbehave on purpose, as real providers do now and then.</summary>
internal enum Fault
{
    None,

    /// <summary>529 <c>overloaded_error</c>.</summary>
    Overloaded,

    /// <summary>500 <c>api_error</c>.</summary>
    ServerError,

    /// <summary>429 <c>rate_limit_error</c> with <c>retry-after</c>.</summary>
    RateLimited,

    /// <summary>A stream broken off in the middle of an event (the connection is reset). Streams only.</summary>
    Cut,

    /// <summary>200 with an HTML page, as a proxy or a captive portal in front of a provider answers.</summary>
    Html,

    /// <summary>The first byte comes only after <c>--slow-ms</c>; the answer is then normal.</summary>
    Slow,
}

/// <summary>
/// How often each <see cref="Fault"/> happens, from <c>--faults</c> such as <c>529=0.03,500=0.02,429=0.03,cut=0.04,html=0.02,slow=0.03</c>
/// (rates between 0 and 1, summing to at most 1; the rest of the requests are answered normally). Each request draws
/// once; what was drawn is counted.
/// </summary>
internal sealed class FaultPlan
{
    private static readonly (string Name, Fault Fault)[] Names =
    [
        ("529", Fault.Overloaded), ("500", Fault.ServerError), ("429", Fault.RateLimited),
        ("cut", Fault.Cut), ("html", Fault.Html), ("slow", Fault.Slow),
    ];

    private readonly (Fault Fault, double UpTo)[] _thresholds;
    private readonly long[] _counts = new long[Enum.GetValues<Fault>().Length];

    private FaultPlan((Fault, double)[] thresholds, string text)
    {
        _thresholds = thresholds;
        Text = text;
    }

    public static FaultPlan None { get; } = new([], "none");

    /// <summary>The plan as given, for the start-up line.</summary>
    public string Text { get; }

    public bool IsEmpty => _thresholds.Length == 0;

    public static bool TryParse(string? text, out FaultPlan plan, out string? problem)
    {
        plan = None;
        problem = null;
        if (string.IsNullOrWhiteSpace(text) || text == "none")
        {
            return true;
        }

        var thresholds = new List<(Fault, double)>();
        var seen = new HashSet<Fault>();
        var sum = 0.0;
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var pair = part.Split('=', 2, StringSplitOptions.TrimEntries);
            var known = Array.FindIndex(Names, n => string.Equals(n.Name, pair[0], StringComparison.OrdinalIgnoreCase));
            if (pair.Length != 2 || known < 0)
            {
                problem = $"--faults: '{part}' is not NAME=RATE with NAME one of {string.Join(", ", Names.Select(n => n.Name))}.";
                return false;
            }

            if (!double.TryParse(pair[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var rate) || rate is < 0 or > 1)
            {
                problem = $"--faults: the rate of {pair[0]} must be a number between 0 and 1.";
                return false;
            }

            var fault = Names[known].Fault;
            if (!seen.Add(fault))
            {
                problem = $"--faults: {pair[0]} is given twice.";
                return false;
            }

            sum += rate;
            thresholds.Add((fault, sum));
        }

        if (sum > 1 + 1e-9)
        {
            problem = "--faults: the rates add up to more than 1.";
            return false;
        }

        plan = new FaultPlan([.. thresholds], text);
        return true;
    }

    /// <summary>Draws this request's fault; a cut drawn for a non-streaming request is answered normally.</summary>
    public Fault Draw(bool stream)
    {
        if (IsEmpty)
        {
            return Fault.None;
        }

        var roll = Random.Shared.NextDouble();
        var fault = Fault.None;
        foreach (var (candidate, upTo) in _thresholds)
        {
            if (roll < upTo)
            {
                fault = candidate;
                break;
            }
        }

        if (fault == Fault.Cut && !stream)
        {
            fault = Fault.None;
        }

        Interlocked.Increment(ref _counts[(int)fault]);
        return fault;
    }

    /// <summary>What was drawn so far, e.g. <c>none 9412, 529 301, …</c>.</summary>
    public string Summary() =>
        string.Join(", ", Enum.GetValues<Fault>().Select(f =>
            string.Create(CultureInfo.InvariantCulture, $"{(f == Fault.None ? "none" : Names.First(n => n.Fault == f).Name)} {Interlocked.Read(ref _counts[(int)f])}")));
}
