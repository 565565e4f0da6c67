namespace Relay;

/// <summary>Every log message Relay writes, with stable event ids. None of them carries a secret.</summary>
internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Information, "{RequestId} {Endpoint} {Model} -> {Route} {Status} {DurationMs:F0} ms in={InputTokens} out={OutputTokens} cache_r={CacheRead} cache_w={CacheWrite} key={KeyName}")]
    public static partial void RequestCompleted(ILogger logger, string requestId, string endpoint, string model, string route, int status,
        double durationMs, long inputTokens, long outputTokens, long cacheRead, long cacheWrite, string keyName);

    [LoggerMessage(2, LogLevel.Error, "{RequestId} unhandled error")]
    public static partial void UnhandledError(ILogger logger, string requestId, Exception exception);

    [LoggerMessage(3, LogLevel.Warning, "{RequestId} provider {Provider} failed: {Reason}")]
    public static partial void UpstreamFailed(ILogger logger, string requestId, string provider, string reason);

    [LoggerMessage(4, LogLevel.Warning, "Writing {Count} usage records failed (attempt {Attempt}); retrying until it succeeds")]
    public static partial void UsageWriteRetry(ILogger logger, int count, int attempt, Exception exception);

    [LoggerMessage(5, LogLevel.Error, "Writing {Count} usage records failed; they are lost and their costs not charged")]
    public static partial void UsageWriteFailed(ILogger logger, int count, Exception exception);

    [LoggerMessage(92, LogLevel.Information, "Wrote {Count} usage records at attempt {Attempt}")]
    public static partial void UsageWriteRecovered(ILogger logger, int count, int attempt);

    [LoggerMessage(7, LogLevel.Warning, "Provider {Provider} is {State}: {Reason}")]
    public static partial void ProviderHealthChanged(ILogger logger, string provider, string state, string reason);

    [LoggerMessage(8, LogLevel.Information, "{RequestId} {Method} {Path} -> {Provider} {Status} {DurationMs:F0} ms")]
    public static partial void Forwarded(ILogger logger, string requestId, string method, string path, string provider, int status, double durationMs);

    [LoggerMessage(6, LogLevel.Warning, "{RequestId} provider {Provider} stream broke after it began: {Reason}")]
    public static partial void StreamBroken(ILogger logger, string requestId, string provider, string reason);

    [LoggerMessage(45, LogLevel.Warning, "{RequestId} provider {Provider} model {Model} sent broken tool-call arguments: {Repaired} repaired, {Invalid} reported to the model as invalid")]
    public static partial void ToolArgumentsRepaired(ILogger logger, string requestId, string provider, string model, int repaired, int invalid);

    [LoggerMessage(20, LogLevel.Warning, "Provider {Provider} model {Model} refused a request; Relay now corrects it ({Correction}): {Evidence}")]
    public static partial void CorrectionLearned(ILogger logger, string provider, string model, string correction, string evidence);

    [LoggerMessage(21, LogLevel.Warning, "Provider {Provider} model {Model}: the correction ({Correction}) did not help, so Relay dropped it: {Evidence}")]
    public static partial void CorrectionDropped(ILogger logger, string provider, string model, string correction, string evidence);

    [LoggerMessage(22, LogLevel.Warning, "Learned corrections could not be read from or written to the store")]
    public static partial void CorrectionStoreFailed(ILogger logger, Exception exception);

    [LoggerMessage(70, LogLevel.Warning, "Admin-set prices could not be read from the store; relay.json's and the default prices apply until they can")]
    public static partial void PriceStoreFailed(ILogger logger, Exception exception);

    [LoggerMessage(50, LogLevel.Warning, "{Count} request(s) from {Address} without a valid key since the last such line ({RateLimited} answered 429); at most one line a minute per address, totals in GET /v1/routes")]
    public static partial void UnauthenticatedRequests(ILogger logger, string address, long count, long rateLimited);

    [LoggerMessage(90, LogLevel.Error, "{RequestId} the limits store failed, so the request was refused (fail closed)")]
    public static partial void AdmissionFailed(ILogger logger, string requestId, Exception exception);

    [LoggerMessage(91, LogLevel.Warning, "{RequestId} freeing the request's concurrency slot failed; it is freed when the usage record is written or the reservation expires")]
    public static partial void AdmissionReleaseFailed(ILogger logger, string requestId, Exception exception);

    [LoggerMessage(140, LogLevel.Warning, "The store did not take {Count} usage records; they and the records after them go to the spool at {Path} until it answers again")]
    public static partial void UsageSpoolStarted(ILogger logger, int count, string path, Exception exception);

    [LoggerMessage(141, LogLevel.Warning, "{Megabytes:F1} MB of usage records wait in the spool at {Path} ({Files} file(s)); they are written to the store as soon as it answers")]
    public static partial void UsageSpoolSize(ILogger logger, double megabytes, string path, int files);

    [LoggerMessage(142, LogLevel.Error, "The usage spool at {Path} is full ({Megabytes:F1} MB, usageSpool.maxMegabytes {MaxMegabytes}); requests now wait until the store or the spool takes their records")]
    public static partial void UsageSpoolFull(ILogger logger, string path, double megabytes, int maxMegabytes);

    [LoggerMessage(143, LogLevel.Error, "Writing {Count} usage records to the spool at {Path} failed; requests now wait until the store or the spool takes them")]
    public static partial void UsageSpoolAppendFailed(ILogger logger, int count, string path, Exception exception);

    [LoggerMessage(144, LogLevel.Information, "Wrote {Count} spooled usage records from {Files} spool file(s) to the store")]
    public static partial void UsageReplayFinished(ILogger logger, long count, int files);

    [LoggerMessage(145, LogLevel.Warning, "{Files} spool file(s) ({Megabytes:F1} MB) of usage records from an earlier run wait at {Path}; they are written to the store as soon as it answers")]
    public static partial void UsageSpoolWaiting(ILogger logger, int files, double megabytes, string path);

    [LoggerMessage(146, LogLevel.Warning, "Writing spooled usage records from {File} to the store failed (attempt {Attempt}); retrying")]
    public static partial void UsageReplayRetry(ILogger logger, string file, int attempt, Exception exception);

    [LoggerMessage(147, LogLevel.Error, "Spool file {File} has an unreadable line at byte {Offset}; it was kept as {Kept}, and the records from that line on were not written")]
    public static partial void UsageSpoolFileCorrupt(ILogger logger, string file, long offset, string kept);

    [LoggerMessage(148, LogLevel.Warning, "Stopping with {Megabytes:F1} MB of usage records in the spool at {Path}; the next start writes them to the store")]
    public static partial void UsageSpoolLeftForNextStart(ILogger logger, double megabytes, string path);

    [LoggerMessage(130, LogLevel.Warning, "The change feed on {Redis} is down ({Reason}); other instances' key changes apply here within 5 s and price and correction changes within 30 s until it is back")]
    public static partial void ChangeFeedDown(ILogger logger, string redis, string reason);

    [LoggerMessage(131, LogLevel.Information, "The change feed on {Redis} is back; re-reading keys, prices and corrections")]
    public static partial void ChangeFeedRestored(ILogger logger, string redis);

    [LoggerMessage(149, LogLevel.Warning, "The store cannot be read to check API keys; keys this instance confirmed in the last {GraceMinutes} minutes are still taken, others get a 503 until it answers")]
    public static partial void KeyStoreUnavailable(ILogger logger, double graceMinutes, Exception exception);

    [LoggerMessage(170, LogLevel.Information, "Web console: an operator signed in from {Address}")]
    public static partial void ConsoleSignedIn(ILogger logger, string address);

    [LoggerMessage(171, LogLevel.Information, "Web console: an operator signed out from {Address}")]
    public static partial void ConsoleSignedOut(ILogger logger, string address);
}
