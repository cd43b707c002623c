using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Edge.Plugin.Hosting;

/// <summary>
/// The base class of a plugin driven by what other plugins publish, as pywaggle's
/// <c>plugin.subscribe("env.temperature", "my.sensor.*", "sys.#")</c> and <c>plugin.get()</c> loop:
/// the host subscribes to <see cref="Topics"/> through the registered
/// <see cref="IMeasurementSubscriber"/> (on a node, <c>services.AddWaggle()</c>) and calls
/// <see cref="ReceiveAsync"/> for each measurement, in arrival order, until stopped.
/// </summary>
public abstract class SubscriptionPlugin
{
    /// <summary>The measurement names to receive; <c>*</c> stands for one dot-separated part, <c>#</c> for any number (see <see cref="MeasurementPattern"/>).</summary>
    public abstract IReadOnlyList<string> Topics { get; }

    /// <summary>
    /// Handles one measurement, publishing through <paramref name="context"/> what follows from it. An
    /// exception fails this measurement only; it is logged and counted, and the next one is handled.
    /// A stop (SIGTERM) lets the measurement in flight be handled: <paramref name="cancellationToken"/>
    /// is cancelled only when the host's shutdown timeout runs out.
    /// </summary>
    protected internal abstract ValueTask ReceiveAsync(Measurement measurement, PluginContext context, CancellationToken cancellationToken);

    /// <summary>Called once after subscribing, before the first measurement.</summary>
    protected internal virtual ValueTask StartAsync(PluginContext context, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    /// <summary>Called once after the last measurement, also when the run was cancelled.</summary>
    protected internal virtual ValueTask StopAsync(PluginContext context, CancellationToken cancellationToken) => ValueTask.CompletedTask;
}

/// <summary>Feeds a <see cref="SubscriptionPlugin"/> what its subscription receives, until stopped or <c>Plugin:MaxTicks</c> measurements.</summary>
internal sealed partial class SubscriptionPluginRunner(SubscriptionPlugin plugin, IServiceProvider services, ILogger logger)
    : PluginRunner(services, logger)
{
    protected override async Task<int> RunAsync(PluginContext context, CancellationToken stoppingToken)
    {
        var settings = Services.GetRequiredService<IOptions<PluginOptions>>().Value;
        var subscriber = Services.GetService<IMeasurementSubscriber>()
            ?? throw new InvalidOperationException($"{plugin.GetType().Name} subscribes to measurements, but nothing delivers them: call builder.Services.AddWaggle() (Edge.Plugin.Waggle), which subscribes on a Waggle node (WAGGLE_PLUGIN_HOST set); off a node, AddWaggle(o => o.Host = ..., force: true) names the RabbitMQ to use.");
        var topics = plugin.Topics;
        if (topics is null || topics.Count == 0)
        {
            throw new InvalidOperationException($"{plugin.GetType().Name}.Topics is empty: name the measurements to receive, such as env.temperature or sys.#.");
        }

        foreach (var topic in topics)
        {
            MeasurementPattern.Validate(topic);
        }

        var subscription = await subscriber.SubscribeAsync(topics, stoppingToken).ConfigureAwait(false);
        await using (subscription.ConfigureAwait(false))
        {
            var description = $"{subscriber.Name} subscription to {string.Join(", ", topics)}";
            LogStarting(Logger, plugin.GetType().Name, context.Mode, description, Publishers);
            await plugin.StartAsync(context, stoppingToken).ConfigureAwait(false);
            Health.SourceOpened(description);
            var received = 0;
            try
            {
                while (!stoppingToken.IsCancellationRequested && (settings.MaxTicks == 0 || received < settings.MaxTicks))
                {
                    var measurement = await subscription.GetAsync(Timeout.InfiniteTimeSpan, stoppingToken).ConfigureAwait(false);
                    if (measurement is null)
                    {
                        // Only an ended subscription answers an unbounded wait with nothing.
                        break;
                    }

                    received++;
                    var failuresBefore = context.Failures;
                    try
                    {
                        await InFlightAsync($"measurement {measurement.Name}", work => plugin.ReceiveAsync(measurement, context, work)).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException) when (GraceRanOut)
                    {
                        context.CountFailure();
                        Health.FrameFailed();
                        LogReceiveCancelled(Logger, measurement.Name);
                        throw;
                    }
                    catch (Exception e)
                    {
                        context.CountFailure();
                        LogReceiveFailed(Logger, e, measurement.Name, e.Message);
                    }

                    if (context.Failures == failuresBefore)
                    {
                        Health.FrameSucceeded();
                    }
                    else
                    {
                        Health.FrameFailed();
                    }
                }
            }
            finally
            {
                await plugin.StopAsync(context, CancellationToken.None).ConfigureAwait(false);
                LogFinished(Logger, received, "measurement(s)", context.Failures);
            }
        }

        return context.Failures > 0 ? ExitCodes.Failed : ExitCodes.Success;
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Handling {Name} was cancelled before it finished: what it had not yet published is lost")]
    private static partial void LogReceiveCancelled(ILogger logger, string name);

    [LoggerMessage(Level = LogLevel.Error, Message = "Handling {Name} failed: {Reason}")]
    private static partial void LogReceiveFailed(ILogger logger, Exception error, string name, string reason);
}
