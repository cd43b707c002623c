using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;

namespace Edge.Plugin.Hosting.Inputs;

/// <summary>
/// One-off captures outside the plugin loop, like pywaggle's <c>Camera.snapshot()</c> and
/// <c>Camera.record(duration)</c>: any <c>-input</c> form works (a camera URL, a Waggle camera name,
/// a device, a file).
/// </summary>
public static class FrameCapture
{
    /// <summary>Opens the input, grabs one frame and closes it again. The caller disposes the frame.</summary>
    /// <param name="input">Any <c>-input</c> form.</param>
    /// <param name="options">Size hint and reconnection settings; defaults when null.</param>
    /// <param name="logger">Where connection problems are logged; none when null.</param>
    /// <param name="cancellationToken">Stops waiting: a live camera that is down is retried until then.</param>
    /// <exception cref="FrameSourceException">The input had no frame (an empty file list) or it could not be decoded.</exception>
    public static async Task<Frame> SnapshotAsync(string input, InputOptions? options = null, ILogger? logger = null, CancellationToken cancellationToken = default)
    {
        var source = FrameSources.Create(input, options, logger);
        await using (source.ConfigureAwait(false))
        {
            return await source.ReadAsync(cancellationToken).ConfigureAwait(false)
                ?? throw new FrameSourceException(source.Description, "the input has no frames");
        }
    }

    /// <summary>
    /// Yields the frames an input produces for <paramref name="duration"/>, measured from the first
    /// frame, then closes it. Frames are kept two deep, so a consumer that keeps up misses none;
    /// the caller disposes each frame.
    /// </summary>
    /// <param name="input">Any <c>-input</c> form.</param>
    /// <param name="duration">How long to record, from the first frame's grab time.</param>
    /// <param name="options">Size hint and reconnection settings; defaults when null.</param>
    /// <param name="logger">Where connection problems are logged; none when null.</param>
    /// <param name="cancellationToken">Stops the recording early.</param>
    public static async IAsyncEnumerable<Frame> RecordAsync(string input, TimeSpan duration, InputOptions? options = null, ILogger? logger = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(duration, TimeSpan.Zero);
        options = options?.Copy() ?? new InputOptions();
        options.Capacity = 2;
        var source = FrameSources.Create(input, options, logger);
        await using (source.ConfigureAwait(false))
        {
            var endNs = long.MaxValue;
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            while (true)
            {
                Frame? frame;
                try
                {
                    frame = await source.ReadAsync(stop.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    // The recording time ran out while waiting for a frame.
                    yield break;
                }

                if (frame is null)
                {
                    yield break;
                }

                if (endNs == long.MaxValue)
                {
                    endNs = frame.TimestampNs + (duration.Ticks * 100);
                    stop.CancelAfter(duration);
                }

                if (frame.TimestampNs > endNs)
                {
                    frame.Dispose();
                    yield break;
                }

                yield return frame;
            }
        }
    }
}
