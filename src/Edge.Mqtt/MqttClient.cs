using System.Buffers;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Edge.Mqtt;

/// <summary>Tells when an <see cref="MqttClient"/> connects or loses its connection.</summary>
public sealed class MqttConnectionChangedEventArgs(bool isConnected, bool sessionPresent, Exception? error) : EventArgs
{
    /// <summary>True when connected, false when the connection was lost or closed.</summary>
    public bool IsConnected { get; } = isConnected;

    /// <summary>On connection: whether the broker resumed an existing session.</summary>
    public bool SessionPresent { get; } = sessionPresent;

    /// <summary>On loss: why, when it was not a deliberate disconnection.</summary>
    public Exception? Error { get; } = error;
}

/// <summary>
/// An MQTT 3.1.1 and 5.0 client. It keeps its session across connections: after a lost
/// connection it reconnects with backoff, resends unacknowledged QoS 1 and 2 messages (with DUP)
/// and renews subscriptions the broker forgot. Received messages arrive in <see cref="Messages"/>.
/// Thread-safe.
/// </summary>
public sealed partial class MqttClient : IAsyncDisposable
{
    // Past this many unsent bytes a QoS 0 publish waits for the socket, so a fast producer cannot exhaust
    // memory. Below the buffers' initial size, so steady publishing never grows (and allocates) them.
    private const int HighWaterBytes = 96 * 1024;
    private const int MaxPooled = 1024;

    private readonly MqttClientOptions _options;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private readonly Channel<MqttMessage> _incoming;
    private readonly SemaphoreSlim _room;
    private readonly Dictionary<ushort, PendingPublish> _byId = [];
    private readonly Dictionary<ushort, TaskCompletionSource<SubAckPacket>> _requests = [];
    private readonly Queue<PendingPublish> _queued = new();
    private readonly HashSet<ushort> _incomingQos2 = [];
    private readonly Dictionary<string, MqttSubscription> _subscriptions = new(StringComparer.Ordinal);
    private readonly Stack<PendingPublish> _pool = new();
    private readonly Action<PendingPublish> _returnToPool;
    private readonly CancellationTokenSource _stopping = new();
    private PendingPublish? _head;
    private PendingPublish? _tail;
    private int _inflight;
    private int _window;
    private ushort _lastPacketId;
    private MqttConnection? _connection;
    private TaskCompletionSource? _drained;
    private Task? _supervisor;
    private bool _started;
    private bool _disposed;

    /// <summary>Creates a client; nothing happens on the network until <see cref="ConnectAsync"/>.</summary>
    /// <exception cref="ArgumentException">An option is out of range; the message names it.</exception>
    public MqttClient(MqttClientOptions options, ILogger<MqttClient>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        Validate(options);
        _options = options;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        ClientId = options.ClientId is { Length: > 0 } id ? id : $"edge-{Guid.NewGuid():N}"[..23];
        _room = new SemaphoreSlim(options.MaxPendingMessages, options.MaxPendingMessages);
        _incoming = Channel.CreateBounded<MqttMessage>(new BoundedChannelOptions(options.IncomingCapacity) { SingleWriter = true, FullMode = BoundedChannelFullMode.Wait });
        _window = options.MaxInflight;
        _returnToPool = ReturnToPool;
    }

    /// <summary>Raised when the client connects or loses its connection; handlers run on a pool thread.</summary>
    public event EventHandler<MqttConnectionChangedEventArgs>? ConnectionChanged;

    /// <summary>The client identifier in use (the broker may assign one under MQTT 5).</summary>
    public string ClientId { get; private set; }

    /// <summary>Whether a connection is up now.</summary>
    public bool IsConnected
    {
        get
        {
            lock (_gate)
            {
                return _connection is not null;
            }
        }
    }

    /// <summary>Messages accepted by <see cref="PublishAsync(MqttMessage, CancellationToken)"/> and not yet acknowledged.</summary>
    public int PendingMessages => _options.MaxPendingMessages - _room.CurrentCount;

    /// <summary>
    /// Messages from the subscriptions, in arrival order. QoS 1 and 2 messages are acknowledged as
    /// they enter; when it is full, reading from the broker pauses.
    /// </summary>
    public ChannelReader<MqttMessage> Messages => _incoming.Reader;

    /// <summary>
    /// Connects for the first time and returns whether the broker resumed a session. Later losses
    /// are repaired automatically. A failure here throws, so that a wrong address or password shows at once.
    /// </summary>
    /// <exception cref="MqttException">The broker refused (the reason code says why), or could not be reached.</exception>
    public async Task<bool> ConnectAsync(CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_started)
            {
                throw new InvalidOperationException("ConnectAsync was already called; the client reconnects by itself.");
            }

            _started = true;
        }

        try
        {
            var (connection, sessionPresent) = await EstablishAsync(cancellationToken).ConfigureAwait(false);
            _supervisor = SuperviseAsync(connection);
            return sessionPresent;
        }
        catch
        {
            lock (_gate)
            {
                _started = false;
            }

            throw;
        }
    }

    /// <summary>
    /// Publishes a payload. Completes at QoS 0 once handed to the connection, at QoS 1 on PUBACK,
    /// at QoS 2 on PUBCOMP, or on PUBACK from a broker that takes QoS 2 as QoS 1 (RabbitMQ). While disconnected the message waits in the session and goes out after
    /// reconnecting. The token cancels only the wait for room; an accepted message is not withdrawn.
    /// </summary>
    /// <exception cref="ArgumentException">The topic is empty, has a wildcard, or is too long.</exception>
    /// <exception cref="MqttException">The broker rejected the message (MQTT 5 reason code), or the client was disposed first.</exception>
    public ValueTask PublishAsync(string topic, ReadOnlyMemory<byte> payload, MqttQualityOfService qos = MqttQualityOfService.AtMostOnce, bool retain = false, CancellationToken cancellationToken = default) =>
        PublishCoreAsync(topic, payload, qos, retain, null, cancellationToken);

    /// <summary>Publishes a message with its MQTT 5 properties; see <see cref="PublishAsync(string, ReadOnlyMemory{byte}, MqttQualityOfService, bool, CancellationToken)"/>.</summary>
    public ValueTask PublishAsync(MqttMessage message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        return PublishCoreAsync(message.Topic, message.Payload, message.Qos, message.Retain, message.HasProperties ? message : null, cancellationToken);
    }

    /// <summary>Subscribes to one topic filter, such as <c>sensors/+/temp</c> or <c>$share/workers/jobs</c>.</summary>
    /// <returns>The granted QoS as a reason code.</returns>
    public async Task<MqttReasonCode> SubscribeAsync(string topicFilter, MqttQualityOfService maximumQos = MqttQualityOfService.AtLeastOnce, CancellationToken cancellationToken = default) =>
        (await SubscribeAsync([new MqttSubscription(topicFilter, maximumQos)], cancellationToken).ConfigureAwait(false))[0];

    /// <summary>
    /// Subscribes and waits for SUBACK. The subscriptions are renewed after any reconnect where the
    /// broker had lost the session.
    /// </summary>
    /// <returns>One reason code per subscription: the granted QoS.</returns>
    /// <exception cref="MqttException">Not connected, or the broker refused a filter (its reason code and string are in the message).</exception>
    public async Task<IReadOnlyList<MqttReasonCode>> SubscribeAsync(IReadOnlyList<MqttSubscription> subscriptions, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(subscriptions);
        if (subscriptions.Count == 0)
        {
            throw new ArgumentException("Give at least one subscription.", nameof(subscriptions));
        }

        foreach (var s in subscriptions)
        {
            ValidateFilter(s.TopicFilter);
        }

        var ack = await RequestAsync(
            id => new SubscribePacket { PacketId = id, Subscriptions = subscriptions },
            () =>
            {
                foreach (var s in subscriptions)
                {
                    _subscriptions[s.TopicFilter] = s;
                }
            },
            cancellationToken).ConfigureAwait(false);

        if (ack.ReasonCodes.Count != subscriptions.Count)
        {
            throw new MqttProtocolException($"The broker answered {subscriptions.Count} subscription(s) with {ack.ReasonCodes.Count} reason code(s).");
        }

        for (var i = 0; i < subscriptions.Count; i++)
        {
            if ((int)ack.ReasonCodes[i] >= 0x80)
            {
                lock (_gate)
                {
                    _subscriptions.Remove(subscriptions[i].TopicFilter);
                }

                throw new MqttException($"The broker refused the subscription to '{subscriptions[i].TopicFilter}'", ack.ReasonCodes[i], ack.ReasonString);
            }
        }

        return ack.ReasonCodes;
    }

    /// <summary>
    /// With <see cref="MqttClientOptions.AcknowledgeManually"/>: acknowledges a received QoS 1 or 2
    /// message (PUBACK or PUBREC), so the broker drops it from the session. Call it once the message
    /// has been handled for good.
    /// </summary>
    /// <returns>
    /// True when the acknowledgement went out; false for QoS 0, for automatic acknowledgement, or when
    /// the connection that brought the message is gone: then the broker sends it again (DUP set).
    /// </returns>
    public bool Acknowledge(MqttMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (message.ReceivedOn is not { } connection || message.Qos == MqttQualityOfService.AtMostOnce)
        {
            return false;
        }

        lock (_gate)
        {
            if (!ReferenceEquals(_connection, connection) || connection.IsClosed)
            {
                return false;
            }

            var type = message.Qos == MqttQualityOfService.AtLeastOnce ? PacketType.PubAck : PacketType.PubRec;
            PacketEncoder.WriteAck(connection.Outgoing, connection.Version, type, message.PacketId);
        }

        connection.WriteSignal.Set();
        return true;
    }

    /// <summary>Removes a subscription and waits for UNSUBACK.</summary>
    public async Task UnsubscribeAsync(string topicFilter, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(topicFilter);
        var ack = await RequestAsync(id => new UnsubscribePacket { PacketId = id, TopicFilters = [topicFilter] }, () => _subscriptions.Remove(topicFilter), cancellationToken).ConfigureAwait(false);
        if (ack.ReasonCodes.Count > 0 && (int)ack.ReasonCodes[0] >= 0x80)
        {
            throw new MqttException($"The broker refused to unsubscribe '{topicFilter}'", ack.ReasonCodes[0], ack.ReasonString);
        }
    }

    /// <summary>
    /// Sends DISCONNECT (so the broker discards the last will) and stops reconnecting. Messages still
    /// unacknowledged stay pending until disposal.
    /// </summary>
    public async Task DisconnectAsync(CancellationToken cancellationToken = default)
    {
        MqttConnection? connection;
        lock (_gate)
        {
            connection = _connection;
            if (connection is not null)
            {
                PacketEncoder.WriteDisconnect(connection.Outgoing, _options.ProtocolVersion);
                connection.Disconnecting = true;
            }
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        if (connection is not null)
        {
            connection.WriteSignal.Set();
            await connection.Closed.WaitAsync(TimeSpan.FromSeconds(5), cancellationToken).ConfigureAwait(false);
        }

        if (_supervisor is not null)
        {
            await _supervisor.ConfigureAwait(false);
        }
    }

    /// <summary>Disconnects and fails every message not yet acknowledged.</summary>
    public async ValueTask DisposeAsync()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }
        }

        try
        {
            await DisconnectAsync().ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
        }

        List<PendingPublish> abandoned = [];
        List<TaskCompletionSource<SubAckPacket>> requests;
        lock (_gate)
        {
            _disposed = true;
            for (var p = _head; p is not null; p = p.Next)
            {
                abandoned.Add(p);
            }

            abandoned.AddRange(_queued);
            _queued.Clear();
            _byId.Clear();
            _head = _tail = null;
            _inflight = 0;
            requests = [.. _requests.Values];
            _requests.Clear();
            _connection = null;
        }

        foreach (var p in abandoned)
        {
            p.Fail(new MqttException($"The client was disposed before the broker acknowledged the message (packet {p.PacketId})."));
        }

        foreach (var r in requests)
        {
            r.TrySetException(new ObjectDisposedException(nameof(MqttClient)));
        }

        _incoming.Writer.TryComplete();
        _drained?.TrySetResult();
        _stopping.Dispose();
    }

    private static void Validate(MqttClientOptions o)
    {
        if (string.IsNullOrWhiteSpace(o.Host))
        {
            throw new ArgumentException("MqttClientOptions.Host is empty: give the broker's host name or address.", nameof(o));
        }

        if (o.Port is < 0 or > 65535)
        {
            throw new ArgumentException($"MqttClientOptions.Port {o.Port} is not a TCP port (0 to 65535).", nameof(o));
        }

        if (o.ProtocolVersion is not (MqttProtocolVersion.V311 or MqttProtocolVersion.V500))
        {
            throw new ArgumentException($"MqttClientOptions.ProtocolVersion {o.ProtocolVersion} is neither V311 nor V500.", nameof(o));
        }

        if (o.KeepAlive < TimeSpan.Zero || o.KeepAlive.TotalSeconds > ushort.MaxValue)
        {
            throw new ArgumentException($"MqttClientOptions.KeepAlive {o.KeepAlive} must be 0 to 65535 seconds.", nameof(o));
        }

        if (o.MaxInflight is < 1 or > 65535)
        {
            throw new ArgumentException($"MqttClientOptions.MaxInflight {o.MaxInflight} must be 1 to 65535.", nameof(o));
        }

        if (o.MaxPendingMessages is < 1 or > 60_000)
        {
            throw new ArgumentException($"MqttClientOptions.MaxPendingMessages {o.MaxPendingMessages} must be 1 to 60000.", nameof(o));
        }

        if (o.IncomingCapacity < 1)
        {
            throw new ArgumentException($"MqttClientOptions.IncomingCapacity {o.IncomingCapacity} must be at least 1.", nameof(o));
        }

        if (o.ReceiveMaximum < 1)
        {
            throw new ArgumentException("MqttClientOptions.ReceiveMaximum must be at least 1.", nameof(o));
        }

        if (o.ReconnectMinDelay <= TimeSpan.Zero || o.ReconnectMaxDelay < o.ReconnectMinDelay)
        {
            throw new ArgumentException("MqttClientOptions.ReconnectMinDelay must be positive and not above ReconnectMaxDelay.", nameof(o));
        }

        if (o.Will is { } will)
        {
            ValidateTopic(will.Topic);
        }
    }

    private static void ValidateTopic(string topic)
    {
        ArgumentNullException.ThrowIfNull(topic);
        if (topic.Length == 0)
        {
            throw new ArgumentException("The topic is empty.", nameof(topic));
        }

        if (topic.AsSpan().IndexOfAny('+', '#', '\0') >= 0)
        {
            throw new ArgumentException($"The topic '{topic}' contains '+', '#' or U+0000; those belong in subscription filters only.", nameof(topic));
        }
    }

    /// <summary>Checks the wildcard rules of MQTT 4.7.1, so a bad filter fails here rather than dropping the connection.</summary>
    private static void ValidateFilter(string filter)
    {
        ArgumentException.ThrowIfNullOrEmpty(filter);
        var levels = filter.Split('/');
        for (var i = 0; i < levels.Length; i++)
        {
            var level = levels[i];
            if (level.Contains('#', StringComparison.Ordinal) && (level != "#" || i != levels.Length - 1))
            {
                throw new ArgumentException($"The topic filter '{filter}' is invalid: '#' must be a whole level and the last one.", nameof(filter));
            }

            if (level.Contains('+', StringComparison.Ordinal) && level != "+")
            {
                throw new ArgumentException($"The topic filter '{filter}' is invalid: '+' must be a whole level.", nameof(filter));
            }
        }

        if (filter.StartsWith("$share/", StringComparison.Ordinal) && (levels.Length < 3 || levels[1].Length == 0 || levels[1].AsSpan().IndexOfAny('+', '#') >= 0))
        {
            throw new ArgumentException($"The shared subscription '{filter}' is invalid: use $share/<group>/<filter> with a group name free of wildcards.", nameof(filter));
        }
    }

    private static MqttException? Refusal(MqttConnection c, MqttQualityOfService qos, bool retain, int length)
    {
        if (qos > c.MaximumQos)
        {
            return new MqttException($"The broker accepts QoS up to {(int)c.MaximumQos}, not {(int)qos}", MqttReasonCode.QosNotSupported, null);
        }

        if (retain && !c.RetainAvailable)
        {
            return new MqttException("The broker does not support retained messages", MqttReasonCode.RetainNotSupported, null);
        }

        return length > c.MaximumOutgoingPacketSize
            ? new MqttException($"The packet of {length} bytes exceeds the broker's maximum of {c.MaximumOutgoingPacketSize}", MqttReasonCode.PacketTooLarge, null)
            : null;
    }

    private ValueTask PublishCoreAsync(string topic, ReadOnlyMemory<byte> payload, MqttQualityOfService qos, bool retain, MqttMessage? properties, CancellationToken cancellationToken)
    {
        ValidateTopic(topic);
        if (qos is < MqttQualityOfService.AtMostOnce or > MqttQualityOfService.ExactlyOnce)
        {
            throw new ArgumentOutOfRangeException(nameof(qos), qos, "QoS is 0, 1 or 2.");
        }

        if (qos == MqttQualityOfService.AtMostOnce)
        {
            // The common case takes no allocation: encode straight into the connection's buffer and wake the writer.
            MqttConnection? connection = null;
            lock (_gate)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                var c = _connection;
                if (c is not null && c.Outgoing.Length < HighWaterBytes)
                {
                    var start = c.Outgoing.Length;
                    PacketEncoder.WritePublish(c.Outgoing, _options.ProtocolVersion, topic, payload.Span, qos, retain, false, 0, properties);
                    if (Refusal(c, qos, retain, c.Outgoing.Length - start) is { } refusal)
                    {
                        c.Outgoing.Truncate(start);
                        throw refusal;
                    }

                    connection = c;
                }
            }

            if (connection is not null)
            {
                connection.WriteSignal.Set();
                return ValueTask.CompletedTask;
            }
        }

        return PublishQueuedAsync(topic, payload, qos, retain, properties, cancellationToken);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask PublishQueuedAsync(string topic, ReadOnlyMemory<byte> payload, MqttQualityOfService qos, bool retain, MqttMessage? properties, CancellationToken cancellationToken)
    {
        if (qos == MqttQualityOfService.AtMostOnce)
        {
            while (true)
            {
                Task drained;
                lock (_gate)
                {
                    ObjectDisposedException.ThrowIf(_disposed, this);
                    if (_connection is null)
                    {
                        break;
                    }

                    if (_connection.Outgoing.Length < HighWaterBytes)
                    {
                        drained = Task.CompletedTask;
                    }
                    else
                    {
                        drained = (_drained ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
                    }
                }

                if (drained.IsCompleted)
                {
                    await PublishCoreAsync(topic, payload, qos, retain, properties, cancellationToken).ConfigureAwait(false);
                    return;
                }

                await drained.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
        }

        await _room.WaitAsync(cancellationToken).ConfigureAwait(false);
        PendingPublish pending;
        MqttConnection? wake;
        try
        {
            lock (_gate)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                pending = _pool.TryPop(out var pooled) ? pooled : new PendingPublish(_returnToPool);
                pending.Qos = qos;
                pending.Stage = PublishStage.Queued;
                pending.PacketId = qos == MqttQualityOfService.AtMostOnce ? (ushort)0 : NextPacketId();
                try
                {
                    PacketEncoder.WritePublish(pending.Packet, _options.ProtocolVersion, topic, payload.Span, qos, retain, false, pending.PacketId, properties);
                }
                catch
                {
                    pending.Packet.Clear();
                    _pool.Push(pending);
                    throw;
                }

                pending.Retain = retain;
                if (qos != MqttQualityOfService.AtMostOnce)
                {
                    _byId[pending.PacketId] = pending;
                }

                _queued.Enqueue(pending);
                wake = Pump();
            }
        }
        catch
        {
            _room.Release();
            throw;
        }

        wake?.WriteSignal.Set();
        try
        {
            await new ValueTask(pending, pending.Version).ConfigureAwait(false);
        }
        finally
        {
            _room.Release();
        }
    }

    /// <summary>Moves queued messages onto the connection as far as the in-flight window allows. Call under the lock.</summary>
    private MqttConnection? Pump()
    {
        var c = _connection;
        if (c is null)
        {
            return null;
        }

        var wrote = false;
        while (_queued.TryPeek(out var p))
        {
            if (p.Qos != MqttQualityOfService.AtMostOnce && _inflight >= _window)
            {
                break;
            }

            _queued.Dequeue();
            if (Refusal(c, p.Qos, p.Retain, p.Packet.Length) is { } refusal)
            {
                _byId.Remove(p.PacketId);
                p.Fail(refusal);
                continue;
            }

            c.Outgoing.WriteBytes(p.Packet.WrittenSpan);
            wrote = true;
            if (p.Qos == MqttQualityOfService.AtMostOnce)
            {
                p.Complete();
                continue;
            }

            p.Sent = true;
            p.Stage = p.Qos == MqttQualityOfService.AtLeastOnce ? PublishStage.AwaitingPubAck : PublishStage.AwaitingPubRec;
            Link(p);
        }

        return wrote ? c : null;
    }

    private void Link(PendingPublish p)
    {
        p.Previous = _tail;
        p.Next = null;
        if (_tail is null)
        {
            _head = p;
        }
        else
        {
            _tail.Next = p;
        }

        _tail = p;
        _inflight++;
    }

    private void Unlink(PendingPublish p)
    {
        if (p.Previous is null)
        {
            _head = p.Next;
        }
        else
        {
            p.Previous.Next = p.Next;
        }

        if (p.Next is null)
        {
            _tail = p.Previous;
        }
        else
        {
            p.Next.Previous = p.Previous;
        }

        p.Previous = p.Next = null;
        _inflight--;
    }

    private ushort NextPacketId()
    {
        for (var i = 0; i < ushort.MaxValue; i++)
        {
            _lastPacketId = _lastPacketId == ushort.MaxValue ? (ushort)1 : (ushort)(_lastPacketId + 1);
            if (!_byId.ContainsKey(_lastPacketId) && !_requests.ContainsKey(_lastPacketId))
            {
                return _lastPacketId;
            }
        }

        throw new InvalidOperationException("All 65535 MQTT packet identifiers are in use.");
    }

    private void ReturnToPool(PendingPublish p)
    {
        lock (_gate)
        {
            if (_pool.Count < MaxPooled && !_disposed)
            {
                _pool.Push(p);
                return;
            }
        }

        p.Dispose();
    }

    private async Task<SubAckPacket> RequestAsync(Func<ushort, MqttPacket> build, Action? remember, CancellationToken cancellationToken)
    {
        var answer = new TaskCompletionSource<SubAckPacket>(TaskCreationOptions.RunContinuationsAsynchronously);
        MqttConnection connection;
        ushort id;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            connection = _connection ?? throw new MqttException($"Not connected to {_options.Host}; connect first, or wait for the reconnection.");
            id = NextPacketId();
            _requests[id] = answer;
            PacketEncoder.Write(connection.Outgoing, build(id), _options.ProtocolVersion);
            remember?.Invoke();
        }

        connection.WriteSignal.Set();
        try
        {
            return await answer.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            lock (_gate)
            {
                _requests.Remove(id);
            }
        }
    }
}
