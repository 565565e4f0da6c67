namespace Relay.Storage.Redis;

/// <summary>
/// The Lua scripts of <see cref="RedisAdmissionStore"/>. Redis runs a script alone, so each is one atomic step across
/// every instance. Times are the caller's (the request's <c>Now</c>, in Unix milliseconds), never Redis's clock, so
/// Redis decides exactly as the SQL stores do for the same request; real-time expiries (PEXPIRE) only clean up.
/// </summary>
/// <remarks>
/// <para>Per key: a hash per bucket (<c>level</c>, <c>at</c>: when the level was stored, <c>limit</c>) and a sorted set of
/// the open requests that hold a concurrency slot, scored by when they lapse. Per reservation: a hash naming what it took,
/// so a release or a give-back knows what to free from its id alone. Numbers are written with 17 significant digits so a
/// level reads back as the same double the rules computed.</para>
/// <para>The arithmetic mirrors <c>AdmissionRules</c> operation for operation (same order, IEEE doubles in both), so the
/// levels a script stores are those the rules would.</para>
/// </remarks>
public static class RedisAdmissionScripts
{
    /// <summary>Shared helpers: <c>refill(key, limit, now)</c> is <c>AdmissionRules.Refill</c>.</summary>
    private const string Helpers = """
        local function num(x) return string.format('%.17g', x) end
        local function refill(key, limit, now)
          local stored = redis.call('HMGET', key, 'level', 'at')
          if not stored[1] then return limit, false end
          return math.min(limit, tonumber(stored[1]) + math.max(0, now - tonumber(stored[2])) * limit / 60000), true
        end
        local function store_bucket(key, level, limit, now)
          redis.call('HSET', key, 'level', num(level), 'at', num(now), 'limit', num(limit))
          -- Dropped once it would have refilled to full, which is what a missing bucket means.
          redis.call('PEXPIRE', key, math.max(1000, math.ceil((limit - level) * 60000 / limit) + 60000))
        end
        """;

    /// <summary>
    /// Checks requests, tokens and concurrency in that order and, when all pass, takes them.
    /// KEYS: requests bucket, tokens bucket, slots, reservation id counter.
    /// ARGV: now, rpm (or ''), tpm (or ''), estimated tokens, concurrency (or ''), expires, reservation key prefix,
    /// keep ('1': the reservation record must outlive admission even without a slot or tokens to free, for a give-back).
    /// Returns {refusal (0 none, 1 requests, 2 tokens, 3 concurrency), requests level, tokens level, slots in use,
    /// reservation id}: the levels as read (refilled to now), before anything was taken.
    /// </summary>
    public const string Admit = Helpers + "\n" + """
        local now = tonumber(ARGV[1])
        local rpm, tpm, concurrency = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[5])
        local estimated, expires = math.max(0, tonumber(ARGV[4])), tonumber(ARGV[6])
        local requests, tokens, slots = 0, 0, 0
        if rpm then requests = refill(KEYS[1], rpm, now) end
        if tpm then tokens = refill(KEYS[2], tpm, now) end
        if concurrency then
          redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
          slots = redis.call('ZCARD', KEYS[3])
        end
        local refusal = 0
        if rpm and requests < 1 then refusal = 1
        elseif tpm and tokens <= 0 then refusal = 2
        elseif concurrency and slots >= concurrency then refusal = 3
        end
        if refusal ~= 0 then return {refusal, num(requests), num(tokens), slots, 0} end

        local id = -redis.call('INCR', KEYS[4])
        local record = {}
        if rpm then
          store_bucket(KEYS[1], requests - 1, rpm, now)
          table.insert(record, 'rpm') table.insert(record, KEYS[1]) table.insert(record, 'rpm_limit') table.insert(record, rpm)
        end
        if tpm then
          store_bucket(KEYS[2], tokens - estimated, tpm, now)
          table.insert(record, 'tpm') table.insert(record, KEYS[2]) table.insert(record, 'tpm_limit') table.insert(record, tpm)
          table.insert(record, 'estimated') table.insert(record, estimated)
        end
        local lifetime = math.max(1000, expires - now + 60000)
        if concurrency then
          redis.call('ZADD', KEYS[3], expires, id)
          local last = redis.call('ZRANGE', KEYS[3], -1, -1, 'WITHSCORES')
          redis.call('PEXPIRE', KEYS[3], math.max(lifetime, tonumber(last[2]) - now + 60000))
          table.insert(record, 'slots') table.insert(record, KEYS[3])
        end
        if #record > 0 and (concurrency or tpm or ARGV[8] == '1') then
          local key = ARGV[7] .. id
          table.insert(record, 'expires') table.insert(record, num(expires))
          redis.call('HSET', key, unpack(record))
          redis.call('PEXPIRE', key, lifetime)
        end
        return {0, num(requests), num(tokens), slots, id}
        """;

    /// <summary>
    /// The SQL store admitted the money too: the reservation takes the SQL id, so a release by that id finds it; a
    /// reservation with no slot and no tokens to free later is dropped.
    /// KEYS: the reservation under its Redis id, the reservation under the SQL id. ARGV: the Redis id, the SQL id.
    /// </summary>
    public const string Confirm = """
        local r = redis.call('HMGET', KEYS[1], 'slots', 'tpm')
        if not r[1] and not r[2] then
          redis.call('DEL', KEYS[1])
          return 0
        end
        if r[1] then
          local score = redis.call('ZSCORE', r[1], ARGV[1])
          redis.call('ZREM', r[1], ARGV[1])
          if score then redis.call('ZADD', r[1], score, ARGV[2]) end
        end
        redis.call('RENAME', KEYS[1], KEYS[2])
        return 1
        """;

    /// <summary>
    /// The SQL store refused the money: gives back the request, the tokens and the slot the admission took, as if
    /// the request had been refused without taking anything.
    /// KEYS: the reservation. ARGV: its id, now.
    /// </summary>
    public const string GiveBack = Helpers + "\n" + """
        local now = tonumber(ARGV[2])
        local r = redis.call('HMGET', KEYS[1], 'rpm', 'rpm_limit', 'tpm', 'tpm_limit', 'estimated', 'slots')
        if r[1] then
          local limit = tonumber(r[2])
          local level, stored = refill(r[1], limit, now)
          if stored then store_bucket(r[1], math.min(limit, level + 1), limit, now) end
        end
        if r[3] then
          local limit = tonumber(r[4])
          local level, stored = refill(r[3], limit, now)
          if stored then store_bucket(r[3], math.min(limit, level + tonumber(r[5])), limit, now) end
        end
        if r[6] then redis.call('ZREM', r[6], ARGV[1]) end
        redis.call('DEL', KEYS[1])
        return 1
        """;

    /// <summary>
    /// The request ended: frees its slot and replaces its token estimate with the real count
    /// (<c>AdmissionRules.CorrectTokens</c>). An unknown id (lapsed, or released already) changes nothing.
    /// KEYS: the reservation. ARGV: its id, the real token count, now.
    /// </summary>
    public const string Release = Helpers + "\n" + """
        local r = redis.call('HMGET', KEYS[1], 'tpm', 'tpm_limit', 'estimated', 'slots')
        if r[4] then redis.call('ZREM', r[4], ARGV[1]) end
        local actual, now = tonumber(ARGV[2]), tonumber(ARGV[3])
        if r[1] and actual ~= tonumber(r[3]) then
          local limit = tonumber(r[2])
          local level, stored = refill(r[1], limit, now)
          if stored then
            store_bucket(r[1], math.min(limit, level - (math.max(0, actual) - math.max(0, tonumber(r[3])))), limit, now)
          end
        end
        redis.call('DEL', KEYS[1])
        if r[1] or r[4] then return 1 end
        return 0
        """;

    /// <summary>Every script, for <c>relay doctor</c> to load.</summary>
    public static IReadOnlyList<(string Name, string Text)> All =>
        [("admit", Admit), ("confirm", Confirm), ("give back", GiveBack), ("release", Release)];
}
