using System.Diagnostics;
using Edge.Plugin.Hosting.Health;
using Edge.Plugin.Hosting.Inputs;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Edge.Plugin.Hosting;

/// <summary>
/// The one path every frame takes, whatever drives the plugin (the stream loop, an Abaco run, an
/// AiCSD request, the test host): its source opened with the Inputs settings and the model's size
/// hint, then the plugin called with failures counted the same way.
/// </summary>
internal sealed partial class FramePipeline
{
    private readonly IFrameSourceProvider[] _providers;
    private readonly IFrameConsumerCheck[] _consumers;
    private readonly PluginHealth? _health;
    private readonly ILogger _logger;

    public FramePipeline(IOptions<InputOptions> inputs, IEnumerable<IFrameSizeHint> hints, IEnumerable<IFrameSourceProvider> providers, ILogger<FramePipeline> logger, PluginHealth? health = null)
    {
        _providers = [.. providers];
        _health = health;
        _logger = logger;
        Inputs = inputs.Value.Copy();
        var consumers = hints.ToArray();
        SizedByModel = Inputs.ApplyHints(consumers);
        _consumers = [.. consumers.OfType<IFrameConsumerCheck>()];
    }

    /// <summary>The Inputs settings every source opens with, the model's size applied when none was configured.</summary>
    public InputOptions Inputs { get; }

    /// <summary>The size the model asked for, when it chose the frame size.</summary>
    public FrameSize? SizedByModel { get; }

    /// <summary>Opens a source for an <c>-input</c> string: a scheme a registered provider serves, else the built-in forms.</summary>
    public IFrameSource Open(string input) => FrameSources.Create(input, Inputs, _logger, _providers);

    /// <summary>
    /// Runs the plugin on one frame and disposes it. A failure is counted on <paramref name="context"/>,
    /// reported to health (unless the caller reports the outcome itself) and logged with the frame's source; it does not escape, as the next frame
    /// should still be processed. Cancellation by <paramref name="cancellationToken"/> escapes, and is
    /// counted as a failure too: the frame's results are incomplete. A model that can never take
    /// frames (<see cref="FramesRefusedException"/>) escapes as well, since every later frame would fail the same way.
    /// </summary>
    /// <returns>Null when the frame was processed and everything it published was accepted; else why not.</returns>
    public async ValueTask<string?> ProcessAsync(FramePlugin plugin, Frame frame, PluginContext context, CancellationToken cancellationToken, bool reportHealth = true)
    {
        using (frame)
        {
            var failuresBefore = context.Failures;
            string? error = null;
            context.CurrentFrame = frame;
            var started = Stopwatch.GetTimestamp();
            try
            {
                await plugin.ProcessAsync(frame, context, cancellationToken).ConfigureAwait(false);
                LogFrameDone(_logger, frame.Source, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                context.CountFailure();
                LogFrameCancelled(_logger, frame.Source, Stopwatch.GetElapsedTime(started).TotalSeconds);
                if (reportHealth)
                {
                    _health?.FrameFailed();
                }

                throw;
            }
            catch (Exception e)
            {
                context.CountFailure();
                if (FramesRefused() is { } refused)
                {
                    throw new FramesRefusedException(refused, e);
                }

                error = e.Message;
                LogFrameFailed(_logger, e, frame.Source, e.Message);
            }
            finally
            {
                context.CurrentFrame = null;
            }

            if (context.Failures == failuresBefore)
            {
                if (reportHealth)
                {
                    _health?.FrameSucceeded();
                }

                return null;
            }

            if (reportHealth)
            {
                _health?.FrameFailed();
            }

            return error ?? "publishing its results failed";
        }
    }

    private string? FramesRefused()
    {
        foreach (var consumer in _consumers)
        {
            if (consumer.FramesRefused is { } reason)
            {
                return reason;
            }
        }

        return null;
    }

    /// <summary>Counts a frame the source could not deliver.</summary>
    public void Unreadable(PluginContext context, FrameSourceException error)
    {
        context.CountFailure();
        _health?.SourceFailed(error.Message);
        LogFrameUnreadable(_logger, error.Message);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Skipped a frame: {Reason}")]
    private static partial void LogFrameUnreadable(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Processing {Source} failed: {Reason}")]
    private static partial void LogFrameFailed(ILogger logger, Exception error, string source, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Processing {Source} was cancelled after {Seconds:0.#} s, before it finished: what it had not yet published is lost")]
    private static partial void LogFrameCancelled(ILogger logger, string source, double seconds);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Processed {Source} in {Milliseconds:F1} ms")]
    private static partial void LogFrameDone(ILogger logger, string source, double milliseconds);
}

/// <summary>Registers the frame pipeline and the Inputs settings it opens sources with.</summary>
internal static class FramePipelineRegistration
{
    public static IServiceCollection AddFramePipeline(this IServiceCollection services)
    {
        services.AddOptions<InputOptions>().BindConfiguration(InputOptions.SectionName).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<InputOptions>, InputOptionsValidator>());
        services.TryAddSingleton(sp => new FramePipeline(
            sp.GetRequiredService<IOptions<InputOptions>>(),
            sp.GetServices<IFrameSizeHint>(),
            sp.GetServices<IFrameSourceProvider>(),
            sp.GetRequiredService<ILogger<FramePipeline>>(),
            sp.GetService<PluginHealth>()));
        return services;
    }

    private sealed class InputOptionsValidator : IValidateOptions<InputOptions>
    {
        public ValidateOptionsResult Validate(string? name, InputOptions options)
        {
            try
            {
                options.Validate();
                return ValidateOptionsResult.Success;
            }
            catch (ArgumentException e)
            {
                return ValidateOptionsResult.Fail(e.Message);
            }
        }
    }
}

/// <summary>
/// A frame plugin ran a model on a frame that can never take one (its input is not an image): the run
/// ends as a start-up failure, exit 3 with the model's reason in one line, rather than failing every frame.
/// </summary>
internal sealed class FramesRefusedException(string message, Exception innerException) : Exception(message, innerException);
