using System.Globalization;
using System.Net;
using System.Runtime.CompilerServices;
using Relay.Errors;
using Relay.Protocol.Anthropic;
using Relay.Protocol.Text;
using Relay.Routing;
using Relay.Storage;

namespace Relay.Auth;

/// <summary>
/// What an operator allows a key besides its rates and money: whether it is enabled and unexpired, the client addresses
/// it may come from, and the models it may use. Checked before a request is read further, each with its own answer.
/// </summary>
/// <remarks>The parsed address ranges and model patterns are kept per key's limits object, which the authenticator
/// caches, so a request does not parse them again.</remarks>
internal sealed class KeyAccess(TimeProvider time)
{
    private readonly ConditionalWeakTable<IReadOnlyList<string>, IPNetwork[]> _networks = [];
    private readonly ConditionalWeakTable<IReadOnlyList<string>, ModelPatterns> _models = [];

    /// <summary>A disabled or expired key (401), or a client address outside the key's list (403); null when the key
    /// may be used from here.</summary>
    public RelayError? Check(HttpContext context, StoredApiKey key)
    {
        if (key.DisabledAt is not null)
        {
            return new RelayError(401, ErrorTypes.Authentication, "This key was disabled by the operator.", false);
        }

        if (key.Limits.ExpiresAt is { } expires && expires <= time.GetUtcNow())
        {
            return new RelayError(401, ErrorTypes.Authentication,
                $"This key expired at {expires.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)} UTC.", false);
        }

        return CheckAddress(context, key);
    }

    /// <summary>A 403 when the client's address is outside the key's list; otherwise null.</summary>
    public RelayError? CheckAddress(HttpContext context, StoredApiKey key)
    {
        if (key.Limits.AllowedIps is { Count: > 0 } allowed)
        {
            var address = ClientAddress(context);
            var networks = _networks.GetValue(allowed, ParseNetworks);
            if (address is null || !Array.Exists(networks, n => n.Contains(address)))
            {
                return new RelayError(403, ErrorTypes.Permission,
                    $"This key may not be used from {address?.ToString() ?? "an unknown address"}; the operator limited it to other client addresses.", false);
            }
        }

        return null;
    }

    /// <summary>Whether the key may use <paramref name="model"/> (the name as the client sent it).</summary>
    public bool MayUse(StoredApiKey key, string model) =>
        key.Limits.Models is not { Count: > 0 } patterns || _models.GetValue(patterns, p => new ModelPatterns(p)).Allows(model);

    /// <summary>A 403 naming the allowed patterns when the key may not use <paramref name="model"/>; otherwise null.</summary>
    public RelayError? CheckModel(StoredApiKey key, string model) =>
        MayUse(key, model)
            ? null
            : new RelayError(403, ErrorTypes.Permission,
                $"This key may not use model {ClientText.Shorten(model)}; it may use: {string.Join(", ", key.Limits.Models!)}.", false);

    /// <summary>A 403 when a scenario <paramref name="rule"/> sends the request to <paramref name="model"/> and the key may
    /// not use that model, so a scenario cannot widen what the key may use; otherwise null.</summary>
    public RelayError? CheckRoutedModel(StoredApiKey key, string model, string rule) =>
        MayUse(key, model)
            ? null
            : new RelayError(403, ErrorTypes.Permission,
                $"This request goes to model {ClientText.Shorten(model)} (Relay's {rule} rule), which this key may not use; it may use: {string.Join(", ", key.Limits.Models!)}.", false);

    /// <summary>The client's address, an IPv4 address as IPv4 even when the socket is dual-stack.</summary>
    private static IPAddress? ClientAddress(HttpContext context) =>
        context.Connection.RemoteIpAddress is { } remote && remote.IsIPv4MappedToIPv6 ? remote.MapToIPv4() : context.Connection.RemoteIpAddress;

    /// <summary>Addresses and CIDR ranges (host bits after the prefix are ignored, so <c>192.168.1.5/24</c> means the
    /// /24); an entry that does not parse matches nothing, so the key stays closed rather than open.</summary>
    private static IPNetwork[] ParseNetworks(IReadOnlyList<string> entries)
    {
        var networks = new List<IPNetwork>(entries.Count);
        foreach (var entry in entries)
        {
            var text = entry.AsSpan().Trim();
            var slash = text.IndexOf('/');
            if (!IPAddress.TryParse(slash < 0 ? text : text[..slash], out var address))
            {
                continue;
            }

            address = address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
            var bytes = address.GetAddressBytes();
            var prefix = bytes.Length * 8;
            if (slash >= 0 && (!int.TryParse(text[(slash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out prefix) || prefix > bytes.Length * 8))
            {
                continue;
            }

            for (var bit = prefix; bit < bytes.Length * 8; bit++)
            {
                bytes[bit / 8] &= (byte)~(0x80 >> (bit % 8));
            }

            networks.Add(new IPNetwork(new IPAddress(bytes), prefix));
        }

        return [.. networks];
    }

    /// <summary>A key's model patterns: exact names, or <c>*</c> wildcards; a <c>[1m]</c> suffix is allowed with its model.</summary>
    private sealed class ModelPatterns(IReadOnlyList<string> patterns)
    {
        private readonly HashSet<string> _exact = patterns.Where(p => !p.Contains('*', StringComparison.Ordinal)).ToHashSet(StringComparer.Ordinal);
        private readonly GlobPattern[] _globs = [.. patterns.Where(p => p.Contains('*', StringComparison.Ordinal)).Select(p => new GlobPattern(p))];

        public bool Allows(string model) => Matches(model) || Matches(ModelCatalog.StripContextSuffix(model));

        private bool Matches(string model) => _exact.Contains(model) || Array.Exists(_globs, g => g.IsMatch(model));
    }
}
