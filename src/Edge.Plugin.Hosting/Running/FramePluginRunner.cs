using System.Diagnostics;
using Edge.Plugin.Hosting.Health;
using Edge.Plugin.Hosting.Inputs;
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
internal sealed partial class FramePluginRunner(FramePlugin plugin, IServiceProvider services, ILogger logger)
    : PluginRunner(services, logger)
{
    protected override async Task<int> RunAsync(PluginContext context, CancellationToken stoppingToken)
    {
        var settings = Services.GetRequiredService<IOptions<PluginOptions>>().Value;
        var input = settings.Input;
        if (string.IsNullOrWhiteSpace(input))
        {
            throw new InvalidOperationException("No input: give -input <file, folder or glob>, or set Plugin__Input.");
        }

        var pipeline = Services.GetRequiredService<FramePipeline>();
        if (pipeline.SizedByModel is { } size)
        {
            LogSizeFromModel(Logger, size.Width, size.Height, size.KeepAspect ? ", aspect kept" : "");
        }

        var source = pipeline.Open(input);
        context.Source = source;
        await using (source.ConfigureAwait(false))
        {
            LogStarting(Logger, plugin.GetType().Name, context.Mode, source.Description, Publishers);
            await plugin.StartAsync(context, stoppingToken).ConfigureAwait(false);
            Health.SourceOpened(source.Description);
            var frames = 0;
            try
            {
                var interval = TimeSpan.FromSeconds(settings.IntervalSeconds);
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
                        pipeline.Unreadable(context, e);
                        continue;
                    }

                    if (frame is null)
                    {
                        break;
                    }

                    frames++;
                    await pipeline.ProcessAsync(plugin, frame, context, stoppingToken).ConfigureAwait(false);
                    await PaceAsync(interval, started, stoppingToken).ConfigureAwait(false);
                }
            }
            finally
            {
                await plugin.StopAsync(context, CancellationToken.None).ConfigureAwait(false);
                LogFinished(Logger, frames, "frame(s)", context.Failures);
            }
        }

        return context.Failures > 0 ? ExitCodes.Failed : ExitCodes.Success;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Input frames sized for the model's {Width}x{Height} input{Aspect}; set Inputs:Width and Inputs:Height to choose another size")]
    private static partial void LogSizeFromModel(ILogger logger, int width, int height, string aspect);
}

/// <summary>
/// What every kind of plugin run shares: the context, the exit code from failures, a start-up failure
/// reported in one line with exit 3, and the host stopped when the run ends.
/// </summary>
internal abstract partial class PluginRunner(IServiceProvider services, ILogger logger) : BackgroundService
{
    protected IServiceProvider Services { get; } = services;

    protected ILogger Logger { get; } = logger;

    protected PluginHealth Health { get; } = services.GetRequiredService<PluginHealth>();

    protected string Publishers => string.Join(", ", Services.GetServices<IMeasurementPublisher>().Select(p => p.Name));

    protected abstract Task<int> RunAsync(PluginContext context, CancellationToken stoppingToken);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Let the host finish starting before the first (possibly long) model load.
        await Task.Yield();
        var state = Services.GetRequiredService<PluginRunState>();
        var context = new PluginContext(state.Mode, [.. Services.GetServices<IMeasurementPublisher>()], Logger)
        {
            Parameters = state.Parameters,
            SignificantDigits = Services.GetRequiredService<IOptions<PluginOptions>>().Value.SignificantDigits,
        };
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
            LogStartFailed(Logger, e.Message);
            LogDetail(Logger, e);
            state.ExitCode = ExitCodes.StartFailed;
        }
        finally
        {
            Health.Finished();
            Services.GetRequiredService<IHostApplicationLifetime>().StopApplication();
        }
    }

    /// <summary>Waits out what is left of <paramref name="interval"/> since <paramref name="started"/>.</summary>
    protected static async Task PaceAsync(TimeSpan interval, long started, CancellationToken stoppingToken)
    {
        var remaining = interval - Stopwatch.GetElapsedTime(started);
        if (remaining > TimeSpan.Zero)
        {
            await Task.Delay(remaining, stoppingToken).ConfigureAwait(false);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Starting {Plugin} in {Mode} mode; input {Input}; results to {Publishers}")]
    protected static partial void LogStarting(ILogger logger, string plugin, RunMode mode, string input, string publishers);

    [LoggerMessage(Level = LogLevel.Information, Message = "Finished: {Count} {Unit}, {Failures} failure(s)")]
    protected static partial void LogFinished(ILogger logger, int count, string unit, int failures);

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
