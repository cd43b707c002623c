using Edge.Plugin.Hosting.Publishing;
using Edge.Plugin.Hosting;
using System.Text.Json;
using System.Text;
using System.Threading.Channels;
using Edge.Plugin.Hosting.Health;
using Edge.Mqtt;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Edge.Plugin.Mqtt;

/// <summary>
/// Publishes measurements to an MQTT broker with the in-house client. <see cref="PublishAsync"/>
/// accepts into a bounded in-memory queue and returns; a pump hands the queue to the client, which
/// keeps unacknowledged QoS 1/2 messages across reconnects. <see cref="DeliverAsync"/> is the
/// acknowledged path a durable spool can drain through.
/// </summary>
internal sealed partial class MqttPublisher : IMeasurementPublisher, IPublisherBacklog, IHostedService, IAsyncDisposable
{
    private readonly MqttPublisherOptions _options;
    private readonly ILogger _logger;
    private readonly Channel<Measurement> _queue;
    private readonly CancellationTokenSource _stopping = new();
    private readonly MqttQualityOfService _qos;
    private Task _pump = Task.CompletedTask;
    private Task _connecting = Task.CompletedTask;
    private long _delivered;
    private long _failed;
    private int _disposed;

    public MqttPublisher(IOptions<MqttPublisherOptions> options, ILogger<MqttPublisher> logger, ILogger<MqttClient>? clientLogger = null)
    {
        _options = options.Value;
        _logger = logger;
        _qos = (MqttQualityOfService)_options.Qos;
        _queue = Channel.CreateBounded<Measurement>(new BoundedChannelOptions(_options.QueueCapacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
        Client = new MqttClient(ClientOptions(_options), clientLogger);
    }

    public string Name => "mqtt";

    public MqttClient Client { get; }

    /// <summary>Measurements the broker acknowledged (or, at QoS 0, that were sent).</summary>
    public long Delivered => Interlocked.Read(ref _delivered);

    /// <summary>Measurements the broker refused.</summary>
    public long Failed => Interlocked.Read(ref _failed);

    /// <summary>Measurements accepted and not yet handed to the client.</summary>
    public int Queued => _queue.Reader.Count;

    /// <summary>Queued here plus sent but not yet acknowledged by the broker.</summary>
    public long Backlog => _queue.Reader.Count + Client.PendingMessages;

    /// <summary>Accepts a measurement into the bounded queue; waits while the queue is full.</summary>
    public ValueTask PublishAsync(Measurement measurement, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(measurement);
        return _queue.Writer.WriteAsync(measurement, cancellationToken);
    }

    /// <summary>Publishes one measurement and completes when the broker has acknowledged it at the configured QoS.</summary>
    public ValueTask DeliverAsync(Measurement measurement, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(measurement);
        var message = new MqttMessage(FormatTopic(_options.Topic, measurement), FormatPayload(measurement, _options.Payload), _qos, _options.Retain)
        {
            ContentType = _options.ProtocolVersion == MqttProtocolVersion.V500 && _options.Payload == MqttPayloadFormat.Json ? "application/json" : null,
        };
        return Client.PublishAsync(message, cancellationToken);
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _connecting = ConnectAsync();
        _pump = PumpAsync();
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _queue.Writer.TryComplete();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(_options.ShutdownTimeoutSeconds));
        try
        {
            await _pump.WaitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            LogUndelivered(_logger, _queue.Reader.Count + Client.PendingMessages, _options.ShutdownTimeoutSeconds);
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        await Client.DisposeAsync().ConfigureAwait(false);
        await _connecting.ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        // The container disposes this once per registration that hands it out.
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        _queue.Writer.TryComplete();
        await _stopping.CancelAsync().ConfigureAwait(false);
        await Client.DisposeAsync().ConfigureAwait(false);
        _stopping.Dispose();
    }

    internal static string FormatTopic(string template, Measurement m) =>
        template.Replace("{name}", m.Name, StringComparison.Ordinal)
            .Replace("{path}", m.Name.Replace('.', '/'), StringComparison.Ordinal)
            .Replace("{scope}", m.Scope, StringComparison.Ordinal);

    internal static byte[] FormatPayload(Measurement m, MqttPayloadFormat format)
    {
        if (format == MqttPayloadFormat.Value)
        {
            return Encoding.UTF8.GetBytes(m.Value.ToString());
        }

        var buffer = new System.Buffers.ArrayBufferWriter<byte>(128);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            MeasurementJson.WriteWaggleMessage(writer, m);
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static MqttClientOptions ClientOptions(MqttPublisherOptions o)
    {
        var tls = o.UseTls || o.CaFile is { Length: > 0 } || o.CertificateFile is { Length: > 0 };
        return new MqttClientOptions
        {
            Host = o.Server ?? "localhost",
            Port = o.Port,
            ProtocolVersion = o.ProtocolVersion,
            ClientId = o.ClientId ?? string.Empty,
            UserName = o.UserName,
            Password = o.Password,
            KeepAlive = TimeSpan.FromSeconds(o.KeepAliveSeconds),
            Tls = tls ? MqttTlsOptions.FromPemFiles(o.CaFile, o.CertificateFile, o.KeyFile) : null,
        };
    }

    /// <summary>The first connection, retried with backoff: a plugin may start before its broker. Later losses the client repairs itself.</summary>
    private async Task ConnectAsync()
    {
        var delay = TimeSpan.FromMilliseconds(200);
        while (!_stopping.IsCancellationRequested)
        {
            try
            {
                await Client.ConnectAsync(_stopping.Token).ConfigureAwait(false);
                return;
            }
            catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
            {
                return;
            }
            catch (MqttException e)
            {
                LogConnectFailed(_logger, e.Message, delay.TotalSeconds);
            }

            try
            {
                await Task.Delay(delay, _stopping.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(30).Ticks));
        }
    }

    private async Task PumpAsync()
    {
        // As many deliveries outstanding as the client keeps in flight; the rest wait in the bounded queue.
        const int Window = 100;
        var outstanding = new Queue<Task>();
        try
        {
            while (await _queue.Reader.WaitToReadAsync(_stopping.Token).ConfigureAwait(false))
            {
                while (_queue.Reader.TryRead(out var measurement))
                {
                    outstanding.Enqueue(TrackAsync(measurement));
                    while (outstanding.Count >= Window || (outstanding.Count > 0 && outstanding.Peek().IsCompleted))
                    {
                        await outstanding.Dequeue().ConfigureAwait(false);
                    }
                }
            }

            while (outstanding.Count > 0)
            {
                await outstanding.Dequeue().ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
    }

    private async Task TrackAsync(Measurement measurement)
    {
        try
        {
            await DeliverAsync(measurement, _stopping.Token).ConfigureAwait(false);
            Interlocked.Increment(ref _delivered);
        }
        catch (MqttException e)
        {
            Interlocked.Increment(ref _failed);
            LogDeliveryFailed(_logger, measurement.Name, e.Message);
        }
        catch (ObjectDisposedException)
        {
            Interlocked.Increment(ref _failed);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "MQTT publisher cannot connect yet: {Reason}; retrying in {DelaySeconds:0.#} s, measurements queue meanwhile")]
    private static partial void LogConnectFailed(ILogger logger, string reason, double delaySeconds);

    [LoggerMessage(Level = LogLevel.Error, Message = "MQTT broker refused measurement {Name}: {Reason}")]
    private static partial void LogDeliveryFailed(ILogger logger, string name, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "MQTT publisher stopped with {Count} measurement(s) undelivered after waiting {Seconds} s")]
    private static partial void LogUndelivered(ILogger logger, int count, double seconds);
}
