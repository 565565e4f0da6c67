using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;

namespace Relay.WebConsole;

/// <summary>The key a key holder signed in with: its id and name, never the key itself.</summary>
internal sealed record ConsoleKeyHolder(long KeyId, string KeyName);

/// <summary>One signed-in operator or key holder: the token every change must carry, and when the session ends.</summary>
internal sealed class ConsoleSession(string csrfToken, DateTimeOffset started, DateTimeOffset lastSeen, ConsoleKeyHolder? keyHolder = null)
{
    public string CsrfToken { get; } = csrfToken;

    /// <summary>The key this session may see, for a key holder; null for the operator.</summary>
    public ConsoleKeyHolder? KeyHolder { get; } = keyHolder;

    public DateTimeOffset Started { get; } = started;

    public DateTimeOffset LastSeen { get; set; } = lastSeen;
}

/// <summary>
/// The console's sessions, held in this process's memory: a session id is 32 random bytes, kept only as its SHA-256,
/// and ends after <see cref="IdleTimeout"/> without a request or <see cref="AbsoluteTimeout"/> after sign-in. Several
/// instances behind one address need sticky sessions, or the operator signs in again on another instance.
/// </summary>
internal sealed class ConsoleSessions(TimeProvider time)
{
    public static readonly TimeSpan IdleTimeout = TimeSpan.FromMinutes(30);
    public static readonly TimeSpan AbsoluteTimeout = TimeSpan.FromHours(12);
    private const int MaxSessions = 1000;

    private readonly ConcurrentDictionary<string, ConsoleSession> _sessions = new(StringComparer.Ordinal);

    /// <summary>Starts an operator's session, or a key holder's when <paramref name="keyHolder"/> is given; returns its id
    /// (for the cookie) and the session.</summary>
    public (string Id, ConsoleSession Session) Start(ConsoleKeyHolder? keyHolder = null)
    {
        var now = time.GetUtcNow();
        Prune(now);
        var id = RandomToken();
        var session = new ConsoleSession(RandomToken(), now, now, keyHolder);
        _sessions[Hash(id)] = session;
        return (id, session);
    }

    /// <summary>The live session with this id, its idle clock restarted; null when unknown or expired.</summary>
    public ConsoleSession? Find(string? id)
    {
        if (string.IsNullOrEmpty(id) || id.Length > 100 || !_sessions.TryGetValue(Hash(id), out var session))
        {
            return null;
        }

        var now = time.GetUtcNow();
        if (Expired(session, now))
        {
            _sessions.TryRemove(Hash(id), out _);
            return null;
        }

        session.LastSeen = now;
        return session;
    }

    public void End(string? id)
    {
        if (!string.IsNullOrEmpty(id))
        {
            _sessions.TryRemove(Hash(id), out _);
        }
    }

    private static bool Expired(ConsoleSession session, DateTimeOffset now) =>
        now - session.LastSeen >= IdleTimeout || now - session.Started >= AbsoluteTimeout;

    private void Prune(DateTimeOffset now)
    {
        foreach (var (hash, session) in _sessions)
        {
            if (Expired(session, now))
            {
                _sessions.TryRemove(hash, out _);
            }
        }

        // Only a right key opens a session, so this bounds memory against a script signing in in a loop.
        if (_sessions.Count >= MaxSessions)
        {
            foreach (var (hash, _) in _sessions.OrderBy(s => s.Value.LastSeen).Take(_sessions.Count - MaxSessions + 1))
            {
                _sessions.TryRemove(hash, out _);
            }
        }
    }

    private static string RandomToken() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static string Hash(string id) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(id)));
}
