using System.Globalization;
using Microsoft.Extensions.Logging;

namespace Edge.Plugin.Hosting;

/// <summary>What a plugin uses to report: publishing measurements, the run mode, a logger.</summary>
public sealed partial class PluginContext
{
    private readonly IReadOnlyList<IMeasurementPublisher> _publishers;
    private int _failures;

    internal PluginContext(RunMode mode, IReadOnlyList<IMeasurementPublisher> publishers, ILogger logger)
    {
        Mode = mode;
        _publishers = publishers;
        Logger = logger;
    }

    /// <summary>Development or production.</summary>
    public RunMode Mode { get; }

    /// <summary>The plugin's logger; it writes to stderr.</summary>
    public ILogger Logger { get; }

    /// <summary>The frame being processed, whose grab time stamps what is published.</summary>
    public Frame? CurrentFrame { get; internal set; }

    /// <summary>
    /// The input's health: live cameras and streams report whether frames flow, how many were
    /// dropped, and how often the connection was lost and made again; files are always healthy.
    /// </summary>
    public SourceHealth InputHealth => (Source as IFrameSourceHealth)?.Health ?? SourceHealth.Unreported;

    internal IFrameSource? Source { get; set; }

    /// <summary>
    /// The parameters of the request being handled, by name, values as strings: an AiCSD request's
    /// <c>ModelParams</c> (for example <c>Brightness</c> = <c>"0"</c>), or every key of an Abaco
    /// run's <c>MSG</c> (for example <c>threshold</c> = <c>"0.5"</c>). Empty for a stream, so a plugin
    /// reads it with <c>TryGetValue</c> and falls back to its own default.
    /// </summary>
    public IReadOnlyDictionary<string, string> Parameters { get; internal set; } = PluginRunState.NoParameters;

    /// <summary>Failures counted so far: frames that could not be read or processed, and publishes that failed.</summary>
    public int Failures => Volatile.Read(ref _failures);

    /// <summary>
    /// Publishes a measurement stamped with the current frame's grab time (or now, outside a frame)
    /// to every active publisher.
    /// </summary>
    /// <exception cref="ArgumentException">The name breaks Waggle's naming rules; the message names the rule.</exception>
    public ValueTask PublishAsync(string name, MeasurementValue value, Dictionary<string, string>? meta = null, CancellationToken cancellationToken = default) =>
        PublishAsync(new Measurement(name, value, CurrentFrame?.TimestampNs ?? Clock.NowNs(), meta), cancellationToken);

    /// <summary>
    /// Publishes a measurement to every active publisher. One publisher's failure does not stop the others.
    /// A real number is rounded to <c>Plugin:SignificantDigits</c> when that is set. A publish that
    /// neither delivered nor spooled the measurement, cancelled ones included, is counted as a failure
    /// (exit code 1); the spooled publishers (Waggle, REST, MQTT) spool it rather than give up when
    /// <paramref name="cancellationToken"/> is cancelled.
    /// </summary>
    /// <exception cref="OperationCanceledException">A publisher gave up because of <paramref name="cancellationToken"/>; the others were still tried.</exception>
    public async ValueTask PublishAsync(Measurement measurement, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(measurement);
        measurement = Rounded(measurement, SignificantDigits);
        OperationCanceledException? cancelled = null;
        foreach (var publisher in _publishers)
        {
            try
            {
                await publisher.PublishAsync(measurement, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException e)
            {
                // Counted like any failure: a cancelled publish is a lost measurement, and the exit code must say so.
                CountFailure();
                LogPublishCancelled(Logger, measurement.Name, publisher.Name);
                cancelled ??= e;
            }
            catch (Exception e)
            {
                CountFailure();
                LogPublishFailed(Logger, e, measurement.Name, publisher.Name);
            }
        }

        if (cancelled is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(cancelled);
        }
    }

    /// <summary>Significant digits of published real numbers; 0 leaves them as they are.</summary>
    internal int SignificantDigits { get; init; }

    internal static Measurement Rounded(Measurement measurement, int digits)
    {
        if (digits == 0 || measurement.Value.Kind != MeasurementKind.RealNumber || !double.IsFinite(measurement.Value.AsDouble))
        {
            return measurement;
        }

        // Through decimal text, so that 0.123456789 at 3 digits is the double nearest 0.123, which prints as 0.123.
        var text = measurement.Value.AsDouble.ToString("G" + digits.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
        var rounded = double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);
        return new Measurement(measurement.Name, rounded, measurement.TimestampNs, measurement.Meta, measurement.Scope);
    }

    // Frames may be processed concurrently, each publishing on its own.
    internal void CountFailure() => Interlocked.Increment(ref _failures);

    [LoggerMessage(Level = LogLevel.Error, Message = "Publishing {Name} to {Publisher} failed")]
    private static partial void LogPublishFailed(ILogger logger, Exception error, string name, string publisher);

    [LoggerMessage(Level = LogLevel.Error, Message = "Publishing {Name} to {Publisher} was cancelled before it was delivered or spooled; {Publisher} will not have it")]
    private static partial void LogPublishCancelled(ILogger logger, string name, string publisher);
}
