using System.Collections.Concurrent;
using System.Net;
using Relay.Configuration;
using Relay.Errors;

namespace Relay.Auth;

/// <summary>What <c>GET /v1/routes</c> reports about requests that failed authentication.</summary>
internal sealed class UnauthenticatedStatus
{
    /// <summary>Requests refused since start for a missing, unknown or revoked key.</summary>
    public long Requests { get; init; }

    /// <summary>Of those, the ones answered 429 because their address was over its limit.</summary>
    public long RateLimited { get; init; }

    /// <summary>Client addresses seen failing recently.</summary>
    public int Addresses { get; init; }
}

/// <summary>
/// Requests that fail authentication: counted, logged at most once a minute per client address (with the count since the
/// last line), and limited per address by a token bucket (<c>unauthenticatedLimit</c>): beyond it they get 429 with
/// <c>retry-after</c> instead of 401. They write no usage record, so strangers cannot fill the database or the log.
/// </summary>
/// <remarks>
/// Only failures take from an address's bucket, so a valid key from the same address is never refused. Behind a reverse
/// proxy every client has the proxy's address and shares one bucket. Loopback is limited like any other address.
/// </remarks>
internal sealed class UnauthenticatedRequests(RelayConfig config, TimeProvider time, ILogger<UnauthenticatedRequests> logger)
{
    private const int MaxAddresses = 10_000;
    private static readonly TimeSpan LogInterval = TimeSpan.FromMinutes(1);

    private readonly double _perSecond = config.UnauthenticatedLimit.PerSecond;
    private readonly double _burst = config.UnauthenticatedLimit.Burst;
    private readonly ConcurrentDictionary<IPAddress, Bucket> _addresses = new();
    private long _requests;
    private long _rateLimited;
    private long _lastPrune;

    public UnauthenticatedStatus Status => new()
    {
        Requests = Interlocked.Read(ref _requests),
        RateLimited = Interlocked.Read(ref _rateLimited),
        Addresses = _addresses.Count,
    };

    /// <summary>The answer to a request that failed authentication: <paramref name="error"/>, or a 429 when its address
    /// is over the limit.</summary>
    public RelayError Refuse(HttpContext context, RelayError error)
    {
        Interlocked.Increment(ref _requests);
        var address = context.Connection.RemoteIpAddress is { } remote
            ? (remote.IsIPv4MappedToIPv6 ? remote.MapToIPv4() : remote)
            : IPAddress.None;
        var now = time.GetTimestamp();
        if (_addresses.Count >= MaxAddresses)
        {
            Prune(now);
        }

        var bucket = _addresses.GetOrAdd(address, static (_, state) => new Bucket(state.Burst, state.Now), (Burst: _burst, Now: now));
        TimeSpan? wait = null;
        long report = 0, reportLimited = 0;
        lock (bucket)
        {
            bucket.Tokens = Math.Min(_burst, bucket.Tokens + (time.GetElapsedTime(bucket.Refilled, now).TotalSeconds * _perSecond));
            bucket.Refilled = now;
            bucket.Unreported++;
            if (bucket.Tokens >= 1)
            {
                bucket.Tokens -= 1;
            }
            else
            {
                wait = TimeSpan.FromSeconds((1 - bucket.Tokens) / _perSecond);
                bucket.UnreportedLimited++;
            }

            if (bucket.LastReport is not { } last || time.GetElapsedTime(last, now) >= LogInterval)
            {
                (report, reportLimited) = (bucket.Unreported, bucket.UnreportedLimited);
                (bucket.Unreported, bucket.UnreportedLimited, bucket.LastReport) = (0, 0, now);
            }
        }

        if (report > 0)
        {
            Log.UnauthenticatedRequests(logger, address.ToString(), report, reportLimited);
        }

        if (wait is null)
        {
            return error;
        }

        Interlocked.Increment(ref _rateLimited);
        return RelayError.TooManyUnauthenticated(wait.Value);
    }

    /// <summary>Forgets addresses whose bucket has refilled, at most once a second; if a flood of addresses keeps the
    /// table full, it starts over (each address then gets a fresh burst, as without a limit).</summary>
    private void Prune(long now)
    {
        var last = Interlocked.Read(ref _lastPrune);
        if (last != 0 && time.GetElapsedTime(last, now) < TimeSpan.FromSeconds(1) || Interlocked.CompareExchange(ref _lastPrune, now, last) != last)
        {
            return;
        }

        var refillTime = TimeSpan.FromSeconds(_burst / _perSecond);
        foreach (var (address, bucket) in _addresses)
        {
            if (time.GetElapsedTime(bucket.Refilled, now) > refillTime)
            {
                _addresses.TryRemove(address, out _);
            }
        }

        if (_addresses.Count >= MaxAddresses)
        {
            _addresses.Clear();
        }
    }

    private sealed class Bucket(double tokens, long refilled)
    {
        public double Tokens { get; set; } = tokens;

        public long Refilled { get; set; } = refilled;

        public long? LastReport { get; set; }

        public long Unreported { get; set; }

        public long UnreportedLimited { get; set; }
    }
}
