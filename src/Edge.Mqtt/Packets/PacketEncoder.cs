namespace Edge.Mqtt;

/// <summary>Encodes MQTT 3.1.1 and 5.0 packets into a <see cref="PacketWriter"/>.</summary>
internal static class PacketEncoder
{
    private static ReadOnlySpan<byte> ProtocolName => "MQTT"u8;

    public static void Write(PacketWriter writer, MqttPacket packet, MqttProtocolVersion version)
    {
        switch (packet)
        {
            case ConnectPacket connect:
                WriteConnect(writer, connect);
                break;
            case ConnAckPacket connAck:
                WriteConnAck(writer, connAck, version);
                break;
            case PublishPacket publish:
                var m = publish.Message;
                WritePublish(writer, version, m.Topic, m.Payload.Span, m.Qos, m.Retain, m.Duplicate, publish.PacketId, m, publish.TopicAlias ?? 0);
                break;
            case AckPacket ack:
                WriteAck(writer, version, ack.Type, ack.PacketId, ack.ReasonCode, ack.ReasonString);
                break;
            case SubscribePacket subscribe:
                WriteSubscribe(writer, version, subscribe);
                break;
            case SubAckPacket subAck:
                WriteSubAck(writer, version, subAck);
                break;
            case UnsubscribePacket unsubscribe:
                WriteUnsubscribe(writer, version, unsubscribe);
                break;
            case PingPacket ping:
                writer.WriteByte((byte)((int)ping.Type << 4));
                writer.WriteByte(0);
                break;
            case DisconnectPacket disconnect:
                WriteDisconnect(writer, version, disconnect.ReasonCode, disconnect.SessionExpiryInterval, disconnect.ReasonString);
                break;
            default:
                throw new NotSupportedException($"Encoding {packet.Type} is not supported.");
        }
    }

    public static void WriteConnect(PacketWriter writer, ConnectPacket p)
    {
        var v5 = p.ProtocolVersion == MqttProtocolVersion.V500;
        var mark = writer.BeginPacket(0x10);
        writer.WriteBinary(ProtocolName);
        writer.WriteByte((byte)p.ProtocolVersion);
        var flags = 0;
        if (p.UserName is not null)
        {
            flags |= 0x80;
        }

        if (p.Password is not null)
        {
            flags |= 0x40;
        }

        if (p.Will is { } will)
        {
            flags |= 0x04 | ((int)will.Qos << 3) | (will.Retain ? 0x20 : 0);
        }

        if (p.CleanStart)
        {
            flags |= 0x02;
        }

        writer.WriteByte((byte)flags);
        writer.WriteUInt16(p.KeepAliveSeconds);
        if (v5)
        {
            var props = writer.BeginProperties();
            if (p.SessionExpiryInterval != 0)
            {
                writer.WriteByte((byte)PropertyId.SessionExpiryInterval);
                writer.WriteUInt32(p.SessionExpiryInterval);
            }

            if (p.ReceiveMaximum is { } receiveMaximum)
            {
                writer.WriteByte((byte)PropertyId.ReceiveMaximum);
                writer.WriteUInt16(receiveMaximum);
            }

            if (p.MaximumPacketSize is { } maximumPacketSize)
            {
                writer.WriteByte((byte)PropertyId.MaximumPacketSize);
                writer.WriteUInt32(maximumPacketSize);
            }

            if (p.TopicAliasMaximum != 0)
            {
                writer.WriteByte((byte)PropertyId.TopicAliasMaximum);
                writer.WriteUInt16(p.TopicAliasMaximum);
            }

            WriteUserProperties(writer, p.UserProperties);
            writer.EndProperties(props);
        }

        writer.WriteString(p.ClientId);
        if (p.Will is { } w)
        {
            if (v5)
            {
                var props = writer.BeginProperties();
                WriteMessageProperties(writer, w, topicAlias: 0, isWill: true);
                writer.EndProperties(props);
            }

            writer.WriteString(w.Topic);
            writer.WriteBinary(w.Payload.Span);
        }

        if (p.UserName is not null)
        {
            writer.WriteString(p.UserName);
        }

        if (p.Password is { } password)
        {
            writer.WriteBinary(password.Span);
        }

        writer.EndPacket(mark);
    }

    public static void WriteConnAck(PacketWriter writer, ConnAckPacket p, MqttProtocolVersion version)
    {
        var mark = writer.BeginPacket(0x20);
        writer.WriteByte(p.SessionPresent ? (byte)1 : (byte)0);
        if (version == MqttProtocolVersion.V500)
        {
            writer.WriteByte((byte)p.ReasonCode);
            var props = writer.BeginProperties();
            WriteOptionalUInt32(writer, PropertyId.SessionExpiryInterval, p.SessionExpiryInterval);
            WriteOptionalUInt16(writer, PropertyId.ReceiveMaximum, p.ReceiveMaximum);
            if (p.MaximumQos is { } maximumQos)
            {
                writer.WriteByte((byte)PropertyId.MaximumQos);
                writer.WriteByte((byte)maximumQos);
            }

            if (p.RetainAvailable is { } retainAvailable)
            {
                writer.WriteByte((byte)PropertyId.RetainAvailable);
                writer.WriteByte(retainAvailable ? (byte)1 : (byte)0);
            }

            WriteOptionalUInt32(writer, PropertyId.MaximumPacketSize, p.MaximumPacketSize);
            WriteOptionalString(writer, PropertyId.AssignedClientIdentifier, p.AssignedClientIdentifier);
            WriteOptionalUInt16(writer, PropertyId.TopicAliasMaximum, p.TopicAliasMaximum);
            WriteOptionalString(writer, PropertyId.ReasonString, p.ReasonString);
            WriteOptionalUInt16(writer, PropertyId.ServerKeepAlive, p.ServerKeepAlive);
            if (p.SharedSubscriptionAvailable is { } shared)
            {
                writer.WriteByte((byte)PropertyId.SharedSubscriptionAvailable);
                writer.WriteByte(shared ? (byte)1 : (byte)0);
            }

            WriteOptionalString(writer, PropertyId.ServerReference, p.ServerReference);
            WriteUserProperties(writer, p.UserProperties);
            writer.EndProperties(props);
        }
        else
        {
            writer.WriteByte(ReturnCodes.ToV311(p.ReasonCode));
        }

        writer.EndPacket(mark);
    }

    /// <summary>A PUBLISH; <paramref name="properties"/> supplies MQTT 5 properties and may be null for none.</summary>
    public static void WritePublish(
        PacketWriter writer,
        MqttProtocolVersion version,
        string topic,
        ReadOnlySpan<byte> payload,
        MqttQualityOfService qos,
        bool retain,
        bool duplicate,
        ushort packetId,
        MqttMessage? properties,
        ushort topicAlias = 0)
    {
        if (qos is < MqttQualityOfService.AtMostOnce or > MqttQualityOfService.ExactlyOnce)
        {
            throw new ArgumentOutOfRangeException(nameof(qos), qos, "QoS is 0, 1 or 2.");
        }

        var first = 0x30 | ((int)qos << 1) | (retain ? 1 : 0) | (duplicate ? 0x08 : 0);
        var mark = writer.BeginPacket((byte)first);
        writer.WriteString(topic);
        if (qos != MqttQualityOfService.AtMostOnce)
        {
            writer.WriteUInt16(packetId);
        }

        if (version == MqttProtocolVersion.V500)
        {
            if (properties is null && topicAlias == 0)
            {
                writer.WriteByte(0);
            }
            else
            {
                var props = writer.BeginProperties();
                WriteMessageProperties(writer, properties, topicAlias, isWill: false);
                writer.EndProperties(props);
            }
        }

        writer.WriteBytes(payload);
        writer.EndPacket(mark);
    }

    /// <summary>PUBACK, PUBREC, PUBREL or PUBCOMP. MQTT 5 allows the short two-byte form for plain success.</summary>
    public static void WriteAck(PacketWriter writer, MqttProtocolVersion version, PacketType type, ushort packetId, MqttReasonCode reason = MqttReasonCode.Success, string? reasonString = null)
    {
        var mark = writer.BeginPacket((byte)(((int)type << 4) | (type == PacketType.PubRel ? 0x02 : 0)));
        writer.WriteUInt16(packetId);
        if (version == MqttProtocolVersion.V500 && (reason != MqttReasonCode.Success || reasonString is not null))
        {
            writer.WriteByte((byte)reason);
            var props = writer.BeginProperties();
            WriteOptionalString(writer, PropertyId.ReasonString, reasonString);
            writer.EndProperties(props);
        }

        writer.EndPacket(mark);
    }

    public static void WriteSubscribe(PacketWriter writer, MqttProtocolVersion version, SubscribePacket p)
    {
        var v5 = version == MqttProtocolVersion.V500;
        var mark = writer.BeginPacket(0x82);
        writer.WriteUInt16(p.PacketId);
        if (v5)
        {
            var props = writer.BeginProperties();
            if (p.SubscriptionIdentifier is { } id)
            {
                writer.WriteByte((byte)PropertyId.SubscriptionIdentifier);
                writer.WriteVariableInteger(id);
            }

            WriteUserProperties(writer, p.UserProperties);
            writer.EndProperties(props);
        }

        foreach (var s in p.Subscriptions)
        {
            writer.WriteString(s.TopicFilter);
            var options = (int)s.MaximumQos;
            if (v5)
            {
                options |= (s.NoLocal ? 0x04 : 0) | (s.RetainAsPublished ? 0x08 : 0) | ((int)s.RetainHandling << 4);
            }

            writer.WriteByte((byte)options);
        }

        writer.EndPacket(mark);
    }

    public static void WriteSubAck(PacketWriter writer, MqttProtocolVersion version, SubAckPacket p)
    {
        var mark = writer.BeginPacket((byte)((int)p.Type << 4));
        writer.WriteUInt16(p.PacketId);
        if (version == MqttProtocolVersion.V500)
        {
            var props = writer.BeginProperties();
            WriteOptionalString(writer, PropertyId.ReasonString, p.ReasonString);
            writer.EndProperties(props);
        }

        // An MQTT 3.1.1 UNSUBACK has no payload.
        if (p.Type == PacketType.SubAck || version == MqttProtocolVersion.V500)
        {
            foreach (var code in p.ReasonCodes)
            {
                writer.WriteByte((byte)code);
            }
        }

        writer.EndPacket(mark);
    }

    public static void WriteUnsubscribe(PacketWriter writer, MqttProtocolVersion version, UnsubscribePacket p)
    {
        var mark = writer.BeginPacket(0xA2);
        writer.WriteUInt16(p.PacketId);
        if (version == MqttProtocolVersion.V500)
        {
            writer.WriteByte(0);
        }

        foreach (var filter in p.TopicFilters)
        {
            writer.WriteString(filter);
        }

        writer.EndPacket(mark);
    }

    public static void WriteDisconnect(PacketWriter writer, MqttProtocolVersion version, MqttReasonCode reason = MqttReasonCode.Success, uint? sessionExpiry = null, string? reasonString = null)
    {
        var mark = writer.BeginPacket(0xE0);
        if (version == MqttProtocolVersion.V500 && (reason != MqttReasonCode.Success || sessionExpiry is not null || reasonString is not null))
        {
            writer.WriteByte((byte)reason);
            var props = writer.BeginProperties();
            WriteOptionalUInt32(writer, PropertyId.SessionExpiryInterval, sessionExpiry);
            WriteOptionalString(writer, PropertyId.ReasonString, reasonString);
            writer.EndProperties(props);
        }

        writer.EndPacket(mark);
    }

    public static void WritePingRequest(PacketWriter writer)
    {
        writer.WriteByte(0xC0);
        writer.WriteByte(0);
    }

    private static void WriteMessageProperties(PacketWriter writer, MqttMessage? m, ushort topicAlias, bool isWill)
    {
        if (m is not null)
        {
            if (isWill && m.WillDelay is { } delay)
            {
                writer.WriteByte((byte)PropertyId.WillDelayInterval);
                writer.WriteUInt32(Seconds(delay));
            }

            if (m.PayloadIsUtf8 is { } utf8)
            {
                writer.WriteByte((byte)PropertyId.PayloadFormatIndicator);
                writer.WriteByte(utf8 ? (byte)1 : (byte)0);
            }

            if (m.MessageExpiry is { } expiry)
            {
                writer.WriteByte((byte)PropertyId.MessageExpiryInterval);
                writer.WriteUInt32(Seconds(expiry));
            }

            WriteOptionalString(writer, PropertyId.ContentType, m.ContentType);
            WriteOptionalString(writer, PropertyId.ResponseTopic, m.ResponseTopic);
            if (m.CorrelationData is { } correlation)
            {
                writer.WriteByte((byte)PropertyId.CorrelationData);
                writer.WriteBinary(correlation.Span);
            }

            if (!isWill)
            {
                foreach (var id in m.SubscriptionIdentifiers)
                {
                    writer.WriteByte((byte)PropertyId.SubscriptionIdentifier);
                    writer.WriteVariableInteger(id);
                }
            }

            WriteUserProperties(writer, m.UserProperties);
        }

        if (topicAlias != 0)
        {
            writer.WriteByte((byte)PropertyId.TopicAlias);
            writer.WriteUInt16(topicAlias);
        }
    }

    private static uint Seconds(TimeSpan span) => span <= TimeSpan.Zero ? 0 : (uint)Math.Min(uint.MaxValue, Math.Ceiling(span.TotalSeconds));

    private static void WriteUserProperties(PacketWriter writer, IReadOnlyList<MqttUserProperty> properties)
    {
        foreach (var (name, value) in properties)
        {
            writer.WriteByte((byte)PropertyId.UserProperty);
            writer.WriteString(name);
            writer.WriteString(value);
        }
    }

    private static void WriteOptionalString(PacketWriter writer, PropertyId id, string? value)
    {
        if (value is not null)
        {
            writer.WriteByte((byte)id);
            writer.WriteString(value);
        }
    }

    private static void WriteOptionalUInt16(PacketWriter writer, PropertyId id, ushort? value)
    {
        if (value is { } v)
        {
            writer.WriteByte((byte)id);
            writer.WriteUInt16(v);
        }
    }

    private static void WriteOptionalUInt32(PacketWriter writer, PropertyId id, uint? value)
    {
        if (value is { } v)
        {
            writer.WriteByte((byte)id);
            writer.WriteUInt32(v);
        }
    }
}

/// <summary>MQTT 3.1.1 CONNACK return codes, mapped onto the MQTT 5 reason codes that mean the same.</summary>
internal static class ReturnCodes
{
    public static MqttReasonCode FromV311(byte code) => code switch
    {
        0 => MqttReasonCode.Success,
        1 => MqttReasonCode.UnsupportedProtocolVersion,
        2 => MqttReasonCode.ClientIdentifierNotValid,
        3 => MqttReasonCode.ServerUnavailable,
        4 => MqttReasonCode.BadUserNameOrPassword,
        5 => MqttReasonCode.NotAuthorized,
        _ => throw new MqttProtocolException($"Malformed CONNACK: return code {code} is not one MQTT 3.1.1 defines (0 to 5)."),
    };

    public static byte ToV311(MqttReasonCode code) => code switch
    {
        MqttReasonCode.Success => 0,
        MqttReasonCode.UnsupportedProtocolVersion => 1,
        MqttReasonCode.ClientIdentifierNotValid => 2,
        MqttReasonCode.ServerUnavailable => 3,
        MqttReasonCode.BadUserNameOrPassword => 4,
        MqttReasonCode.NotAuthorized => 5,
        _ => 3,
    };
}
