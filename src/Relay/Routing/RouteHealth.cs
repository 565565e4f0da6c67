namespace Relay.Routing;

/// <summary>The circuit states of a route, as <c>/v1/routes</c> reports them.</summary>
internal enum CircuitState
{
    Closed,
    Open,
    HalfOpen,
}

/// <summary>
/// One route's circuit breaker, load and recent outcomes. After <c>failures</c> consecutive upstream failures the
/// circuit opens and the route is skipped for the cool-down; then one probe request is let through, and its outcome
/// closes or reopens the circuit.
/// </summary>
/// <remarks>Thread-safe. Per instance by design: each Relay instance judges the routes it sees fail.</remarks>
internal sealed class RouteHealth(string key, int failureThreshold, TimeSpan cooldown, TimeProvider time)
{
    private const int RecentCapacity = 100;

    private readonly object _lock = new();
    private readonly (bool Ok, double Ms)[] _recent = new (bool, double)[RecentCapacity];
    private int _recentCount;
    private int _recentNext;
    private int _consecutiveFailures;
    private CircuitState _state = CircuitState.Closed;
    private DateTimeOffset _openUntil;
    private bool _probeInFlight;
    private int _inFlight;
    private long _requests;
    private string? _lastError;

    public string Key => key;

    public int InFlight => Volatile.Read(ref _inFlight);

    /// <summary>Reserves the route for one attempt; false while its circuit is open (or its probe is out).</summary>
    public bool TryAcquire()
    {
        lock (_lock)
        {
            var now = time.GetUtcNow();
            if (_state == CircuitState.Open && now >= _openUntil)
            {
                _state = CircuitState.HalfOpen;
                _probeInFlight = false;
            }

            if (_state == CircuitState.Open || (_state == CircuitState.HalfOpen && _probeInFlight))
            {
                return false;
            }

            if (_state == CircuitState.HalfOpen)
            {
                _probeInFlight = true;
            }

            _inFlight++;
            return true;
        }
    }

    /// <summary>Reserves the route whatever its circuit says: for a model whose every route is out of rotation, the
    /// breaker alone must not leave it with none, so requests go to the route whose cool-down ends first and its
    /// answers decide.</summary>
    public void AcquireAsLastResort()
    {
        lock (_lock)
        {
            if (_state == CircuitState.Open && time.GetUtcNow() >= _openUntil)
            {
                _state = CircuitState.HalfOpen;
            }

            if (_state == CircuitState.HalfOpen)
            {
                _probeInFlight = true;
            }

            _inFlight++;
        }
    }

    /// <summary>The provider's answer began (a success status and its first bytes): a probe has succeeded, so the
    /// circuit closes now rather than when a long stream ends. A later break still counts as a failure.</summary>
    public void AnswerBegan()
    {
        lock (_lock)
        {
            if (_state != CircuitState.Closed)
            {
                _state = CircuitState.Closed;
                _consecutiveFailures = 0;
                _probeInFlight = false;
            }
        }
    }

    /// <summary>When an open circuit will let a probe through.</summary>
    public DateTimeOffset? OpenUntil
    {
        get
        {
            lock (_lock)
            {
                return _state == CircuitState.Open ? _openUntil : null;
            }
        }
    }

    /// <summary>Ends an attempt. <paramref name="upstreamFailed"/> is true for failures that are the upstream's
    /// fault (unreachable, timeout, 429, 5xx, 529, a broken stream); null when the outcome says nothing about the
    /// upstream (the client went away).</summary>
    public void Release(bool? upstreamFailed, double latencyMs, string? error)
    {
        lock (_lock)
        {
            _inFlight--;
            if (upstreamFailed is not { } failed)
            {
                if (_state == CircuitState.HalfOpen)
                {
                    _probeInFlight = false;
                }

                return;
            }

            _requests++;
            _recent[_recentNext] = (!failed, latencyMs);
            _recentNext = (_recentNext + 1) % RecentCapacity;
            _recentCount = Math.Min(RecentCapacity, _recentCount + 1);
            if (failed)
            {
                _lastError = error;
                _consecutiveFailures++;
                if (_state == CircuitState.HalfOpen || _consecutiveFailures >= failureThreshold)
                {
                    _state = CircuitState.Open;
                    _openUntil = time.GetUtcNow() + cooldown;
                }
            }
            else
            {
                _consecutiveFailures = 0;
                _state = CircuitState.Closed;
            }

            _probeInFlight = false;
        }
    }

    public RouteHealthSnapshot Snapshot()
    {
        lock (_lock)
        {
            var state = _state == CircuitState.Open && time.GetUtcNow() >= _openUntil ? CircuitState.HalfOpen : _state;
            var recent = _recent.AsSpan(0, _recentCount).ToArray();
            var failures = recent.Count(r => !r.Ok);
            var latencies = recent.Where(r => r.Ok).Select(r => r.Ms).Order().ToArray();
            return new RouteHealthSnapshot(
                key,
                state,
                _consecutiveFailures,
                _requests,
                recent.Length == 0 ? 0 : (double)failures / recent.Length,
                latencies.Length == 0 ? null : latencies[latencies.Length / 2],
                _inFlight,
                state == CircuitState.Open ? _openUntil : null,
                _lastError);
        }
    }
}

/// <summary>A route's state at one moment, for <c>/v1/routes</c>.</summary>
internal sealed record RouteHealthSnapshot(
    string Route,
    CircuitState State,
    int ConsecutiveFailures,
    long Requests,
    double RecentErrorRate,
    double? P50Ms,
    int InFlight,
    DateTimeOffset? OpenUntil,
    string? LastError);
