using System.Text;
using System.Text.Json;
using Edge.Mqtt;
using Edge.Plugin.Hosting.Health;
using Edge.Plugin.Hosting.Publishing;
using Edge.Plugin.Hosting.Spool;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Edge.Plugin.Mqtt;

/// <summary>
/// Publishes measurements to an MQTT broker with the in-house client, through the durable spool the
/// Waggle and REST publishers use: a measurement goes straight to the broker while it is connected
/// and nothing waits, else into the spool, which a background loop delivers in order, removing each
/// record only once the broker has acknowledged it. So neither a broker outage nor a plugin exit (or
/// crash) loses what <see cref="PublishAsync"/> accepted.
/// </summary>
internal sealed partial class MqttPublisher : IMeasurementPublisher, IPublisherBacklog, IHostedService, IAsyncDisposable
{
    private readonly MqttPublisherOptions _options;
    private readonly ILogger _logger;
    private readonly SpooledDelivery _delivery;
    private readonly CancellationTokenSource _stopping = new();
    private Task _connecting = Task.CompletedTask;
    private volatile bool _connectFailed;
    private int _disposed;

    public MqttPublisher(IOptions<MqttPublisherOptions> options, ILogger<MqttPublisher> logger, ILogger<MqttClient>? clientLogger = null)
    {
        _options = options.Value;
        _logger = logger;
        // Opened first: a spool another process holds is the likely failure here, and then no client is left behind.
        var spool = DurableSpool.Open(_options.Spool, logger);
        Client = new MqttClient(ClientOptions(_options), clientLogger);
        _delivery = new SpooledDelivery(new MqttLink(Client, _options), spool, logger, drainOnStop: TimeSpan.FromSeconds(_options.ShutdownTimeoutSeconds));

        // The client reconnects by itself; the spool should not sit out the rest of a long backoff meanwhile.
        Client.ConnectionChanged += (_, e) =>
        {
            if (e.IsConnected)
            {
                _delivery.Retry();
            }
        };
    }

    public string Name => "mqtt";

    public MqttClient Client { get; }

    /// <summary>Measurements the broker acknowledged (or, at QoS 0, that were sent), directly or from the spool.</summary>
    public long Delivered => _delivery.Delivered;

    /// <summary>Spooled measurements the broker refused for good (an MQTT 5 reason code); they were logged and dropped.</summary>
    public long Failed => _delivery.Rejected;

    /// <summary>Measurements in the spool, waiting for the broker.</summary>
    public int Queued => _delivery.Waiting;

    public long Backlog => _delivery.Waiting;

    internal SpooledDelivery Delivery => _delivery;

    /// <summary>Delivers the measurement, or spools it while the broker is unreachable; returning means one or the other happened.</summary>
    /// <exception cref="SpoolFullException">The spool is full and <c>Spool:WhenFull</c> is <c>DropNewest</c>.</exception>
    /// <exception cref="DeliveryRejectedException">The broker refused this measurement for good.</exception>
    public ValueTask PublishAsync(Measurement measurement, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(measurement);
        return _delivery.SubmitAsync(MqttRecord.Encode(FormatTopic(_options.Topic, measurement), FormatPayload(measurement, _options.Payload)), cancellationToken);
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _connecting = ConnectAsync();
        return Task.CompletedTask;
    }

    // The spool is emptied when the publisher is disposed, after the plugin has stopped publishing.
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        // The container disposes this once per registration that hands it out.
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        // A first connection still under way is waited for, within the drain time: a run shorter than
        // the handshake (one file, a loaded machine) would otherwise leave everything spooled with the
        // broker up. One already refused is not: the broker is known to be down, and the spool keeps it all.
        var drain = TimeSpan.FromSeconds(_options.ShutdownTimeoutSeconds);
        var waited = System.Diagnostics.Stopwatch.StartNew();
        if (!Client.IsConnected && !_connectFailed)
        {
            await Task.WhenAny(_connecting, Task.Delay(drain)).ConfigureAwait(false);
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        await _connecting.ConfigureAwait(false);

        // A connected broker gets what is left of ShutdownTimeoutSeconds to take the spool; then the link and its client go.
        await _delivery.CloseAsync(drain - waited.Elapsed).ConfigureAwait(false);
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
            catch (ObjectDisposedException)
            {
                // Disposed while still trying: the spool has been kept for the next run.
                return;
            }
            catch (MqttException e)
            {
                _connectFailed = true;
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "MQTT publisher cannot connect yet: {Reason}; retrying in {DelaySeconds:0.#} s, measurements are spooled meanwhile")]
    private static partial void LogConnectFailed(ILogger logger, string reason, double delaySeconds);
}
