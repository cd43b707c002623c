using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using Edge.Plugin.Hosting.Health;
using Edge.Plugin.Hosting.Inputs;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Edge.Plugin.Hosting;

/// <summary>What kind of run this is (mode, a one-shot run's parameters) and how it ended, for the process exit code.</summary>
internal sealed class PluginRunState
{
    public static readonly IReadOnlyDictionary<string, string> NoParameters = new Dictionary<string, string>(StringComparer.Ordinal).AsReadOnly();

    public RunMode Mode { get; init; }

    /// <summary>A one-shot run's parameters (Abaco's MSG); empty for a stream.</summary>
    public IReadOnlyDictionary<string, string> Parameters { get; init; } = NoParameters;

    public int ExitCode { get; set; }
}

/// <summary>
/// Drives a <see cref="FramePlugin"/>: reads frames, paces them by the interval, and keeps going
/// past a bad frame. A finite source (files) ends the run; the exit code says whether any frame failed.
/// </summary>
internal sealed partial class FramePluginRunner<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TPlugin>(
    IServiceProvider services,
    IOptions<PluginOptions> options,
    IEnumerable<IMeasurementPublisher> publishers,
    PluginRunState state,
    PluginHealth health,
    IHostApplicationLifetime lifetime,
    ILogger<TPlugin> logger) : BackgroundService
    where TPlugin : FramePlugin
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Let the host finish starting before the first (possibly long) model load.
        await Task.Yield();
        var context = new PluginContext(state.Mode, [.. publishers], logger) { Parameters = state.Parameters };
        try
        {
            state.ExitCode = await RunAsync(context, stoppingToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            state.ExitCode = context.Failures > 0 ? ExitCodes.Failed : ExitCodes.Success;
        }
        catch (Exception e)
        {
            LogStartFailed(logger, e.Message);
            LogDetail(logger, e);
            state.ExitCode = ExitCodes.StartFailed;
        }
        finally
        {
            health.Finished();
            lifetime.StopApplication();
        }
    }

    private async Task<int> RunAsync(PluginContext context, CancellationToken stoppingToken)
    {
        var settings = options.Value;
        var plugin = services.GetRequiredService<TPlugin>();
        var input = settings.Input;
        if (string.IsNullOrWhiteSpace(input))
        {
            throw new InvalidOperationException("No input: give -input <file, folder or glob>, or set Plugin__Input.");
        }

        var inputOptions = new InputOptions();
        services.GetService<IConfiguration>()?.GetSection(InputOptions.SectionName).Bind(inputOptions);
        if (inputOptions.ApplyHints(services.GetServices<IFrameSizeHint>()) is { } size)
        {
            LogSizeFromModel(logger, size.Width, size.Height, size.KeepAspect ? ", aspect kept" : "");
        }

        var source = FrameSources.Create(input, inputOptions, logger);
        context.Source = source;
        await using (source.ConfigureAwait(false))
        {
            LogStarting(logger, typeof(TPlugin).Name, state.Mode, source.Description, string.Join(", ", publishers.Select(p => p.Name)));
            await plugin.StartAsync(context, stoppingToken).ConfigureAwait(false);
            health.SourceOpened(source.Description);
            var frames = 0;
            try
            {
                var interval = TimeSpan.FromSeconds(settings.Interval);
                while (!stoppingToken.IsCancellationRequested)
                {
                    var started = Stopwatch.GetTimestamp();
                    Frame? frame;
                    try
                    {
                        frame = await source.ReadAsync(stoppingToken).ConfigureAwait(false);
                    }
                    catch (FrameSourceException e)
                    {
                        context.Failures++;
                        health.SourceFailed(e.Message);
                        LogFrameUnreadable(logger, e.Message);
                        continue;
                    }

                    if (frame is null)
                    {
                        break;
                    }

                    frames++;
                    var failuresBefore = context.Failures;
                    await ProcessAsync(plugin, frame, context, stoppingToken).ConfigureAwait(false);
                    if (context.Failures == failuresBefore)
                    {
                        health.FrameSucceeded();
                    }
                    else
                    {
                        health.FrameFailed();
                    }

                    var remaining = interval - Stopwatch.GetElapsedTime(started);
                    if (remaining > TimeSpan.Zero)
                    {
                        await Task.Delay(remaining, stoppingToken).ConfigureAwait(false);
                    }
                }
            }
            finally
            {
                await plugin.StopAsync(context, CancellationToken.None).ConfigureAwait(false);
                LogFinished(logger, frames, context.Failures);
            }
        }

        return context.Failures > 0 ? ExitCodes.Failed : ExitCodes.Success;
    }

    private async Task ProcessAsync(TPlugin plugin, Frame frame, PluginContext context, CancellationToken stoppingToken)
    {
        using (frame)
        {
            context.CurrentFrame = frame;
            var started = Stopwatch.GetTimestamp();
            try
            {
                await plugin.ProcessAsync(frame, context, stoppingToken).ConfigureAwait(false);
                LogFrameDone(logger, frame.Source, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
            catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                context.Failures++;
                LogFrameFailed(logger, e, frame.Source, e.Message);
            }
            finally
            {
                context.CurrentFrame = null;
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Starting {Plugin} in {Mode} mode; input {Input}; results to {Publishers}")]
    private static partial void LogStarting(ILogger logger, string plugin, RunMode mode, string input, string publishers);

    [LoggerMessage(Level = LogLevel.Information, Message = "Input frames sized for the model's {Width}x{Height} input{Aspect}; set Inputs:Width and Inputs:Height to choose another size")]
    private static partial void LogSizeFromModel(ILogger logger, int width, int height, string aspect);

    [LoggerMessage(Level = LogLevel.Error, Message = "Skipped a frame: {Reason}")]
    private static partial void LogFrameUnreadable(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Processing {Source} failed: {Reason}")]
    private static partial void LogFrameFailed(ILogger logger, Exception error, string source, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Processed {Source} in {Milliseconds:F1} ms")]
    private static partial void LogFrameDone(ILogger logger, string source, double milliseconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Finished: {Frames} frame(s), {Failures} failure(s)")]
    private static partial void LogFinished(ILogger logger, int frames, int failures);

    [LoggerMessage(Level = LogLevel.Critical, Message = "The plugin could not start: {Reason}")]
    private static partial void LogStartFailed(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Start-up failure detail")]
    private static partial void LogDetail(ILogger logger, Exception error);
}

/// <summary>The process exit codes of a plugin.</summary>
public static class ExitCodes
{
    /// <summary>Every frame was processed.</summary>
    public const int Success = 0;

    /// <summary>At least one frame could not be read or processed, or a publish failed.</summary>
    public const int Failed = 1;

    /// <summary>The command line was wrong; usage was printed.</summary>
    public const int Usage = 2;

    /// <summary>The plugin could not start: bad configuration, a missing model, input or native library.</summary>
    public const int StartFailed = 3;
}
