using System.Text.Json.Serialization;

namespace Relay.Diagnostics;

/// <summary>How one check went.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<CheckStatus>))]
internal enum CheckStatus
{
    [JsonStringEnumMemberName("pass")]
    Pass,

    [JsonStringEnumMemberName("warn")]
    Warn,

    [JsonStringEnumMemberName("fail")]
    Fail,

    [JsonStringEnumMemberName("skip")]
    Skip,
}

/// <summary>Whether a client would work with the gateway.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<Verdict>))]
internal enum Verdict
{
    [JsonStringEnumMemberName("works")]
    Works,

    [JsonStringEnumMemberName("works-with-warnings")]
    WorksWithWarnings,

    [JsonStringEnumMemberName("fails")]
    Fails,
}

/// <summary>One diagnosis step, in words a user can act on. Never holds a secret.</summary>
internal sealed record DoctorCheck(string Id, string Title, CheckStatus Status, string Detail, string? Fix = null);

/// <summary>A client's verdict and the fixes for what would go wrong.</summary>
internal sealed record ClientVerdict(string Client, Verdict Verdict, IReadOnlyList<string> Problems, IReadOnlyList<string> Fixes);

/// <summary>Everything <c>relay doctor</c> found; <c>--json</c> prints this object.</summary>
internal sealed record DoctorReport(
    string Url,
    string? Key,
    IReadOnlyList<DoctorCheck> Checks,
    IReadOnlyList<string>? DesktopModels,
    ClientVerdict ClaudeCode,
    ClientVerdict ClaudeDesktop)
{
    /// <summary>True when some client would fail: <c>relay doctor</c> then exits with 1.</summary>
    [JsonIgnore]
    public bool AnyClientFails => ClaudeCode.Verdict == Verdict.Fails || ClaudeDesktop.Verdict == Verdict.Fails;

    public DoctorCheck? Check(string id) => Checks.FirstOrDefault(c => c.Id == id);
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true)]
[JsonSerializable(typeof(DoctorReport))]
[JsonSerializable(typeof(StoreDoctorReport))]
internal sealed partial class DoctorJsonContext : JsonSerializerContext;
