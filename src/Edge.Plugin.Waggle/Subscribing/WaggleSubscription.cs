using System.Text;
using System.Threading.Channels;
using Edge.Plugin.Hosting.Publishing;
using Microsoft.Extensions.Logging;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using RabbitMQ.Client.Exceptions;

namespace Edge.Plugin.Waggle;

/// <summary>
/// One subscription, as pywaggle's RabbitMQConsumer makes it: its own connection, a server-named
/// exclusive queue bound to <c>data.topic</c> once per pattern (RabbitMQ's topic matching is
/// <see cref="MeasurementPattern"/>'s), consumed in arrival order. When the connection drops it
/// reconnects with backoff and declares and binds a new queue.
/// <para>
/// What is lost while disconnected, as with pywaggle: the exclusive queue goes with its connection,
/// and with it whatever the broker still held for us; and the node routes what is published until
/// the new queue is bound to no queue of ours. What this process had already received is kept and
/// still handed out.
/// </para>
/// </summary>
internal sealed partial class WaggleSubscription : IMeasurementSubscription
{
    /// <summary>Where the node's data-sharing service republishes plugins' measurements, routing key = name.</summary>
    internal const string DataExchange = "data.topic";

    // Unlike pywaggle's auto-ack, each delivery is acknowledged when GetAsync hands it out, and at most
    // this many are unacknowledged: a slow plugin's backlog waits in the broker, not in this process.
    private const ushort Prefetch = 256;
    private const int BodyPreviewBytes = 200;

    private readonly WaggleOptions _options;
    private readonly ILogger _logger;
    private readonly Action<WaggleSubscription> _closed;
    private readonly Backoff _backoff;
    private readonly Channel<Delivery> _received = Channel.CreateUnbounded<Delivery>();
    private readonly CancellationTokenSource _stopping = new();
    private Attachment? _attachment;
    private Task _keeper = Task.CompletedTask;
    private int _attachments;
    private int _disposed;

    private WaggleSubscription(WaggleOptions options, string[] patterns, ILogger logger, Action<WaggleSubscription> closed)
    {
        _options = options;
        Patterns = patterns;
        _logger = logger;
        _closed = closed;
        _backoff = new Backoff(options.ReconnectDelay, options.MaxReconnectDelay);
    }

    public IReadOnlyList<string> Patterns { get; }

    /// <summary>How many times a queue was declared, bound and consumed: 1 once subscribed, one more per reconnect.</summary>
    internal int Attachments => Volatile.Read(ref _attachments);

    private string Broker => $"amqp://{_options.Host}:{_options.Port}";

    private string Topics => string.Join(", ", Patterns);

    /// <summary>
    /// Subscribes. A broker that cannot be reached now does not fail it: like pywaggle's, the
    /// subscription keeps trying in the background and receives from when it gets through.
    /// </summary>
    public static async ValueTask<WaggleSubscription> OpenAsync(WaggleOptions options, string[] patterns, ILogger logger, Action<WaggleSubscription> closed, CancellationToken cancellationToken)
    {
        var subscription = new WaggleSubscription(options, patterns, logger, closed);
        try
        {
            subscription._attachment = await subscription.AttachAsync(cancellationToken).ConfigureAwait(false);
            LogSubscribed(logger, subscription.Topics, subscription.Broker, DataExchange);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await subscription.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        catch (Exception e)
        {
            LogAttachFailed(logger, subscription.Topics, subscription.Broker, subscription.Why(e));
        }

        subscription._keeper = Task.Run(subscription.KeepAttachedAsync, CancellationToken.None);
        return subscription;
    }

    public async ValueTask<Measurement?> GetAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) == 1, this);
        if (timeout < TimeSpan.Zero && timeout != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(timeout), timeout, "The timeout must be zero or more, or Timeout.InfiniteTimeSpan.");
        }

        if (!_received.Reader.TryRead(out var delivery))
        {
            if (timeout == TimeSpan.Zero)
            {
                return null;
            }

            using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            if (timeout != Timeout.InfiniteTimeSpan)
            {
                wait.CancelAfter(timeout);
            }

            try
            {
                delivery = await _received.Reader.ReadAsync(wait.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                return null;
            }
            catch (ChannelClosedException)
            {
                throw new ObjectDisposedException(nameof(WaggleSubscription), "The subscription was disposed while waiting.");
            }
        }

        await AcknowledgeAsync(delivery.Channel, delivery.Tag).ConfigureAwait(false);
        return delivery.Measurement;
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        await _keeper.ConfigureAwait(false);
        if (Interlocked.Exchange(ref _attachment, null) is { } attachment)
        {
            await attachment.DisposeAsync().ConfigureAwait(false);
        }

        _received.Writer.TryComplete();
        _closed(this);
        _stopping.Dispose();
    }

    private static async ValueTask AcknowledgeAsync(IChannel channel, ulong tag)
    {
        try
        {
            await channel.BasicAckAsync(tag, multiple: false, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is AlreadyClosedException or OperationInterruptedException or ObjectDisposedException or IOException)
        {
            // The channel went with its connection, and the exclusive queue the delivery came from with it.
        }
    }

    private string Why(Exception e) =>
        e is OperationCanceledException ? $"no answer within {_options.ConnectTimeout.TotalSeconds:F0} s" : WaggleConnections.Describe(e);

    private static string Preview(ReadOnlySpan<byte> body) =>
        body.Length <= BodyPreviewBytes ? Encoding.UTF8.GetString(body) : Encoding.UTF8.GetString(body[..BodyPreviewBytes]) + $"... ({body.Length} bytes)";

    private async Task KeepAttachedAsync()
    {
        var token = _stopping.Token;
        var failures = 0;
        try
        {
            while (true)
            {
                if (_attachment is { } attachment)
                {
                    var reason = await attachment.Lost.Task.WaitAsync(token).ConfigureAwait(false);
                    LogLost(_logger, Topics, Broker, reason);
                    _attachment = null;
                    await attachment.DisposeAsync().ConfigureAwait(false);
                }

                await Task.Delay(_backoff.Delay(failures++), token).ConfigureAwait(false);
                try
                {
                    _attachment = await AttachAsync(token).ConfigureAwait(false);
                    failures = 0;
                    LogReattached(_logger, Topics, Broker, DataExchange);
                }
                catch (Exception e) when (!token.IsCancellationRequested)
                {
                    LogAttachFailed(_logger, Topics, Broker, Why(e));
                }
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // Disposed: DisposeAsync closes what is attached.
        }
    }

    private async Task<Attachment> AttachAsync(CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.ConnectTimeout);
        var connection = await WaggleConnections.Factory(_options, "subscriber").CreateConnectionAsync(timeout.Token).ConfigureAwait(false);
        var attachment = new Attachment(connection);
        connection.ConnectionShutdownAsync += attachment.OnShutdownAsync;
        try
        {
            var channel = await connection.CreateChannelAsync(cancellationToken: timeout.Token).ConfigureAwait(false);
            attachment.Channel = channel;
            channel.ChannelShutdownAsync += attachment.OnShutdownAsync;
            await channel.BasicQosAsync(0, Prefetch, global: false, timeout.Token).ConfigureAwait(false);

            // pywaggle's queue_declare("", exclusive=True): the broker names it and deletes it with the connection.
            var queue = await channel.QueueDeclareAsync(string.Empty, durable: false, exclusive: true, autoDelete: false, cancellationToken: timeout.Token).ConfigureAwait(false);
            foreach (var pattern in Patterns)
            {
                await channel.QueueBindAsync(queue.QueueName, DataExchange, pattern, cancellationToken: timeout.Token).ConfigureAwait(false);
            }

            var consumer = new AsyncEventingBasicConsumer(channel);
            consumer.ReceivedAsync += (_, delivery) => ReceiveAsync(channel, delivery);
            consumer.UnregisteredAsync += (_, _) =>
            {
                attachment.Lose("the broker cancelled the consumer (was its queue deleted?)");
                return Task.CompletedTask;
            };
            await channel.BasicConsumeAsync(queue.QueueName, autoAck: false, consumer, timeout.Token).ConfigureAwait(false);
            Interlocked.Increment(ref _attachments);
            return attachment;
        }
        catch
        {
            await attachment.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private async Task ReceiveAsync(IChannel channel, BasicDeliverEventArgs delivery)
    {
        // The node forwards upload announcements too; they name a file, not a value, and a measurement refuses the name.
        if (delivery.RoutingKey == "upload")
        {
            LogSkippedUpload(_logger, Topics);
            await AcknowledgeAsync(channel, delivery.DeliveryTag).ConfigureAwait(false);
            return;
        }

        if (!WaggleMessageReader.TryRead(delivery.Body, out var measurement, out var reason))
        {
            LogMalformed(_logger, delivery.RoutingKey, reason, Preview(delivery.Body.Span));
            await AcknowledgeAsync(channel, delivery.DeliveryTag).ConfigureAwait(false);
            return;
        }

        // Unbounded, yet bounded by Prefetch: the broker sends no more until GetAsync acknowledges.
        _received.Writer.TryWrite(new Delivery(measurement, channel, delivery.DeliveryTag));
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Subscribed to {Topics} on {Broker} exchange {Exchange}")]
    private static partial void LogSubscribed(ILogger logger, string topics, string broker, string exchange);

    [LoggerMessage(Level = LogLevel.Information, Message = "Subscribed again to {Topics} on {Broker} exchange {Exchange}")]
    private static partial void LogReattached(ILogger logger, string topics, string broker, string exchange);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Cannot subscribe to {Topics} on {Broker} ({Reason}); trying again")]
    private static partial void LogAttachFailed(ILogger logger, string topics, string broker, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The subscription to {Topics} on {Broker} was lost ({Reason}); reconnecting. What is published until it is back is not received")]
    private static partial void LogLost(ILogger logger, string topics, string broker, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Skipped a message on data.topic with routing key {RoutingKey}: {Reason}. Body: {Body}")]
    private static partial void LogMalformed(ILogger logger, string routingKey, string reason, string body);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Skipped an upload announcement matching {Topics}: uploads are not measurements")]
    private static partial void LogSkippedUpload(ILogger logger, string topics);

    private readonly record struct Delivery(Measurement Measurement, IChannel Channel, ulong Tag);

    /// <summary>One connection's channel and queue; <see cref="Lost"/> completes, with the reason, when either closes.</summary>
    private sealed class Attachment(IConnection connection) : IAsyncDisposable
    {
        public TaskCompletionSource<string> Lost { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public IChannel? Channel { get; set; }

        public Task OnShutdownAsync(object? sender, ShutdownEventArgs reason)
        {
            Lose($"{reason.ReplyCode} {reason.ReplyText}");
            return Task.CompletedTask;
        }

        public void Lose(string reason) => Lost.TrySetResult(reason);

        public ValueTask DisposeAsync() => WaggleConnections.CloseQuietlyAsync(Channel, connection);
    }
}
