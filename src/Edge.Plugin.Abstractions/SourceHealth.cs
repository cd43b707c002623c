namespace Edge.Plugin;

/// <summary>How well a frame source is doing, from the plugin's point of view.</summary>
public enum SourceState
{
    /// <summary>Connected, and frames arrive.</summary>
    Healthy,

    /// <summary>Starting, reconnecting after a first failure, or connected but frames have stopped for a while.</summary>
    Degraded,

    /// <summary>Several connection attempts in a row have failed; the source keeps retrying.</summary>
    Down,
}

/// <summary>A snapshot of a source's health, for the plugin's health signal and its logs.</summary>
/// <param name="State">The overall state.</param>
/// <param name="LastFrameNs">Grab time of the newest frame, nanoseconds since the Unix epoch; 0 before the first.</param>
/// <param name="Frames">Frames grabbed so far, including those dropped.</param>
/// <param name="Dropped">Frames dropped because a newer one arrived before the plugin read them.</param>
/// <param name="Disconnects">Times the connection was lost or could not be made.</param>
/// <param name="Reconnects">Times a connection was made again after a disconnect.</param>
/// <param name="LastError">Why the connection was last lost; null when it never was.</param>
public sealed record SourceHealth(SourceState State, long LastFrameNs, long Frames, long Dropped, long Disconnects, long Reconnects, string? LastError)
{
    /// <summary>The health of a source that reports none, such as a list of files: always healthy.</summary>
    public static SourceHealth Unreported { get; } = new(SourceState.Healthy, 0, 0, 0, 0, 0, null);
}

/// <summary>A frame source that reports its health: live cameras and streams.</summary>
public interface IFrameSourceHealth
{
    /// <summary>The current health; cheap to read, safe from any thread.</summary>
    SourceHealth Health { get; }
}
