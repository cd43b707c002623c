namespace Edge.Plugin;

/// <summary>
/// Delivers measurements somewhere: stdout, a run log, a broker, a callback. Several publishers can
/// be active at once; each receives every measurement.
/// </summary>
public interface IMeasurementPublisher
{
    /// <summary>A short name for logs, such as "stdout" or "waggle".</summary>
    string Name { get; }

    /// <summary>Publishes one measurement. Returning means the publisher has accepted it.</summary>
    ValueTask PublishAsync(Measurement measurement, CancellationToken cancellationToken);
}
