using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Edge.Plugin.Hosting;

/// <summary>
/// The base class of a plugin driven by a clock, like pywaggle's counter and sensor plugins: the host
/// calls <see cref="TickAsync"/> every <c>-interval</c> seconds (measured from one tick's start to the
/// next) until the process is stopped, and publishes nothing unless the plugin does.
/// </summary>
public abstract class TimerPlugin
{
    /// <summary>
    /// One tick: read a sensor, count something, publish through <paramref name="context"/>. An
    /// exception fails this tick only; it is logged and counted, and the next tick comes on time.
    /// A stop (SIGTERM) lets the tick in flight finish: <paramref name="cancellationToken"/> is
    /// cancelled only when the host's shutdown timeout runs out.
    /// </summary>
    protected internal abstract ValueTask TickAsync(PluginContext context, CancellationToken cancellationToken);

    /// <summary>Called once before the first tick.</summary>
    protected internal virtual ValueTask StartAsync(PluginContext context, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    /// <summary>Called once after the last tick, also when the run was cancelled.</summary>
    protected internal virtual ValueTask StopAsync(PluginContext context, CancellationToken cancellationToken) => ValueTask.CompletedTask;
}

/// <summary>Calls a <see cref="TimerPlugin"/> every interval until stopped, or for <c>Plugin:MaxTicks</c> ticks.</summary>
internal sealed partial class TimerPluginRunner(TimerPlugin plugin, IServiceProvider services, ILogger logger)
    : PluginRunner(services, logger)
{
    protected override async Task<int> RunAsync(PluginContext context, CancellationToken stoppingToken)
    {
        var settings = Services.GetRequiredService<IOptions<PluginOptions>>().Value;
        if (settings.IntervalSeconds <= 0)
        {
            throw new InvalidOperationException($"{plugin.GetType().Name} is a timer plugin: give -interval <seconds> (more than 0), or set Plugin__IntervalSeconds.");
        }

        var interval = TimeSpan.FromSeconds(settings.IntervalSeconds);
        LogStarting(Logger, plugin.GetType().Name, context.Mode, $"a timer every {settings.IntervalSeconds} s", Publishers);
        await plugin.StartAsync(context, stoppingToken).ConfigureAwait(false);
        Health.SourceOpened($"timer every {settings.IntervalSeconds} s");
        var ticks = 0;
        try
        {
            while (!stoppingToken.IsCancellationRequested && (settings.MaxTicks == 0 || ticks < settings.MaxTicks))
            {
                var started = System.Diagnostics.Stopwatch.GetTimestamp();
                ticks++;
                var failuresBefore = context.Failures;
                try
                {
                    await InFlightAsync($"tick {ticks}", work => plugin.TickAsync(context, work)).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (GraceRanOut)
                {
                    context.CountFailure();
                    Health.FrameFailed();
                    LogTickCancelled(Logger, ticks);
                    throw;
                }
                catch (Exception e)
                {
                    context.CountFailure();
                    LogTickFailed(Logger, e, ticks, e.Message);
                }

                if (context.Failures == failuresBefore)
                {
                    Health.FrameSucceeded();
                }
                else
                {
                    Health.FrameFailed();
                }

                if (settings.MaxTicks == 0 || ticks < settings.MaxTicks)
                {
                    await PaceAsync(interval, started, stoppingToken).ConfigureAwait(false);
                }
            }
        }
        finally
        {
            await plugin.StopAsync(context, CancellationToken.None).ConfigureAwait(false);
            LogFinished(Logger, ticks, "tick(s)", context.Failures);
        }

        return context.Failures > 0 ? ExitCodes.Failed : ExitCodes.Success;
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Tick {Tick} was cancelled before it finished: what it had not yet published is lost")]
    private static partial void LogTickCancelled(ILogger logger, int tick);

    [LoggerMessage(Level = LogLevel.Error, Message = "Tick {Tick} failed: {Reason}")]
    private static partial void LogTickFailed(ILogger logger, Exception error, int tick, string reason);
}
