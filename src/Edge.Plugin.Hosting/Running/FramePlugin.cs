namespace Edge.Plugin.Hosting;

/// <summary>
/// The base class of a frame plugin: the host reads frames from the configured input and calls
/// <see cref="ProcessAsync"/> once for each. A plugin receives its model and services through its
/// constructor.
/// </summary>
public abstract class FramePlugin
{
    /// <summary>
    /// Processes one frame: run the model, publish results through <paramref name="context"/>. An
    /// exception fails this frame only; it is logged with the frame's source and the plugin goes on.
    /// The host disposes the frame afterwards. When the host reads the input itself, a stop (SIGTERM)
    /// lets the frame in flight finish: <paramref name="cancellationToken"/> is cancelled only when
    /// the host's shutdown timeout runs out.
    /// </summary>
    protected internal abstract ValueTask ProcessAsync(Frame frame, PluginContext context, CancellationToken cancellationToken);

    /// <summary>Called once before the first frame. Override to warm up or check resources.</summary>
    protected internal virtual ValueTask StartAsync(PluginContext context, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    /// <summary>Called once after the last frame, also when the run was cancelled.</summary>
    protected internal virtual ValueTask StopAsync(PluginContext context, CancellationToken cancellationToken) => ValueTask.CompletedTask;
}
