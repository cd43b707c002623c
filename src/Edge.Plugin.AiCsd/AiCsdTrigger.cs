using Edge.Plugin.Hosting;
using Edge.Plugin.Hosting.Health;
using Edge.Mqtt;
using Edge.Plugin.Hosting.Rest;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Edge.Plugin.AiCsd;

/// <summary>
/// An AiCSD pipeline worker: takes requests from <c>mqtt-export/pipeline/params</c> (or a shared
/// subscription to it) at QoS 1 and hands each to <see cref="AiCsdPipeline"/>, one at a time.
/// A request is acknowledged to the broker only after its callbacks were sent and its completion
/// marker is on disk, so a worker killed mid-request gets it again from its persistent session on
/// return, and a request redelivered after it had completed is acknowledged without running twice.
/// </summary>
internal sealed partial class AiCsdTrigger(
    FramePlugin plugin,
    FramePipeline frames,
    IOptions<AiCsdOptions> options,
    IOptions<PluginOptions> pluginOptions,
    IEnumerable<IMeasurementPublisher> publishers,
    PluginRunState state,
    PluginHealth health,
    IHostApplicationLifetime lifetime,
    ILoggerFactory loggers) : BackgroundService
{
    private readonly ILogger _logger = loggers.CreateLogger<AiCsdTrigger>();

    /// <summary>Registers the worker in place of the frame loop, with its options bound and validated at start.</summary>
    public static void AddTo(IServiceCollection services)
    {
        services.AddOptions<AiCsdOptions>()
            .BindConfiguration(AiCsdOptions.SectionName)
            .PostConfigure<IConfiguration>((o, configuration) =>
            {
                // The binder appends configured roots to the default one; configured roots replace it.
                var roots = configuration.GetSection($"{AiCsdOptions.SectionName}:AllowedRoots").GetChildren().Select(c => c.Value).OfType<string>().ToList();
                if (roots.Count > 0)
                {
                    o.AllowedRoots.Clear();
                    foreach (var root in roots)
                    {
                        o.AllowedRoots.Add(root);
                    }
                }
            })
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<AiCsdOptions>, AiCsdOptionsValidator>());
        services.AddHostedService<AiCsdTrigger>();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        var settings = options.Value;
        var context = new PluginContext(state.Mode, [.. publishers], _logger) { SignificantDigits = pluginOptions.Value.SignificantDigits };
        try
        {
            var completions = new AiCsdCompletions(settings.CompletedPath);
            completions.Prune(TimeSpan.FromHours(settings.CompletedRetentionHours));
            using var http = CallbackClient.CreateHttpClient(settings.Callback);
            var pipeline = new AiCsdPipeline(
                AiCsdPipeline.ForPlugin(plugin, frames, state.Mode, _logger, context.SignificantDigits),
                new CallbackClient(http, settings.Callback, _logger),
                settings,
                _logger);
            await plugin.StartAsync(context, stoppingToken).ConfigureAwait(false);
            try
            {
                var client = new MqttClient(ClientOptions(settings), loggers.CreateLogger<MqttClient>());
                await using (client.ConfigureAwait(false))
                {
                    await ConnectAsync(client, settings, stoppingToken).ConfigureAwait(false);
                    await client.SubscribeAsync(settings.Subscription, MqttQualityOfService.AtLeastOnce, stoppingToken).ConfigureAwait(false);

                    // Subscribed means requests can reach this worker: that is what a readiness probe asks.
                    health.SourceOpened($"mqtt {settings.Subscription}");
                    LogServing(_logger, settings.Subscription, client.ClientId, completions.Folder);
                    await foreach (var message in client.Messages.ReadAllAsync(stoppingToken).ConfigureAwait(false))
                    {
                        await ServeAsync(client, message, pipeline, completions, stoppingToken).ConfigureAwait(false);
                    }
                }
            }
            finally
            {
                await plugin.StopAsync(context, CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopped mid-request: that request stays unacknowledged in the session and comes back on restart.
        }
        catch (Exception e)
        {
            health.SourceFailed(e.Message);
            LogStartFailed(_logger, e, e.Message);
            state.ExitCode = ExitCodes.StartFailed;
            lifetime.StopApplication();
        }
    }

    private async Task ServeAsync(MqttClient client, MqttMessage message, AiCsdPipeline pipeline, AiCsdCompletions completions, CancellationToken stoppingToken)
    {
        var acknowledge = true;
        string? running = null;
        try
        {
            var key = AiCsdCompletions.KeyOf(message.Payload.Span);
            if (completions.IsCompleted(key))
            {
                LogAlreadyCompleted(_logger, key, message.Duplicate);
                return;
            }

            var earlier = completions.Unfinished(key);
            if (earlier is { IsThisProcess: false, IsAlive: true })
            {
                // A duplicate that another worker on this host is serving now; it answers it.
                LogBeingServed(_logger, key, earlier.ProcessId);
                return;
            }

            var crashed = earlier is { IsThisProcess: false } ? earlier : null;
            if (crashed is { Number: >= 2 })
            {
                // Even answering it stopped a worker: nothing of it is tried again.
                LogAbandoned(_logger, key, crashed.Number, crashed.ProcessId);
                completions.End(key);
                return;
            }

            var number = (crashed?.Number ?? 0) + 1;
            var startedAt = DateTimeOffset.UtcNow;
            running = Mark(completions, key, number, startedAt, response: null) ? key : null;
            void Reporting(AiCsdResponse response) => Mark(completions, key, number, startedAt, response);
            var outcome = crashed is null
                ? await pipeline.HandleAsync(message.Payload, stoppingToken, Reporting).ConfigureAwait(false)
                : await pipeline.ResumeAsync(message.Payload, crashed, stoppingToken, Reporting).ConfigureAwait(false);

            if (outcome.StatusReported)
            {
                completions.Complete(key, outcome);
            }

            if (outcome.Response.Status == AiCsdResponse.Complete)
            {
                health.FrameSucceeded();
            }
            else
            {
                health.FrameFailed();
            }

            // The pipeline has logged any failure with its reason; this line tells how the request ended.
            LogDone(_logger, outcome.Response.Status, outcome.JobUpdated, outcome.StatusReported, outcome.Response.OutputFiles.Count, message.Duplicate);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping is no crash: left unacknowledged, the request comes back at restart and runs then.
            acknowledge = false;
            throw;
        }
        catch (FramesRefusedException)
        {
            // The model, not the request, is at fault and would fail every request: the worker stops,
            // and the request, unacknowledged, waits in its session for a worker whose model can take it.
            acknowledge = false;
            throw;
        }
        catch (Exception e)
        {
            // The pipeline reports a request's own failures; anything else, a bug or a full disk, must still not stop the worker.
            health.FrameFailed();
            LogUnexpected(_logger, e.GetType().Name, e.Message);
        }
        finally
        {
            if (running is not null)
            {
                try
                {
                    completions.End(running);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    LogMarkerFailed(_logger, e.Message);
                }
            }

            // Acknowledged even when a callback was unreachable: the callback client has already retried
            // with backoff, and an unacknowledged QoS 1 message would sit in flight until the next reconnect.
            if (acknowledge)
            {
                client.Acknowledge(message);
            }
        }
    }

    /// <summary>Writes the in-progress marker; false, with a warning, when it cannot be written (the request runs unguarded rather than not at all).</summary>
    private bool Mark(AiCsdCompletions completions, string key, int number, DateTimeOffset startedAt, AiCsdResponse? response)
    {
        try
        {
            completions.Begin(key, number, startedAt, response);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            LogMarkerFailed(_logger, e.Message);
            return false;
        }
    }

    private async Task ConnectAsync(MqttClient client, AiCsdOptions settings, CancellationToken stoppingToken)
    {
        // A worker may start before its broker; after the first connection the client repairs losses itself.
        var delay = TimeSpan.FromMilliseconds(200);
        while (true)
        {
            try
            {
                var resumed = await client.ConnectAsync(stoppingToken).ConfigureAwait(false);
                LogConnected(_logger, settings.Server, client.ClientId, resumed);
                return;
            }
            catch (Exception e) when (e is MqttException or IOException or System.Net.Sockets.SocketException or TimeoutException)
            {
                LogConnectFailed(_logger, settings.Server, e.Message, delay.TotalSeconds);
                await Task.Delay(delay, stoppingToken).ConfigureAwait(false);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(10).Ticks));
            }
        }
    }

    private static MqttClientOptions ClientOptions(AiCsdOptions o)
    {
        var tls = o.CaFile is { Length: > 0 } || o.CertificateFile is { Length: > 0 };
        return new MqttClientOptions
        {
            Host = o.Server,
            Port = o.Port,
            ProtocolVersion = o.ProtocolVersion,
            ClientId = o.ClientId is { Length: > 0 } id ? id : $"aicsd-{Environment.MachineName}",
            UserName = o.UserName,
            Password = o.Password,
            CleanSession = !o.PersistentSession,
            SessionExpiry = o.SessionExpirySeconds > 0 ? TimeSpan.FromSeconds(o.SessionExpirySeconds) : null,
            AcknowledgeManually = true,

            // Requests are handled one at a time; more in flight would only wait in this process.
            ReceiveMaximum = 1,
            Tls = tls ? MqttTlsOptions.FromPemFiles(o.CaFile, o.CertificateFile, o.KeyFile) : null,
        };
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "AiCSD worker serving {Subscription} as {ClientId}; completion markers in {Folder}")]
    private static partial void LogServing(ILogger logger, string subscription, string clientId, string folder);

    [LoggerMessage(Level = LogLevel.Information, Message = "AiCSD worker connected to {Server} as {ClientId}; session resumed: {Resumed}")]
    private static partial void LogConnected(ILogger logger, string server, string clientId, bool resumed);

    [LoggerMessage(Level = LogLevel.Warning, Message = "AiCSD worker cannot reach the broker {Server}: {Reason}; retrying in {Seconds} s")]
    private static partial void LogConnectFailed(ILogger logger, string server, string reason, double seconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "AiCSD request {Key} was already completed; redelivery (DUP {Duplicate}) acknowledged without processing")]
    private static partial void LogAlreadyCompleted(ILogger logger, string key, bool duplicate);

    [LoggerMessage(Level = LogLevel.Information, Message = "AiCSD request done: {Status}, job updated: {JobUpdated}, status reported: {StatusReported}, {Count} output file(s) (DUP {Duplicate})")]
    private static partial void LogDone(ILogger logger, string status, bool jobUpdated, bool statusReported, int count, bool duplicate);

    [LoggerMessage(Level = LogLevel.Error, Message = "AiCSD request failed unexpectedly ({Kind}), worker continues: {Reason}")]
    private static partial void LogUnexpected(ILogger logger, string kind, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "AiCSD request {Key} is being served by process {ProcessId} on this host; this copy is acknowledged without processing")]
    private static partial void LogBeingServed(ILogger logger, string key, int processId);

    [LoggerMessage(Level = LogLevel.Error, Message = "AiCSD request {Key} stopped a worker {Count} times (last process {ProcessId}), even while being answered PipelineFailed; acknowledged without trying it again")]
    private static partial void LogAbandoned(ILogger logger, string key, int count, int processId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "AiCSD in-progress marker could not be written or removed: {Reason}")]
    private static partial void LogMarkerFailed(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Critical, Message = "AiCSD worker could not start: {Reason}")]
    private static partial void LogStartFailed(ILogger logger, Exception error, string reason);
}

/// <summary>Checks <see cref="AiCsdOptions"/> at start-up, naming the configuration key of each problem.</summary>
internal sealed class AiCsdOptionsValidator : IValidateOptions<AiCsdOptions>
{
    private const int MinRequestBytes = 1024;
    private const int MaxRequestBytes = 16 * 1024 * 1024;

    public ValidateOptionsResult Validate(string? name, AiCsdOptions options)
    {
        const string S = AiCsdOptions.SectionName;
        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(options.Server))
        {
            failures.Add($"{S}:Server is empty: give the broker's host name, e.g. Triggers__AiCsd__Server=localhost.");
        }
        else if (options.Server.Contains("://", StringComparison.Ordinal) || options.Server.Contains('@', StringComparison.Ordinal))
        {
            // Not echoed: a URL here often carries user:password, and the host name would be logged with it on every retry.
            failures.Add($"{S}:Server must be the broker's host name or address, not a URL or user@host: give the user name and password in {S}:UserName and {S}:Password.");
        }

        if (options.Port is < 0 or > 65535)
        {
            failures.Add($"{S}:Port {options.Port} is not a TCP port (0 to 65535; 0 picks 1883 or 8883).");
        }

        if (string.IsNullOrWhiteSpace(options.Topic) || options.Topic.StartsWith("$share/", StringComparison.Ordinal))
        {
            failures.Add($"{S}:Topic '{options.Topic}' must be a topic such as mqtt-export/pipeline/params; give a shared group in {S}:SharedGroup instead of $share/.");
        }

        if (options.SharedGroup is { Length: > 0 } group && group.AsSpan().IndexOfAny('/', '+', '#') >= 0)
        {
            failures.Add($"{S}:SharedGroup '{group}' must not contain '/', '+' or '#'.");
        }

        if (options.MaxRequestBytes is < MinRequestBytes or > MaxRequestBytes)
        {
            failures.Add($"{S}:MaxRequestBytes must be between {MinRequestBytes} and {MaxRequestBytes} bytes; got {options.MaxRequestBytes}.");
        }

        if (options.MaxInputBytes < 1)
        {
            failures.Add($"{S}:MaxInputBytes must be at least 1 byte; got {options.MaxInputBytes}.");
        }

        if (options.Callback.MaxRedirects is < 0 or > 20)
        {
            failures.Add($"{S}:Callback:MaxRedirects must be between 0 and 20; got {options.Callback.MaxRedirects}.");
        }

        if (options.Callback.ReadTimeout <= TimeSpan.Zero)
        {
            failures.Add($"{S}:Callback:ReadTimeout must be above 0, e.g. 00:00:10; got {options.Callback.ReadTimeout}.");
        }

        if (options.AllowedRoots.Count == 0)
        {
            failures.Add($"{S}:AllowedRoots is empty: requests could touch no file.");
        }

        if (options.CompletedRetentionHours <= 0 || double.IsNaN(options.CompletedRetentionHours))
        {
            failures.Add($"{S}:CompletedRetentionHours must be above 0; got {options.CompletedRetentionHours}.");
        }

        if (options.SessionExpirySeconds < 0)
        {
            failures.Add($"{S}:SessionExpirySeconds must be 0 (keep the session) or more; got {options.SessionExpirySeconds}.");
        }

        // MQTT 3.1.1 cannot carry a password without a user name, and MQTT 5 brokers refuse one: the
        // worker would retry forever with a message about protocol versions.
        if (!string.IsNullOrEmpty(options.Password) && string.IsNullOrEmpty(options.UserName))
        {
            failures.Add($"{S}:Password is set but {S}:UserName is not: give the user name the password belongs to (Triggers__AiCsd__UserName).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
