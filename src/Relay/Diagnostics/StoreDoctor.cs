using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Serialization;
using Relay.Configuration;
using Relay.Storage;

namespace Relay.Diagnostics;

/// <summary>What a store check may look at: the config and the store it names (opened, not migrated).</summary>
internal sealed record StoreDoctorContext(RelayConfig Config, IRelayStore Store);

/// <summary>One check of the state the instances share. <see cref="StoreDoctor.Checks"/> lists them; a shared counter
/// store adds its own there.</summary>
/// <param name="Id">The id of the <see cref="DoctorCheck"/> it returns (and of the failure if it throws).</param>
/// <param name="NeedsStore">Skipped when the store did not answer; a check of another server (Redis) runs anyway.</param>
internal sealed record StoreCheck(string Id, string Title, Func<StoreDoctorContext, CancellationToken, Task<DoctorCheck>> RunAsync, bool NeedsStore = true);

/// <summary>Everything <c>relay doctor --store</c> found; <c>--json</c> prints this object.</summary>
/// <param name="Store">The store's description: a file path or a PostgreSQL server, never a password.</param>
internal sealed record StoreDoctorReport(string Store, IReadOnlyList<DoctorCheck> Checks)
{
    [JsonIgnore]
    public bool AnyFails => Checks.Any(c => c.Status == CheckStatus.Fail);
}

/// <summary><c>relay doctor --store</c>: does the configured store answer, and is its schema the one this Relay
/// writes. Nothing is changed: migrating is <c>relay migrate</c>'s (or <c>relay serve</c>'s) job.</summary>
internal static class StoreDoctor
{
    /// <summary>Run in order once the store has answered.</summary>
    public static IReadOnlyList<StoreCheck> Checks { get; } =
    [
        new("store-schema", "schema version", SchemaAsync),
        new(RedisDoctor.Id, RedisDoctor.Title, (context, cancellationToken) => RedisDoctor.CheckAsync(context.Config, cancellationToken), NeedsStore: false),
    ];

    public static async Task<StoreDoctorReport> RunAsync(RelayConfig config, IRelayStore store, CancellationToken cancellationToken)
    {
        var context = new StoreDoctorContext(config, store);
        var checks = new List<DoctorCheck> { await AnswersAsync(context, cancellationToken) };
        foreach (var check in Checks)
        {
            if (check.NeedsStore && checks[0].Status == CheckStatus.Fail)
            {
                checks.Add(new DoctorCheck(check.Id, check.Title, CheckStatus.Skip, "the store did not answer."));
                continue;
            }

            try
            {
                checks.Add(await check.RunAsync(context, cancellationToken));
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                checks.Add(new DoctorCheck(check.Id, check.Title, CheckStatus.Fail, ex.Message));
            }
        }

        return new StoreDoctorReport(store.Description, checks);
    }

    private static async Task<DoctorCheck> AnswersAsync(StoreDoctorContext context, CancellationToken cancellationToken)
    {
        var watch = Stopwatch.StartNew();
        try
        {
            await context.Store.GetSchemaVersionAsync(cancellationToken);
            return new DoctorCheck("store-answers", "store answers", CheckStatus.Pass,
                $"{context.Store.Description} answered in {watch.ElapsedMilliseconds.ToString(CultureInfo.InvariantCulture)} ms.");
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // Npgsql's and SQLite's messages name the server or file and the reason, never the password.
            return new DoctorCheck("store-answers", "store answers", CheckStatus.Fail, $"{context.Store.Description}: {ex.Message}",
                context.Config.DatabaseIsPostgres
                    ? "check the \"database\" setting (host, port, user, password, database) and that the server takes connections from here."
                    : "check the \"database\" setting and that the file's folder can be read and written.");
        }
    }

    private static async Task<DoctorCheck> SchemaAsync(StoreDoctorContext context, CancellationToken cancellationToken)
    {
        var version = await context.Store.GetSchemaVersionAsync(cancellationToken);
        var applied = version.Applied.ToString(CultureInfo.InvariantCulture);
        var latest = version.Latest.ToString(CultureInfo.InvariantCulture);
        return version.Applied.CompareTo(version.Latest) switch
        {
            0 => new DoctorCheck("store-schema", "schema version", CheckStatus.Pass, $"{applied}, current."),
            < 0 => new DoctorCheck("store-schema", "schema version", CheckStatus.Fail, $"{applied}; this Relay needs {latest}.",
                "run `relay migrate` (or start `relay serve`, which migrates)."),
            _ => new DoctorCheck("store-schema", "schema version", CheckStatus.Fail, $"{applied} is newer than this Relay's {latest}: a newer Relay migrated it.",
                "upgrade this Relay to the version the other instances run."),
        };
    }
}
