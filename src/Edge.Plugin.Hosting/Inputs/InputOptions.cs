using Edge.Plugin.Hosting.Codecs;

namespace Edge.Plugin.Hosting.Inputs;

/// <summary>
/// How the <c>-input</c> source behaves, bound from the <c>Inputs</c> configuration section
/// (appsettings.json, or environment variables such as <c>Inputs__Loop=true</c>).
/// </summary>
public sealed class InputOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Inputs";

    /// <summary>
    /// The least width the plugin needs, usually the model's input width; 0 for full size. JPEGs decode
    /// straight to the smallest size that still covers it, and ffmpeg sources emit frames of it.
    /// </summary>
    public int Width { get; set; }

    /// <summary>The least height the plugin needs; 0 for full size. See <see cref="Width"/>.</summary>
    public int Height { get; set; }

    /// <summary>
    /// ffmpeg sources keep the aspect ratio, scaling to the smallest size that covers
    /// <see cref="Width"/> x <see cref="Height"/> instead of stretching to it: for letterboxing models.
    /// JPEGs always keep it.
    /// </summary>
    public bool KeepAspect { get; set; }

    /// <summary>Files, folders, globs and video files start again from the first frame when they end.</summary>
    public bool Loop { get; set; }

    /// <summary>Files from a folder or glob come in a random order (a new one on each loop) instead of by name.</summary>
    public bool Shuffle { get; set; }

    /// <summary>Seed for <see cref="Shuffle"/>, to replay an order; 0 picks one at random.</summary>
    public int Seed { get; set; }

    /// <summary>
    /// Frames a live source holds for a plugin that is busy: 1 or 2. When a newer frame arrives the
    /// oldest is dropped (and counted), so a slow plugin always sees a recent frame, never a backlog.
    /// </summary>
    public int Capacity { get; set; } = 1;

    /// <summary>
    /// The wait before the first reconnection attempt, doubled (with jitter) after each failure.
    /// Default 0.5 s; in configuration a TimeSpan such as <c>00:00:00.5</c>.
    /// </summary>
    public TimeSpan ReconnectDelay { get; set; } = TimeSpan.FromSeconds(0.5);

    /// <summary>The longest wait between reconnection attempts. Default 30 s (<c>00:00:30</c>).</summary>
    public TimeSpan MaxReconnectDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long a connected live source may go without a frame before it counts as stalled: it turns
    /// Degraded and the connection is dropped and made again. Also the connect and response timeout.
    /// Default 10 s (<c>00:00:10</c>).
    /// </summary>
    public TimeSpan StallTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The least time between two requests to a snapshot URL (an HTTP camera answering one image per
    /// request). A plugin with no <c>-interval</c> would otherwise poll the camera as fast as it can.
    /// Default 1 s (<c>00:00:01</c>); a longer <c>-interval</c> paces the requests instead.
    /// </summary>
    public TimeSpan SnapshotInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The most pixels a decoded image may declare; guards against decompression bombs.</summary>
    public long MaxPixels { get; set; } = ImageDecoder.DefaultMaxPixels;

    /// <summary>
    /// The largest image file read, in bytes: a file over it is refused before it is read, so a huge or
    /// mistaken input cannot take the plugin's memory. Default 256 MiB.
    /// </summary>
    public long MaxFileBytes { get; set; } = DefaultMaxFileBytes;

    /// <summary>The default of <see cref="MaxFileBytes"/>: 256 MiB, well past any camera image.</summary>
    public const long DefaultMaxFileBytes = 256L << 20;

    /// <summary>How a refused file's message names the limit, so its reader knows what to raise.</summary>
    internal const string MaxFileBytesSetting = $"{SectionName}:MaxFileBytes (environment {SectionName}__MaxFileBytes)";

    internal FrameSize Target => new(Width, Height);

    internal bool HasSize => Width > 0 && Height > 0;

    /// <summary>
    /// Takes the frame size from the services that use frames (the model) when no size was configured:
    /// the largest each way, so every one of them gets at least what it needs.
    /// </summary>
    /// <returns>The size taken, or null when a size was configured or no hint gave one.</returns>
    internal FrameSize? ApplyHints(IEnumerable<IFrameSizeHint> hints)
    {
        if (Width > 0 || Height > 0)
        {
            return null;
        }

        FrameSize? chosen = null;
        foreach (var size in hints.Select(h => h.FrameSize))
        {
            if (size is { Width: > 0, Height: > 0 } s)
            {
                chosen = chosen is { } c
                    ? new FrameSize(Math.Max(c.Width, s.Width), Math.Max(c.Height, s.Height), c.KeepAspect || s.KeepAspect)
                    : s;
            }
        }

        if (chosen is { } taken)
        {
            (Width, Height) = (taken.Width, taken.Height);
            KeepAspect |= taken.KeepAspect;
        }

        return chosen;
    }

    internal InputOptions Copy() => (InputOptions)MemberwiseClone();

    /// <summary>Checks the values and names the one that is wrong.</summary>
    /// <exception cref="ArgumentException">A value is out of range.</exception>
    public void Validate()
    {
        Check(Width >= 0 && Height >= 0, $"{SectionName}:Width and {SectionName}:Height must be 0 (full size) or positive; got {Width}x{Height}.");
        Check(Capacity is 1 or 2, $"{SectionName}:Capacity must be 1 or 2 frames; got {Capacity}.");
        // A bare number binds as days ("10" is ten days): a limit past a day is taken for that mistake.
        Check(ReconnectDelay > TimeSpan.Zero && ReconnectDelay <= TimeSpan.FromDays(1), $"{SectionName}:ReconnectDelay must be a positive TimeSpan of at most a day, such as 00:00:00.5; got {ReconnectDelay}.");
        Check(MaxReconnectDelay >= ReconnectDelay && MaxReconnectDelay <= TimeSpan.FromDays(1), $"{SectionName}:MaxReconnectDelay must be at least ReconnectDelay ({ReconnectDelay}) and at most a day, such as 00:00:30; got {MaxReconnectDelay}.");
        Check(StallTimeout > TimeSpan.Zero && StallTimeout <= TimeSpan.FromDays(1), $"{SectionName}:StallTimeout must be a positive TimeSpan of at most a day, such as 00:00:10; got {StallTimeout}.");
        Check(SnapshotInterval > TimeSpan.Zero && SnapshotInterval <= TimeSpan.FromDays(1), $"{SectionName}:SnapshotInterval must be a positive TimeSpan of at most a day, such as 00:00:01; got {SnapshotInterval}.");
        Check(MaxPixels > 0, $"{SectionName}:MaxPixels must be positive; got {MaxPixels}.");
        Check(MaxFileBytes > 0, $"{SectionName}:MaxFileBytes must be a positive number of bytes, such as {DefaultMaxFileBytes}; got {MaxFileBytes}.");
    }

    private static void Check(bool condition, string message)
    {
        if (!condition)
        {
            throw new ArgumentException(message);
        }
    }
}
