using System.Buffers;

namespace Edge.Mqtt;

/// <summary>
/// Decodes MQTT 3.1.1 and 5.0 packets, rejecting anything the specifications call malformed
/// with a <see cref="MqttProtocolException"/> that says what was wrong.
/// </summary>
internal static class PacketDecoder
{
    /// <summary>
    /// Finds one whole packet at the start of <paramref name="buffer"/>. False means more bytes
    /// are needed; a remaining length longer than four bytes or above <paramref name="maximumPacketSize"/> throws.
    /// </summary>
    public static bool TryReadFrame(in ReadOnlySequence<byte> buffer, out byte firstByte, out int headerLength, out int remainingLength, int maximumPacketSize = PacketWriter.MaxRemainingLength + 5)
    {
        firstByte = 0;
        headerLength = 0;
        remainingLength = 0;
        var reader = new SequenceReader<byte>(buffer);
        if (!reader.TryRead(out firstByte))
        {
            return false;
        }

        var value = 0;
        for (var i = 0; ; i++)
        {
            if (i == 4)
            {
                throw new MqttProtocolException($"Malformed packet: the remaining length of a {Name(firstByte)} packet uses more than 4 bytes.");
            }

            if (!reader.TryRead(out var b))
            {
                return false;
            }

            value |= (b & 0x7F) << (7 * i);
            if ((b & 0x80) == 0)
            {
                headerLength = i + 2;
                break;
            }
        }

        if (headerLength + (long)value > maximumPacketSize)
        {
            throw new MqttProtocolException($"A {Name(firstByte)} packet of {headerLength + value} bytes exceeds the maximum packet size of {maximumPacketSize}.");
        }

        remainingLength = value;
        return buffer.Length >= headerLength + value;
    }

    /// <summary>
    /// Says what an unfinished packet at the start of <paramref name="buffer"/> was, for the message when the
    /// connection closes in the middle of it: "a packet (PUBLISH, 7 of its 300 bytes)".
    /// </summary>
    public static string DescribeIncomplete(in ReadOnlySequence<byte> buffer)
    {
        var reader = new SequenceReader<byte>(buffer);
        reader.TryRead(out var first);
        var value = 0;
        for (var i = 0; i < 4 && reader.TryRead(out var b); i++)
        {
            value |= (b & 0x7F) << (7 * i);
            if ((b & 0x80) == 0)
            {
                return $"a packet ({Name(first)}, {buffer.Length} of its {i + 2 + value} bytes)";
            }
        }

        return $"a packet's fixed header ({Name(first)}, {buffer.Length} byte(s))";
    }

    /// <summary>Decodes one packet from its first byte and its body (everything after the remaining length).</summary>
    public static MqttPacket Decode(byte firstByte, ReadOnlySpan<byte> body, MqttProtocolVersion version)
    {
        var type = (PacketType)(firstByte >> 4);
        var flags = firstByte & 0x0F;
        var v5 = version == MqttProtocolVersion.V500;
        if (type == 0 || (type == PacketType.Auth && !v5))
        {
            // Before the flags: a reserved type has no flags to be wrong about.
            throw new MqttProtocolException($"Malformed packet: type {(int)type} is reserved{(type == PacketType.Auth ? " in MQTT 3.1.1 (AUTH is MQTT 5 only)" : string.Empty)}.");
        }

        if (type != PacketType.Publish)
        {
            var expected = type is PacketType.PubRel or PacketType.Subscribe or PacketType.Unsubscribe ? 0x2 : 0x0;
            if (flags != expected)
            {
                throw new MqttProtocolException($"Malformed {Name(firstByte)}: fixed header flags are 0x{flags:X}; MQTT requires 0x{expected:X}.");
            }
        }

        var reader = new PacketReader(body, Name(firstByte));
        MqttPacket packet = type switch
        {
            PacketType.Connect => ReadConnect(ref reader),
            PacketType.ConnAck => ReadConnAck(ref reader, v5),
            PacketType.Publish => ReadPublish(ref reader, flags, v5),
            PacketType.PubAck or PacketType.PubRec or PacketType.PubRel or PacketType.PubComp => ReadAck(ref reader, type, v5),
            PacketType.Subscribe => ReadSubscribe(ref reader, v5),
            PacketType.SubAck or PacketType.UnsubAck => ReadSubAck(ref reader, type, v5),
            PacketType.Unsubscribe => ReadUnsubscribe(ref reader, v5),
            PacketType.PingReq => PingPacket.Request,
            PacketType.PingResp => PingPacket.Response,
            PacketType.Disconnect => ReadDisconnect(ref reader, v5),
            PacketType.Auth when v5 => ReadAuth(ref reader),
            _ => throw new MqttProtocolException($"Malformed packet: type {(int)type} is reserved{(type == PacketType.Auth ? " in MQTT 3.1.1 (AUTH is MQTT 5 only)" : string.Empty)}."),
        };

        if (reader.Remaining != 0)
        {
            throw reader.Malformed($"{reader.Remaining} byte(s) left over after the packet");
        }

        return packet;
    }

    public static string Name(byte firstByte) => (firstByte >> 4) switch
    {
        >= 1 and <= 15 and var t => ((PacketType)t).ToString().ToUpperInvariant(),
        var t => $"type-{t}",
    };

    private static ConnectPacket ReadConnect(ref PacketReader reader)
    {
        var name = reader.ReadBinarySpan("protocol name");
        if (!name.SequenceEqual("MQTT"u8))
        {
            throw reader.Malformed("protocol name is not 'MQTT'");
        }

        var level = reader.ReadByte("protocol level");
        if (level is not (4 or 5))
        {
            throw reader.Malformed($"protocol level {level} is neither 4 (MQTT 3.1.1) nor 5 (MQTT 5.0)");
        }

        var version = (MqttProtocolVersion)level;
        var v5 = version == MqttProtocolVersion.V500;
        var flags = reader.ReadByte("connect flags");
        if ((flags & 0x01) != 0)
        {
            throw reader.Malformed("the reserved connect flag is set");
        }

        var hasWill = (flags & 0x04) != 0;
        var willQos = (flags >> 3) & 0x03;
        var willRetain = (flags & 0x20) != 0;
        if (willQos == 3)
        {
            throw reader.Malformed("will QoS is 3");
        }

        if (!hasWill && (willQos != 0 || willRetain))
        {
            throw reader.Malformed("will QoS or will retain is set without the will flag");
        }

        var hasUser = (flags & 0x80) != 0;
        var hasPassword = (flags & 0x40) != 0;
        if (!v5 && hasPassword && !hasUser)
        {
            throw reader.Malformed("a password without a user name (MQTT 3.1.1 forbids it)");
        }

        var keepAlive = reader.ReadUInt16("keep alive");
        var props = v5 ? PacketProperties.Read(ref reader, (int)PacketType.Connect) : null;
        var clientId = reader.ReadString("client identifier");
        MqttMessage? will = null;
        if (hasWill)
        {
            var willProps = v5 ? PacketProperties.Read(ref reader, 0) : null;
            var topic = reader.ReadString("will topic");
            var payload = reader.ReadBinarySpan("will payload").ToArray();
            will = Message(topic, payload, (MqttQualityOfService)willQos, willRetain, duplicate: false, willProps);
        }

        return new ConnectPacket
        {
            ProtocolVersion = version,
            CleanStart = (flags & 0x02) != 0,
            KeepAliveSeconds = keepAlive,
            ClientId = clientId,
            Will = will,
            UserName = hasUser ? reader.ReadString("user name") : null,
            Password = hasPassword ? reader.ReadBinarySpan("password").ToArray() : null,
            SessionExpiryInterval = props?.SessionExpiryInterval ?? 0,
            ReceiveMaximum = props?.ReceiveMaximum,
            TopicAliasMaximum = props?.TopicAliasMaximum ?? 0,
            MaximumPacketSize = props?.MaximumPacketSize,
            UserProperties = props?.UserPropertiesOrEmpty ?? [],
        };
    }

    private static ConnAckPacket ReadConnAck(ref PacketReader reader, bool v5)
    {
        var ackFlags = reader.ReadByte("acknowledge flags");
        if ((ackFlags & 0xFE) != 0)
        {
            throw reader.Malformed($"acknowledge flags 0x{ackFlags:X2} set reserved bits");
        }

        var code = reader.ReadByte("reason code");
        if (!v5)
        {
            return new ConnAckPacket { SessionPresent = ackFlags == 1, ReasonCode = ReturnCodes.FromV311(code) };
        }

        var props = reader.Remaining > 0 ? PacketProperties.Read(ref reader, (int)PacketType.ConnAck) : null;
        return new ConnAckPacket
        {
            SessionPresent = ackFlags == 1,
            ReasonCode = (MqttReasonCode)code,
            SessionExpiryInterval = props?.SessionExpiryInterval,
            ReceiveMaximum = props?.ReceiveMaximum,
            MaximumQos = props?.MaximumQos is { } q ? (MqttQualityOfService)q : null,
            RetainAvailable = props?.RetainAvailable is { } r ? r == 1 : null,
            MaximumPacketSize = props?.MaximumPacketSize,
            AssignedClientIdentifier = props?.AssignedClientIdentifier,
            TopicAliasMaximum = props?.TopicAliasMaximum,
            ReasonString = props?.ReasonString,
            ServerKeepAlive = props?.ServerKeepAlive,
            SharedSubscriptionAvailable = props?.SharedSubscriptionAvailable is { } s ? s == 1 : null,
            ServerReference = props?.ServerReference,
            UserProperties = props?.UserPropertiesOrEmpty ?? [],
        };
    }

    private static PublishPacket ReadPublish(ref PacketReader reader, int flags, bool v5)
    {
        var qos = (flags >> 1) & 0x03;
        var duplicate = (flags & 0x08) != 0;
        if (qos == 3)
        {
            throw reader.Malformed("QoS bits are 3, which is invalid");
        }

        if (qos == 0 && duplicate)
        {
            throw reader.Malformed("DUP is set on a QoS 0 message");
        }

        var topic = reader.ReadString("topic name");
        if (topic.AsSpan().IndexOfAny('+', '#') >= 0)
        {
            throw reader.Malformed($"topic name '{topic}' contains a wildcard");
        }

        ushort packetId = 0;
        if (qos > 0)
        {
            packetId = reader.ReadUInt16("packet identifier");
            if (packetId == 0)
            {
                throw reader.Malformed("packet identifier is 0");
            }
        }

        var props = v5 ? PacketProperties.Read(ref reader, (int)PacketType.Publish) : null;
        if (topic.Length == 0 && props?.TopicAlias is null)
        {
            throw reader.Malformed("topic name is empty and no topic alias is given");
        }

        var payload = reader.ReadToEnd().ToArray();
        return new PublishPacket
        {
            Message = Message(topic, payload, (MqttQualityOfService)qos, (flags & 0x01) != 0, duplicate, props),
            PacketId = packetId,
            TopicAlias = props?.TopicAlias,
        };
    }

    private static AckPacket ReadAck(ref PacketReader reader, PacketType type, bool v5)
    {
        var id = reader.ReadUInt16("packet identifier");
        if (id == 0)
        {
            throw reader.Malformed("packet identifier is 0");
        }

        if (!v5 || reader.Remaining == 0)
        {
            return new AckPacket(type, id);
        }

        var reason = (MqttReasonCode)reader.ReadByte("reason code");
        var props = reader.Remaining > 0 ? PacketProperties.Read(ref reader, (int)type) : null;
        return new AckPacket(type, id, reason, props?.ReasonString) { UserProperties = props?.UserPropertiesOrEmpty ?? [] };
    }

    private static SubscribePacket ReadSubscribe(ref PacketReader reader, bool v5)
    {
        var id = reader.ReadUInt16("packet identifier");
        var props = v5 ? PacketProperties.Read(ref reader, (int)PacketType.Subscribe) : null;
        var subscriptions = new List<MqttSubscription>();
        while (reader.Remaining > 0)
        {
            var filter = reader.ReadString("topic filter");
            var options = reader.ReadByte("subscription options");
            if ((options & (v5 ? 0xC0 : 0xFC)) != 0 || (options & 0x03) == 3 || ((options >> 4) & 0x03) == 3)
            {
                throw reader.Malformed($"subscription options 0x{options:X2} for '{filter}' are invalid");
            }

            subscriptions.Add(new MqttSubscription(filter, (MqttQualityOfService)(options & 0x03))
            {
                NoLocal = (options & 0x04) != 0,
                RetainAsPublished = (options & 0x08) != 0,
                RetainHandling = (MqttRetainHandling)((options >> 4) & 0x03),
            });
        }

        if (subscriptions.Count == 0)
        {
            throw reader.Malformed("no topic filters");
        }

        return new SubscribePacket
        {
            PacketId = id,
            Subscriptions = subscriptions,
            SubscriptionIdentifier = props?.SubscriptionIdentifiers?[0],
            UserProperties = props?.UserPropertiesOrEmpty ?? [],
        };
    }

    private static SubAckPacket ReadSubAck(ref PacketReader reader, PacketType type, bool v5)
    {
        var id = reader.ReadUInt16("packet identifier");
        var props = v5 ? PacketProperties.Read(ref reader, (int)type) : null;
        var codes = new List<MqttReasonCode>(reader.Remaining);
        while (reader.Remaining > 0)
        {
            var code = reader.ReadByte("reason code");
            if (!v5 && code is not (0 or 1 or 2 or 0x80))
            {
                throw reader.Malformed($"return code 0x{code:X2} is not one MQTT 3.1.1 defines");
            }

            codes.Add((MqttReasonCode)code);
        }

        return new SubAckPacket(type, id, codes, props?.ReasonString);
    }

    private static UnsubscribePacket ReadUnsubscribe(ref PacketReader reader, bool v5)
    {
        var id = reader.ReadUInt16("packet identifier");
        if (v5)
        {
            PacketProperties.Read(ref reader, (int)PacketType.Unsubscribe);
        }

        var filters = new List<string>();
        while (reader.Remaining > 0)
        {
            filters.Add(reader.ReadString("topic filter"));
        }

        return filters.Count > 0 ? new UnsubscribePacket { PacketId = id, TopicFilters = filters } : throw reader.Malformed("no topic filters");
    }

    private static DisconnectPacket ReadDisconnect(ref PacketReader reader, bool v5)
    {
        if (!v5 || reader.Remaining == 0)
        {
            return new DisconnectPacket();
        }

        var reason = (MqttReasonCode)reader.ReadByte("reason code");
        var props = reader.Remaining > 0 ? PacketProperties.Read(ref reader, (int)PacketType.Disconnect) : null;
        return new DisconnectPacket
        {
            ReasonCode = reason,
            ReasonString = props?.ReasonString,
            SessionExpiryInterval = props?.SessionExpiryInterval,
            ServerReference = props?.ServerReference,
        };
    }

    private static AuthPacket ReadAuth(ref PacketReader reader)
    {
        if (reader.Remaining == 0)
        {
            return new AuthPacket();
        }

        var reason = (MqttReasonCode)reader.ReadByte("reason code");
        var props = reader.Remaining > 0 ? PacketProperties.Read(ref reader, (int)PacketType.Auth) : null;
        return new AuthPacket { ReasonCode = reason, AuthenticationMethod = props?.AuthenticationMethod, ReasonString = props?.ReasonString };
    }

    private static MqttMessage Message(string topic, byte[] payload, MqttQualityOfService qos, bool retain, bool duplicate, PacketProperties? props) =>
        new(topic, payload, qos, retain)
        {
            Duplicate = duplicate,
            PayloadIsUtf8 = props?.PayloadFormatIndicator is { } format ? format == 1 : null,
            MessageExpiry = props?.MessageExpiryInterval is { } expiry ? TimeSpan.FromSeconds(expiry) : null,
            ContentType = props?.ContentType,
            ResponseTopic = props?.ResponseTopic,
            CorrelationData = props?.CorrelationData,
            UserProperties = props?.UserPropertiesOrEmpty ?? [],
            SubscriptionIdentifiers = (IReadOnlyList<int>?)props?.SubscriptionIdentifiers ?? [],
            WillDelay = props?.WillDelayInterval is { } delay ? TimeSpan.FromSeconds(delay) : null,
        };
}
