using System.Buffers;
using System.Net.Sockets;
using System.Security.Authentication;
using Microsoft.Extensions.Logging;

namespace Edge.Mqtt;

/// <summary>The connection side of the client: connecting, the read/write/keep-alive loops, and reconnection.</summary>
public sealed partial class MqttClient
{
    private async Task<(MqttConnection Connection, bool SessionPresent)> EstablishAsync(CancellationToken cancellationToken)
    {
        var endpoint = $"{_options.Host}:{(_options.Port != 0 ? _options.Port : _options.Tls is null ? 1883 : 8883)}";
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stopping.Token);
        timeout.CancelAfter(_options.ConnectTimeout);
        MqttConnection connection;
        try
        {
            connection = await MqttConnection.OpenAsync(_options, timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && !_stopping.IsCancellationRequested)
        {
            throw new MqttException($"Connecting to the MQTT broker at {endpoint} took longer than {_options.ConnectTimeout.TotalSeconds:0.#} s.");
        }
        catch (Exception e) when (e is SocketException or AuthenticationException or IOException)
        {
            throw new MqttException($"Cannot connect to the MQTT broker at {endpoint}{(_options.Tls is null ? string.Empty : " over TLS")}: {e.Message}", e);
        }

        try
        {
            using (var writer = new PacketWriter(256))
            {
                PacketEncoder.WriteConnect(writer, BuildConnect());
                await connection.Stream.WriteAsync(writer.WrittenMemory, timeout.Token).ConfigureAwait(false);
            }

            var packet = await ReadOnePacketAsync(connection, endpoint, timeout.Token).ConfigureAwait(false)
                ?? throw new MqttException($"The broker at {endpoint} closed the connection instead of answering CONNECT (wrong protocol version or port?).");
            if (packet is not ConnAckPacket ack)
            {
                throw new MqttProtocolException($"The broker at {endpoint} answered CONNECT with {packet.Type}, not CONNACK.");
            }

            if (ack.ReasonCode != MqttReasonCode.Success)
            {
                throw new MqttException($"The MQTT broker at {endpoint} refused the connection", ack.ReasonCode, ack.ReasonString);
            }

            Activate(connection, ack);
            LogConnected(_logger, endpoint, ClientId, _options.ProtocolVersion, ack.SessionPresent);
            RaiseConnectionChanged(new MqttConnectionChangedEventArgs(true, ack.SessionPresent, null));
            return (connection, ack.SessionPresent);
        }
        catch (Exception e)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            if (e is OperationCanceledException && !cancellationToken.IsCancellationRequested && !_stopping.IsCancellationRequested)
            {
                throw new MqttException($"The MQTT broker at {endpoint} did not answer CONNECT within {_options.ConnectTimeout.TotalSeconds:0.#} s.");
            }

            if (e is IOException or SocketException)
            {
                throw new MqttException($"The connection to the MQTT broker at {endpoint} failed during CONNECT: {e.Message}", e);
            }

            throw;
        }
    }

    private ConnectPacket BuildConnect()
    {
        var v5 = _options.ProtocolVersion == MqttProtocolVersion.V500;
        var expiry = _options.SessionExpiry is { } e
            ? (uint)Math.Min(uint.MaxValue, e.TotalSeconds)
            : _options.CleanSession ? 0u : uint.MaxValue;
        return new ConnectPacket
        {
            ProtocolVersion = _options.ProtocolVersion,
            ClientId = ClientId,
            CleanStart = _options.CleanSession,
            KeepAliveSeconds = (ushort)_options.KeepAlive.TotalSeconds,
            UserName = _options.UserName,
            Password = _options.Password is null ? null : (ReadOnlyMemory<byte>?)System.Text.Encoding.UTF8.GetBytes(_options.Password),
            Will = _options.Will,
            SessionExpiryInterval = v5 ? expiry : 0,
            ReceiveMaximum = v5 ? _options.ReceiveMaximum : null,
            TopicAliasMaximum = v5 ? _options.TopicAliasMaximum : (ushort)0,
            UserProperties = v5 ? _options.ConnectUserProperties : [],
        };
    }

    private static async Task<MqttPacket?> ReadOnePacketAsync(MqttConnection connection, string endpoint, CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = await connection.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            var buffer = result.Buffer;
            var packet = TryDecode(ref buffer, connection.Version);
            if (packet is not null)
            {
                // Only what was consumed: packets the broker sent right behind CONNACK (a resumed session's messages) must stay readable.
                connection.Reader.AdvanceTo(buffer.Start);
                return packet;
            }

            connection.Reader.AdvanceTo(buffer.Start, buffer.End);

            if (result.IsCompleted)
            {
                return buffer.IsEmpty
                    ? null
                    : throw new MqttException($"The broker at {endpoint} closed the connection in the middle of {PacketDecoder.DescribeIncomplete(buffer)} instead of answering CONNECT.");
            }
        }
    }

    /// <summary>Decodes the next whole packet and slices it off; null when more bytes are needed.</summary>
    private static MqttPacket? TryDecode(ref ReadOnlySequence<byte> buffer, MqttProtocolVersion version)
    {
        if (!PacketDecoder.TryReadFrame(buffer, out var first, out var headerLength, out var remainingLength))
        {
            return null;
        }

        var body = buffer.Slice(headerLength, remainingLength);
        MqttPacket packet;
        if (body.IsSingleSegment)
        {
            packet = PacketDecoder.Decode(first, body.FirstSpan, version);
        }
        else
        {
            var copy = ArrayPool<byte>.Shared.Rent(remainingLength);
            try
            {
                body.CopyTo(copy);
                packet = PacketDecoder.Decode(first, copy.AsSpan(0, remainingLength), version);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(copy);
            }
        }

        buffer = buffer.Slice(headerLength + remainingLength);
        return packet;
    }

    /// <summary>Makes a fresh connection current: applies the broker's limits, resends what is unacknowledged, starts the loops.</summary>
    private void Activate(MqttConnection c, ConnAckPacket ack)
    {
        var v5 = _options.ProtocolVersion == MqttProtocolVersion.V500;
        c.MaximumQos = ack.MaximumQos ?? MqttQualityOfService.ExactlyOnce;
        c.RetainAvailable = ack.RetainAvailable ?? true;
        if (ack.MaximumPacketSize is { } maximum)
        {
            c.MaximumOutgoingPacketSize = (int)Math.Min(maximum, PacketWriter.MaxRemainingLength + 5);
        }

        c.SetTopicAliasMaximum(v5 ? _options.TopicAliasMaximum : 0);
        if (ack.AssignedClientIdentifier is { Length: > 0 } assigned)
        {
            ClientId = assigned;
        }

        var keepAlive = ack.ServerKeepAlive is { } serverKeepAlive ? TimeSpan.FromSeconds(serverKeepAlive) : _options.KeepAlive;
        List<MqttSubscription>? renew = null;
        lock (_gate)
        {
            _window = Math.Min(_options.MaxInflight, ack.ReceiveMaximum ?? ushort.MaxValue);
            if (!ack.SessionPresent)
            {
                _incomingQos2.Clear();
                if (_subscriptions.Count > 0)
                {
                    renew = [.. _subscriptions.Values];
                }
            }

            // Unacknowledged messages go out again first, in their original order (MQTT 4.4).
            for (var p = _head; p is not null;)
            {
                var next = p.Next;
                if (p.Stage == PublishStage.AwaitingPubComp)
                {
                    if (ack.SessionPresent)
                    {
                        PacketEncoder.WriteAck(c.Outgoing, _options.ProtocolVersion, PacketType.PubRel, p.PacketId);
                    }
                    else
                    {
                        // PUBREC already transferred ownership to the broker; a new session has nothing to release.
                        _byId.Remove(p.PacketId);
                        Unlink(p);
                        p.Complete();
                    }
                }
                else
                {
                    p.Packet.SetDuplicateFlag();
                    c.Outgoing.WriteBytes(p.Packet.WrittenSpan);
                }

                p = next;
            }

            _connection = c;
            Pump();
        }

        c.Loops = Task.WhenAll(
            Task.Run(() => ReadLoopAsync(c)),
            Task.Run(() => WriteLoopAsync(c)),
            Task.Run(() => KeepAliveLoopAsync(c, keepAlive)));
        c.WriteSignal.Set();
        if (renew is not null)
        {
            _ = RenewSubscriptionsAsync(renew);
        }
    }

    private async Task RenewSubscriptionsAsync(List<MqttSubscription> subscriptions)
    {
        try
        {
            await SubscribeAsync(subscriptions, _stopping.Token).ConfigureAwait(false);
            LogResubscribed(_logger, subscriptions.Count);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            LogResubscribeFailed(_logger, e);
        }
    }

    private async Task ReadLoopAsync(MqttConnection c)
    {
        Exception? cause = null;
        try
        {
            while (true)
            {
                var result = await c.Reader.ReadAsync(c.Stopping.Token).ConfigureAwait(false);
                var buffer = result.Buffer;
                try
                {
                    while (TryDecode(ref buffer, c.Version) is { } packet)
                    {
                        c.LastReceivedTicks = Environment.TickCount64;
                        var handled = HandleAsync(c, packet);
                        if (!handled.IsCompletedSuccessfully)
                        {
                            await handled.ConfigureAwait(false);
                        }
                    }
                }
                finally
                {
                    c.Reader.AdvanceTo(buffer.Start, buffer.End);
                }

                if (result.IsCompleted)
                {
                    throw new MqttException(buffer.IsEmpty
                        ? "The broker closed the connection."
                        : $"The broker closed the connection in the middle of {PacketDecoder.DescribeIncomplete(buffer)}.");
                }
            }
        }
        catch (OperationCanceledException) when (c.Stopping.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            cause = e;
        }

        ConnectionLost(c, cause);
    }

    private ValueTask HandleAsync(MqttConnection c, MqttPacket packet)
    {
        MqttConnection? wake = null;
        switch (packet)
        {
            case PublishPacket publish:
                return ReceiveAsync(c, publish);
            case AckPacket ack:
                lock (_gate)
                {
                    wake = Acknowledge(c, ack);
                }

                break;
            case SubAckPacket subAck:
                TaskCompletionSource<SubAckPacket>? answer;
                lock (_gate)
                {
                    _requests.Remove(subAck.PacketId, out answer);
                }

                answer?.TrySetResult(subAck);
                break;
            case PingPacket { Type: PacketType.PingResp }:
                break;
            case DisconnectPacket disconnect:
                throw new MqttException("The broker sent DISCONNECT", disconnect.ReasonCode, disconnect.ReasonString);
            default:
                throw new MqttProtocolException($"The broker sent {packet.Type}, which a client never receives.");
        }

        wake?.WriteSignal.Set();
        return ValueTask.CompletedTask;
    }

    /// <summary>Handles PUBACK, PUBREC, PUBREL and PUBCOMP. Call under the lock.</summary>
    private MqttConnection? Acknowledge(MqttConnection c, AckPacket ack)
    {
        var failed = (int)ack.ReasonCode >= 0x80;
        switch (ack.Type)
        {
            case PacketType.PubRel:
                var known = _incomingQos2.Remove(ack.PacketId);
                PacketEncoder.WriteAck(c.Outgoing, c.Version, PacketType.PubComp, ack.PacketId, known ? MqttReasonCode.Success : MqttReasonCode.PacketIdentifierNotFound);
                return c;
            case PacketType.PubRec when _byId.TryGetValue(ack.PacketId, out var p) && p.Stage is PublishStage.AwaitingPubRec or PublishStage.AwaitingPubComp:
                if (failed)
                {
                    Finish(p, ack);
                    return Pump();
                }

                p.Stage = PublishStage.AwaitingPubComp;
                PacketEncoder.WriteAck(c.Outgoing, c.Version, PacketType.PubRel, ack.PacketId);
                return c;
            case PacketType.PubRec:
                // Unknown identifier: release it anyway so the broker's state does not hang (MQTT 5 4.3.3).
                PacketEncoder.WriteAck(c.Outgoing, c.Version, PacketType.PubRel, ack.PacketId, MqttReasonCode.PacketIdentifierNotFound);
                return c;
            case PacketType.PubAck when _byId.TryGetValue(ack.PacketId, out var p) && p.Stage == PublishStage.AwaitingPubAck:
                Finish(p, ack);
                return Pump();
            case PacketType.PubAck when _byId.TryGetValue(ack.PacketId, out var p) && p.Stage == PublishStage.AwaitingPubRec:
                // RabbitMQ's MQTT plugin takes a QoS 2 message at QoS 1 and answers PUBACK. The broker owns the
                // message from then on; waiting for a PUBREC that never comes hung the publisher and held its
                // window slot for good, and every reconnect sent the message again.
                if (!c.QosDowngradeLogged)
                {
                    c.QosDowngradeLogged = true;
                    LogQosDowngraded(_logger, ack.PacketId);
                }

                Finish(p, ack);
                return Pump();
            case PacketType.PubComp when _byId.TryGetValue(ack.PacketId, out var p) && p.Stage == PublishStage.AwaitingPubComp:
                Finish(p, ack);
                return Pump();
            default:
                LogUnexpectedAck(_logger, ack.Type, ack.PacketId);
                return null;
        }
    }

    private void Finish(PendingPublish p, AckPacket ack)
    {
        _byId.Remove(p.PacketId);
        Unlink(p);
        if ((int)ack.ReasonCode >= 0x80)
        {
            p.Fail(new MqttException($"The broker rejected the message (packet {ack.PacketId}, {ack.Type.ToString().ToUpperInvariant()})", ack.ReasonCode, ack.ReasonString));
        }
        else
        {
            p.Complete();
        }
    }

    private async ValueTask ReceiveAsync(MqttConnection c, PublishPacket publish)
    {
        var message = publish.Message;
        if (publish.TopicAlias is { } alias)
        {
            var topic = c.ResolveTopicAlias(message.Topic, alias);
            if (!ReferenceEquals(topic, message.Topic))
            {
                message = message.WithTopic(topic);
            }
        }

        var deliver = true;
        if (message.Qos == MqttQualityOfService.ExactlyOnce)
        {
            lock (_gate)
            {
                // A resent QoS 2 PUBLISH whose PUBREL has not come yet was delivered already.
                deliver = _incomingQos2.Add(publish.PacketId);
            }
        }

        var manual = _options.AcknowledgeManually && message.Qos != MqttQualityOfService.AtMostOnce;
        if (manual && deliver)
        {
            message = message.WithReceipt(publish.PacketId, c);
        }

        if (deliver)
        {
            await _incoming.Writer.WriteAsync(message, c.Stopping.Token).ConfigureAwait(false);
        }

        // A QoS 2 resend already delivered (PUBREC lost with the old connection) is answered here: its handler had it once.
        if (message.Qos != MqttQualityOfService.AtMostOnce && !(manual && deliver))
        {
            lock (_gate)
            {
                var type = message.Qos == MqttQualityOfService.AtLeastOnce ? PacketType.PubAck : PacketType.PubRec;
                PacketEncoder.WriteAck(c.Outgoing, c.Version, type, publish.PacketId);
            }

            c.WriteSignal.Set();
        }
    }

    private async Task WriteLoopAsync(MqttConnection c)
    {
        Exception? cause = null;
        try
        {
            while (!c.IsClosed)
            {
                await c.WriteSignal.WaitAsync().ConfigureAwait(false);
                while (!c.IsClosed)
                {
                    PacketWriter batch;
                    TaskCompletionSource? drained;
                    bool finished;
                    lock (_gate)
                    {
                        drained = _drained;
                        _drained = null;
                        batch = c.Outgoing;
                        finished = batch.Length == 0;
                        if (!finished)
                        {
                            c.Outgoing = c.Writing;
                            c.Writing = batch;
                        }
                    }

                    drained?.TrySetResult();
                    if (finished)
                    {
                        break;
                    }

                    await c.Stream.WriteAsync(batch.WrittenMemory, c.Stopping.Token).ConfigureAwait(false);
                    c.LastSentTicks = Environment.TickCount64;
                    batch.Clear();
                }

                if (c.Disconnecting)
                {
                    await c.Stream.FlushAsync(c.Stopping.Token).ConfigureAwait(false);
                    break;
                }
            }
        }
        catch (OperationCanceledException) when (c.Stopping.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            cause = e;
        }

        ConnectionLost(c, cause);
    }

    private async Task KeepAliveLoopAsync(MqttConnection c, TimeSpan keepAlive)
    {
        if (keepAlive <= TimeSpan.Zero)
        {
            return;
        }

        var keepAliveMs = (long)keepAlive.TotalMilliseconds;
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(Math.Max(100, keepAliveMs / 4)));
        try
        {
            while (await timer.WaitForNextTickAsync(c.Stopping.Token).ConfigureAwait(false))
            {
                var now = Environment.TickCount64;

                // The broker answers every PINGREQ, so this much silence means the link is dead (MQTT 3.1.2.10).
                if (now - c.LastReceivedTicks > (keepAliveMs * 3 / 2) + 1000)
                {
                    ConnectionLost(c, new MqttException($"No packet from the broker in {(now - c.LastReceivedTicks) / 1000.0:0.#} s with keep-alive {keepAlive.TotalSeconds:0.#} s; the connection is dead.", MqttReasonCode.KeepAliveTimeout, null));
                    return;
                }

                if (now - c.LastSentTicks >= keepAliveMs)
                {
                    lock (_gate)
                    {
                        PacketEncoder.WritePingRequest(c.Outgoing);
                    }

                    c.LastSentTicks = now;
                    c.WriteSignal.Set();
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Drops the connection without DISCONNECT, as a crash or a cut cable would; the broker then sends the will.</summary>
    internal void Abort()
    {
        MqttConnection? c;
        lock (_gate)
        {
            c = _connection;
        }

        if (c is not null)
        {
            ConnectionLost(c, new IOException("Connection aborted."));
        }
    }

    private void ConnectionLost(MqttConnection c, Exception? cause)
    {
        List<TaskCompletionSource<SubAckPacket>>? requests = null;
        TaskCompletionSource? drained;
        lock (_gate)
        {
            if (!c.Close(cause))
            {
                return;
            }

            if (ReferenceEquals(_connection, c))
            {
                _connection = null;
            }

            if (_requests.Count > 0)
            {
                requests = [.. _requests.Values];
                _requests.Clear();
            }

            drained = _drained;
            _drained = null;
        }

        drained?.TrySetResult();
        if (requests is not null)
        {
            foreach (var r in requests)
            {
                r.TrySetException(new MqttException("The connection was lost before the broker answered; the subscription is renewed after reconnecting if the broker lost it.", cause ?? new IOException("closed")));
            }
        }

        if (cause is not null)
        {
            LogConnectionLost(_logger, cause, cause.Message);
        }

        RaiseConnectionChanged(new MqttConnectionChangedEventArgs(false, false, cause));
    }

    private async Task SuperviseAsync(MqttConnection connection)
    {
        var random = new Random();
        while (true)
        {
            await connection.Closed.ConfigureAwait(false);
            await connection.Loops.ConfigureAwait(false);
            await connection.DisposeAsync().ConfigureAwait(false);
            if (_stopping.IsCancellationRequested || !_options.AutoReconnect)
            {
                return;
            }

            var delay = _options.ReconnectMinDelay;
            while (true)
            {
                // Jitter keeps a fleet of plugins from reconnecting in lockstep after a broker restart.
                var wait = delay * (0.5 + (random.NextDouble() / 2));
                try
                {
                    await Task.Delay(wait, _stopping.Token).ConfigureAwait(false);
                    (connection, _) = await EstablishAsync(_stopping.Token).ConfigureAwait(false);
                    break;
                }
                catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception e) when (e is MqttException or IOException or SocketException)
                {
                    delay = delay * 2 > _options.ReconnectMaxDelay ? _options.ReconnectMaxDelay : delay * 2;
                    LogReconnectFailed(_logger, e.Message, delay.TotalSeconds);
                }
            }
        }
    }

    private void RaiseConnectionChanged(MqttConnectionChangedEventArgs args)
    {
        if (ConnectionChanged is { } handler)
        {
            ThreadPool.QueueUserWorkItem(_ => handler(this, args));
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "MQTT connected to {Endpoint} as {ClientId} ({Version}); session present: {SessionPresent}")]
    private static partial void LogConnected(ILogger logger, string endpoint, string clientId, MqttProtocolVersion version, bool sessionPresent);

    [LoggerMessage(Level = LogLevel.Warning, Message = "MQTT connection lost: {Reason}")]
    private static partial void LogConnectionLost(ILogger logger, Exception error, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "MQTT reconnect failed: {Reason}; next attempt within {DelaySeconds:0.#} s")]
    private static partial void LogReconnectFailed(ILogger logger, string reason, double delaySeconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "MQTT renewed {Count} subscription(s) the broker had lost")]
    private static partial void LogResubscribed(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Error, Message = "MQTT could not renew subscriptions after reconnecting")]
    private static partial void LogResubscribeFailed(ILogger logger, Exception error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "MQTT broker answered the QoS 2 PUBLISH {PacketId} with PUBACK: it took the message at QoS 1, so it may be delivered more than once (RabbitMQ's MQTT plugin does this); said once per connection")]
    private static partial void LogQosDowngraded(ILogger logger, ushort packetId);

    [LoggerMessage(Level = LogLevel.Debug, Message = "MQTT ignored {Type} for unknown packet {PacketId}")]
    private static partial void LogUnexpectedAck(ILogger logger, PacketType type, ushort packetId);
}
