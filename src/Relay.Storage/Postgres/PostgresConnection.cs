using System.Globalization;
using System.Text.RegularExpressions;
using Npgsql;

namespace Relay.Storage.Postgres;

/// <summary>
/// The <c>database</c> setting when it names a PostgreSQL server: a <c>postgresql://</c> (or <c>postgres://</c>) URL,
/// as hosting providers print it, or an Npgsql <c>Host=…;Database=…</c> connection string, which passes through.
/// </summary>
public sealed partial class PostgresConnection
{
    /// <summary>libpq's URL query parameters and the Npgsql keywords that mean the same; any other parameter must be
    /// an Npgsql keyword itself (<c>?Maximum Pool Size=50</c>).</summary>
    private static readonly Dictionary<string, string> LibpqParameters = new(StringComparer.OrdinalIgnoreCase)
    {
        ["sslmode"] = "SSL Mode",
        ["sslrootcert"] = "Root Certificate",
        ["sslcert"] = "SSL Certificate",
        ["sslkey"] = "SSL Key",
        ["sslpassword"] = "SSL Password",
        ["connect_timeout"] = "Timeout",
        ["application_name"] = "Application Name",
        ["options"] = "Options",
        ["target_session_attrs"] = "Target Session Attributes",
        ["channel_binding"] = "Channel Binding",
        ["keepalives_idle"] = "Keepalive",
        ["user"] = "Username",
        ["password"] = "Password",
        ["dbname"] = "Database",
        ["host"] = "Host",
        ["port"] = "Port",
    };

    private PostgresConnection(string connectionString, string description)
    {
        ConnectionString = connectionString;
        Description = description;
    }

    /// <summary>What Npgsql is given; holds the password, so it is never shown.</summary>
    public string ConnectionString { get; }

    /// <summary>The server and database, for people: <c>postgresql host:port/database</c>, never the password.</summary>
    public string Description { get; }

    /// <summary>Whether the setting names a PostgreSQL server rather than a SQLite file.</summary>
    public static bool IsPostgres(string? database) =>
        database is not null && (HasUrlScheme(database) || KeyValueHost().IsMatch(database));

    /// <summary>Reads a URL or a key=value connection string.</summary>
    /// <exception cref="FormatException">It cannot be read; the message never repeats the password.</exception>
    public static PostgresConnection Parse(string database)
    {
        NpgsqlConnectionStringBuilder builder;
        if (HasUrlScheme(database))
        {
            builder = FromUrl(database.Trim());
        }
        else
        {
            try
            {
                builder = new NpgsqlConnectionStringBuilder(database);
            }
            catch (Exception ex) when (ex is ArgumentException or FormatException)
            {
                // Npgsql's message names the keyword, never a value.
                throw new FormatException($"not a PostgreSQL connection string: {ex.Message}", ex);
            }
        }

        if (string.IsNullOrWhiteSpace(builder.Host))
        {
            throw new FormatException("the PostgreSQL connection names no host.");
        }

        // PostgreSQL's own default: the database named like the user.
        var name = string.IsNullOrEmpty(builder.Database) ? builder.Username ?? "" : builder.Database;
        var server = builder.Host.Contains(',', StringComparison.Ordinal)
            ? builder.Host
            : $"{(builder.Host.Contains(':', StringComparison.Ordinal) ? $"[{builder.Host}]" : builder.Host)}:{builder.Port.ToString(CultureInfo.InvariantCulture)}";
        return new PostgresConnection(builder.ConnectionString, $"postgresql {server}/{name}");
    }

    public override string ToString() => Description;

    private static bool HasUrlScheme(string value)
    {
        var trimmed = value.TrimStart();
        return trimmed.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase) || trimmed.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary><c>postgresql://[user[:password]@][host][:port][,host2[:port2]…][/database][?name=value&amp;…]</c>, as libpq reads it.</summary>
    private static NpgsqlConnectionStringBuilder FromUrl(string url)
    {
        var rest = url[(url.IndexOf("://", StringComparison.Ordinal) + 3)..];
        var fragment = rest.IndexOf('#', StringComparison.Ordinal);
        if (fragment >= 0)
        {
            rest = rest[..fragment];
        }

        var query = "";
        var queryStart = rest.IndexOf('?', StringComparison.Ordinal);
        if (queryStart >= 0)
        {
            query = rest[(queryStart + 1)..];
            rest = rest[..queryStart];
        }

        var path = "";
        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        if (slash >= 0)
        {
            path = rest[(slash + 1)..];
            rest = rest[..slash];
        }

        var builder = new NpgsqlConnectionStringBuilder();
        // The password may itself hold an unescaped '@': the host part begins after the last one.
        var at = rest.LastIndexOf('@');
        if (at >= 0)
        {
            var userInfo = rest[..at];
            rest = rest[(at + 1)..];
            var colon = userInfo.IndexOf(':', StringComparison.Ordinal);
            var user = Decode(colon >= 0 ? userInfo[..colon] : userInfo);
            if (user.Length > 0)
            {
                builder.Username = user;
            }

            if (colon >= 0)
            {
                builder.Password = Decode(userInfo[(colon + 1)..]);
            }
        }

        ReadHosts(rest, builder);
        if (path.Length > 0)
        {
            builder.Database = Decode(path);
        }

        foreach (var pair in query.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            var name = Decode(equals >= 0 ? pair[..equals] : pair);
            var value = equals >= 0 ? Decode(pair[(equals + 1)..]) : "";
            SetParameter(builder, name, value);
        }

        return builder;
    }

    private static void ReadHosts(string hostList, NpgsqlConnectionStringBuilder builder)
    {
        if (hostList.Length == 0)
        {
            return; // no host in the URL: ?host=… may still give one
        }

        var entries = hostList.Split(',').Select(ReadHost).ToList();
        if (entries.Count == 1)
        {
            builder.Host = entries[0].Host;
            if (entries[0].Port is { } port)
            {
                builder.Port = port;
            }

            return;
        }

        // Several hosts (libpq tries them in turn): Npgsql takes each with its own port in its Host list.
        builder.Host = string.Join(',', entries.Select(e =>
        {
            var host = e.Host.Contains(':', StringComparison.Ordinal) ? $"[{e.Host}]" : e.Host;
            return e.Port is { } port ? $"{host}:{port.ToString(CultureInfo.InvariantCulture)}" : host;
        }));
    }

    /// <summary>One <c>host[:port]</c> or <c>[ipv6][:port]</c>.</summary>
    private static (string Host, int? Port) ReadHost(string entry)
    {
        string host;
        string? port = null;
        if (entry.StartsWith('['))
        {
            var close = entry.IndexOf(']', StringComparison.Ordinal);
            if (close < 0)
            {
                throw new FormatException("the PostgreSQL URL has an IPv6 address without its closing ']'.");
            }

            host = entry[1..close];
            if (entry.Length > close + 1)
            {
                port = entry[(close + 1)..].TrimStart(':');
            }
        }
        else
        {
            var colon = entry.LastIndexOf(':');
            host = colon >= 0 ? entry[..colon] : entry;
            port = colon >= 0 ? entry[(colon + 1)..] : null;
        }

        if (string.IsNullOrEmpty(port))
        {
            return (Decode(host), null);
        }

        if (!int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out var number) || number is < 1 or > 65535)
        {
            throw new FormatException($"the PostgreSQL URL's port '{port}' is not a port number.");
        }

        return (Decode(host), number);
    }

    private static void SetParameter(NpgsqlConnectionStringBuilder builder, string name, string value)
    {
        var keyword = LibpqParameters.GetValueOrDefault(name, name);
        if (keyword == "SSL Mode")
        {
            value = value.ToLowerInvariant() switch
            {
                "verify-ca" => "VerifyCA",
                "verify-full" => "VerifyFull",
                _ => value,
            };
        }

        try
        {
            builder[keyword] = value;
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or InvalidCastException)
        {
            // Say which parameter, not its value: it might be a password.
            throw new FormatException($"the PostgreSQL URL's parameter '{name}' is not one Npgsql understands, or its value is not valid for it.", ex);
        }
    }

    private static string Decode(string text)
    {
        try
        {
            return Uri.UnescapeDataString(text);
        }
        catch (UriFormatException ex)
        {
            throw new FormatException("the PostgreSQL URL holds an invalid %-escape.", ex);
        }
    }

    [GeneratedRegex(@"(^|;)\s*(host|server)\s*=", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex KeyValueHost();
}
