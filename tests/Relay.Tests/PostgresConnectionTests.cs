using Npgsql;
using Relay.Storage.Postgres;

namespace Relay.Tests;

/// <summary>The <c>database</c> setting as a PostgreSQL URL or an Npgsql connection string: what Npgsql is given, and
/// what people are shown (never the password).</summary>
public sealed class PostgresConnectionTests
{
    [Fact]
    public void Url_WithEscapedCredentialsAndSslMode_BecomesAConnectionString()
    {
        var connection = PostgresConnection.Parse("postgresql://relay%40prod:p%3As%2Fw%40rd@db.example.com:6543/relay_main?sslmode=require&application_name=relay%201");

        var builder = new NpgsqlConnectionStringBuilder(connection.ConnectionString);
        Assert.Equal("relay@prod", builder.Username);
        Assert.Equal("p:s/w@rd", builder.Password);
        Assert.Equal("db.example.com", builder.Host);
        Assert.Equal(6543, builder.Port);
        Assert.Equal("relay_main", builder.Database);
        Assert.Equal(SslMode.Require, builder.SslMode);
        Assert.Equal("relay 1", builder.ApplicationName);
        Assert.Equal("postgresql db.example.com:6543/relay_main", connection.Description);
        Assert.DoesNotContain("w@rd", connection.Description, StringComparison.Ordinal);
        Assert.DoesNotContain("w@rd", connection.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("postgres://u@h/d", "h", 5432, "d")]
    [InlineData("POSTGRESQL://u:pw@10.0.0.5/d", "10.0.0.5", 5432, "d")]
    [InlineData("postgresql://u@[2001:db8::1]:5433/d", "2001:db8::1", 5433, "d")]
    [InlineData("postgresql://u:pw@h:5433", "h", 5433, "u")]
    public void Url_HostPortAndDatabase_HaveLibpqDefaults(string url, string host, int port, string database)
    {
        var builder = new NpgsqlConnectionStringBuilder(PostgresConnection.Parse(url).ConnectionString);

        Assert.Equal((host, port), (builder.Host, builder.Port));
        Assert.Equal(database, builder.Database ?? builder.Username);
    }

    [Fact]
    public void Url_WithSeveralHosts_KeepsEachHostsPort()
    {
        var connection = PostgresConnection.Parse("postgresql://u:pw@one:5432,two:5433/d?target_session_attrs=read-write&connect_timeout=7");

        var builder = new NpgsqlConnectionStringBuilder(connection.ConnectionString);
        Assert.Equal("one:5432,two:5433", builder.Host);
        Assert.Equal("read-write", builder.TargetSessionAttributes);
        Assert.Equal(7, builder.Timeout);
        Assert.Equal("postgresql one:5432,two:5433/d", connection.Description);
    }

    [Theory]
    [InlineData("verify-full", SslMode.VerifyFull)]
    [InlineData("verify-ca", SslMode.VerifyCA)]
    [InlineData("disable", SslMode.Disable)]
    [InlineData("prefer", SslMode.Prefer)]
    public void Url_SslModes_MapToNpgsqls(string sslmode, SslMode expected) =>
        Assert.Equal(expected, new NpgsqlConnectionStringBuilder(PostgresConnection.Parse($"postgresql://u@h/d?sslmode={sslmode}").ConnectionString).SslMode);

    [Fact]
    public void Url_NpgsqlKeywords_PassAsParameters()
    {
        var builder = new NpgsqlConnectionStringBuilder(PostgresConnection.Parse("postgresql://u@h/d?Maximum%20Pool%20Size=42").ConnectionString);

        Assert.Equal(42, builder.MaxPoolSize);
    }

    [Fact]
    public void KeyValueForm_PassesThrough()
    {
        const string text = "Host=db.internal;Port=5439;Database=relay;Username=relay;Password=secret-pw;SSL Mode=Require";

        var connection = PostgresConnection.Parse(text);

        Assert.Equal(new NpgsqlConnectionStringBuilder(text).ConnectionString, connection.ConnectionString);
        Assert.Equal("postgresql db.internal:5439/relay", connection.Description);
        Assert.True(PostgresConnection.IsPostgres(text));
        Assert.True(PostgresConnection.IsPostgres("server=h;database=d"));
    }

    [Theory]
    [InlineData("relay.db")]
    [InlineData("/var/lib/relay/relay.db")]
    [InlineData("data/my=odd.db")]
    public void SqliteFiles_AreNotPostgres(string database) => Assert.False(PostgresConnection.IsPostgres(database));

    [Theory]
    [InlineData("postgresql://u:topsecret@h:99999/d")]
    [InlineData("postgresql://u:topsecret@h/d?nonsense=1")]
    [InlineData("postgresql://u:topsecret@h/d?sslmode=sometimes")]
    [InlineData("postgresql://u:topsecret@/d")]
    [InlineData("Host=h;Bogus Keyword=topsecret")]
    public void Unreadable_IsAFormatErrorThatDoesNotRepeatThePassword(string database)
    {
        var error = Assert.Throws<FormatException>(() => PostgresConnection.Parse(database));

        Assert.DoesNotContain("topsecret", error.Message, StringComparison.Ordinal);
    }
}
