namespace Relay.Bench.Load;

/// <summary>One load run's settings.</summary>
internal sealed record LoadOptions
{
    /// <summary>Where requests go; with several (instances behind no load balancer), connection i uses the
    /// (i mod n)-th, so the load is split evenly.</summary>
    public required IReadOnlyList<Uri> Urls { get; init; }

    /// <summary>Sent as x-api-key; with several, connection i sends the (i mod n)-th (many keys at once).</summary>
    public required IReadOnlyList<string> Keys { get; init; }

    public required bool Stream { get; init; }

    public required int Concurrency { get; init; }

    public required TimeSpan Duration { get; init; }

    public required TimeSpan Warmup { get; init; }

    public required TimeSpan RequestTimeout { get; init; }

    /// <summary>The exact number of deltas each stream must carry, or -1 for "at least one".</summary>
    public required int ExpectDeltas { get; init; }

    public required string Label { get; init; }

    public required string Target { get; init; }

    public int? WatchPid { get; init; }

    /// <summary>Requests each connection sends at most (0: no limit), so a run can open exactly C streams at once.</summary>
    public int PerConnection { get; init; }

    public string? Validate() =>
        Keys.Count == 0 ? "--key is required."
        : Urls.Count == 0 || Urls.Any(u => u.Scheme != Uri.UriSchemeHttp) ? "--url must be an http:// URL."
        : Concurrency is < 1 or > 10_000 ? "--concurrency must be between 1 and 10000."
        : Duration <= TimeSpan.Zero ? "--duration must be positive."
        : Warmup < TimeSpan.Zero ? "--warmup must not be negative."
        : RequestTimeout <= TimeSpan.Zero ? "--timeout must be positive."
        : PerConnection < 0 ? "--per-connection must not be negative."
        : null;
}
