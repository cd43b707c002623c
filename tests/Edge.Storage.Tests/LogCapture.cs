using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Edge.Storage.Tests;

/// <summary>Keeps every log line, so tests can assert what an operator would read.</summary>
internal sealed class LogCapture : ILoggerProvider
{
    private readonly ConcurrentQueue<(LogLevel Level, string Message)> _lines = new();

    public IReadOnlyList<(LogLevel Level, string Message)> Lines => [.. _lines];

    public bool Contains(LogLevel level, string text) => _lines.Any(l => l.Level == level && l.Message.Contains(text, StringComparison.Ordinal));

    public override string ToString() => string.Join('\n', _lines.Select(l => $"{l.Level}: {l.Message}"));

    public ILogger CreateLogger(string categoryName) => new Logger(this);

    public void Dispose()
    {
    }

    private sealed class Logger(LogCapture owner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner._lines.Enqueue((logLevel, formatter(state, exception)));
    }
}
