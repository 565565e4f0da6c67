using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Relay.Tests.Infrastructure;

/// <summary>Keeps every Error-or-worse log entry, so tests can assert Relay logged no unhandled exception; and, from
/// <paramref name="minimum"/> up, every entry with its event id.</summary>
public sealed class CountingLoggerProvider(LogLevel minimum = LogLevel.Error) : ILoggerProvider
{
    public LogLevel Minimum { get; } = minimum;

    public ConcurrentQueue<string> Errors { get; } = new();

    /// <summary>Every entry at <c>minimum</c> or above, formatted.</summary>
    public ConcurrentQueue<(LogLevel Level, int EventId, string Message)> Entries { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(CountingLoggerProvider owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= owner.Minimum || logLevel >= LogLevel.Error;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (logLevel >= owner.Minimum)
            {
                owner.Entries.Enqueue((logLevel, eventId.Id, formatter(state, exception)));
            }

            if (logLevel >= LogLevel.Error)
            {
                owner.Errors.Enqueue($"{category}: {formatter(state, exception)} {exception}");
            }
        }
    }
}
