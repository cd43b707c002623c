using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace Edge.Plugin.Testing;

/// <summary>Keeps every measurement a run publishes, in order; frames may publish from several threads.</summary>
internal sealed class CapturingPublisher : IMeasurementPublisher
{
    private readonly List<Measurement> _published = [];

    public string Name => "test capture";

    public ValueTask PublishAsync(Measurement measurement, CancellationToken cancellationToken)
    {
        lock (_published)
        {
            _published.Add(measurement);
        }

        return ValueTask.CompletedTask;
    }

    public IReadOnlyList<Measurement> Snapshot()
    {
        lock (_published)
        {
            return [.. _published];
        }
    }
}

/// <summary>Delivers the test's measurements to whatever subscribes, those matching its patterns only.</summary>
internal sealed class GivenMeasurements(IReadOnlyList<Measurement> measurements) : IMeasurementSubscriber
{
    public string Name => "test measurements";

    public ValueTask<IMeasurementSubscription> SubscribeAsync(IReadOnlyList<string> patterns, CancellationToken cancellationToken)
    {
        foreach (var pattern in patterns)
        {
            MeasurementPattern.Validate(pattern);
        }

        var channel = Channel.CreateUnbounded<Measurement>();
        foreach (var m in measurements.Where(m => patterns.Any(p => MeasurementPattern.Matches(p, m.Name))))
        {
            channel.Writer.TryWrite(m);
        }

        return ValueTask.FromResult<IMeasurementSubscription>(new Subscription(patterns, channel.Reader));
    }

    private sealed class Subscription(IReadOnlyList<string> patterns, ChannelReader<Measurement> reader) : IMeasurementSubscription
    {
        public IReadOnlyList<string> Patterns => patterns;

        public async ValueTask<Measurement?> GetAsync(TimeSpan timeout, CancellationToken cancellationToken)
        {
            if (reader.TryRead(out var ready))
            {
                return ready;
            }

            // Everything the test gave has been delivered: the subscription has ended, which ends the run.
            await Task.Yield();
            cancellationToken.ThrowIfCancellationRequested();
            return null;
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}

/// <summary>Keeps the run's log lines, so a test can assert what the plugin logged.</summary>
internal sealed class CapturingLoggerProvider : ILoggerProvider
{
    private readonly List<string> _lines = [];

    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (_lines)
            {
                return [.. _lines];
            }
        }
    }

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(CapturingLoggerProvider provider, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var line = $"{logLevel} {category}: {formatter(state, exception)}";
            lock (provider._lines)
            {
                provider._lines.Add(line);
            }
        }
    }
}
