using System.Buffers.Binary;
using System.Text;
using Edge.Mqtt;
using Edge.Plugin.Hosting.Publishing;

namespace Edge.Plugin.Mqtt;

/// <summary>
/// An MQTT message as the spool keeps it: <c>topic length u16 | topic | payload</c>. The topic is
/// formatted when the measurement is published, so a record goes where it was meant to go even if
/// the topic template changes before a later run delivers it.
/// </summary>
internal static class MqttRecord
{
    public static byte[] Encode(string topic, ReadOnlySpan<byte> payload)
    {
        var length = Encoding.UTF8.GetByteCount(topic);
        if (length is 0 or > ushort.MaxValue)
        {
            throw new ArgumentException($"Topic '{topic}' must be 1 to 65535 bytes.", nameof(topic));
        }

        var record = new byte[2 + length + payload.Length];
        BinaryPrimitives.WriteUInt16LittleEndian(record, (ushort)length);
        Encoding.UTF8.GetBytes(topic, record.AsSpan(2));
        payload.CopyTo(record.AsSpan(2 + length));
        return record;
    }

    public static (string Topic, ReadOnlyMemory<byte> Payload) Decode(ReadOnlyMemory<byte> record)
    {
        var span = record.Span;
        var length = span.Length >= 2 ? BinaryPrimitives.ReadUInt16LittleEndian(span) : 0;
        if (length == 0 || span.Length < 2 + length)
        {
            throw new InvalidDataException($"A spooled MQTT record of {span.Length} bytes is malformed.");
        }

        return (Encoding.UTF8.GetString(span.Slice(2, length)), record[(2 + length)..]);
    }
}

/// <summary>
/// The MQTT broker as a delivery link: one publish per call, returning once the broker has
/// acknowledged it at the configured QoS (PUBACK, PUBCOMP; at QoS 0, once handed to the socket).
/// </summary>
/// <remarks>
/// While the client is disconnected it refuses at once (<see cref="LinkDownException"/>) rather than
/// let the message wait in the client's session: the spool is where waiting is done, durably. A
/// message whose acknowledgement did not come in time is still in the client's session, which
/// resends it after a reconnect with its packet id and DUP set; when the spool retries that record,
/// the link waits for that acknowledgement instead of publishing a second copy, which would break
/// QoS 2's exactly-once.
/// </remarks>
internal sealed class MqttLink(MqttClient client, MqttPublisherOptions options) : IDeliveryLink
{
    private readonly MqttQualityOfService _qos = (MqttQualityOfService)options.Qos;
    private readonly TimeSpan _ackTimeout = TimeSpan.FromSeconds(options.AckTimeoutSeconds);
    private readonly string? _contentType = options.ProtocolVersion == MqttProtocolVersion.V500 && options.Payload == MqttPayloadFormat.Json ? "application/json" : null;
    private (byte[] Record, Task Ack)? _unacknowledged;

    public string Description { get; } = $"MQTT broker {(options.UseTls || options.CaFile is { Length: > 0 } || options.CertificateFile is { Length: > 0 } ? "mqtts" : "mqtt")}://{options.Server}:{MqttPublisherOptions.EffectivePort(options)}";

    public async ValueTask SendAsync(ReadOnlyMemory<byte> record, CancellationToken cancellationToken)
    {
        Task ack;
        if (_unacknowledged is { } earlier && earlier.Record.AsSpan().SequenceEqual(record.Span) && (earlier.Ack.IsCompletedSuccessfully || !earlier.Ack.IsCompleted))
        {
            ack = earlier.Ack;
        }
        else if (!client.IsConnected)
        {
            throw new LinkDownException("not connected");
        }
        else
        {
            ack = Publish(record, cancellationToken);
        }

        _unacknowledged = null;
        try
        {
            await ack.WaitAsync(_ackTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException e)
        {
            _unacknowledged = (record.ToArray(), ack);
            throw new LinkDownException($"no acknowledgement within {_ackTimeout.TotalSeconds:0.#} s", e);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            _unacknowledged = (record.ToArray(), ack);
            throw;
        }
        catch (Exception e) when (e is InvalidDataException or ArgumentException || e is MqttException { ReasonCode: not null })
        {
            // A malformed record, a topic the client refuses, or the broker (or its announced limits)
            // refusing this message: sending it again would not help.
            throw new DeliveryRejectedException(e.Message, e);
        }
        catch (Exception e) when (e is MqttException or ObjectDisposedException or IOException or OperationCanceledException)
        {
            throw new LinkDownException(e.Message, e);
        }
    }

    // Whatever the client throws at once comes back in the task, so that one catch sorts it.
    private Task Publish(ReadOnlyMemory<byte> record, CancellationToken cancellationToken)
    {
        try
        {
            var (topic, payload) = MqttRecord.Decode(record);
            return client.PublishAsync(new MqttMessage(topic, payload, _qos, options.Retain) { ContentType = _contentType }, cancellationToken).AsTask();
        }
        catch (Exception e) when (e is InvalidDataException or ArgumentException or MqttException or ObjectDisposedException)
        {
            return Task.FromException(e);
        }
    }

    public ValueTask DisposeAsync() => client.DisposeAsync();
}
