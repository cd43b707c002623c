
namespace Edge.Mqtt.Tests.Fuzz;

/// <summary>
/// Packets a broker may send, valid ones encoded by our encoder, and the ways of breaking them: bit
/// flips, overwritten bytes, truncation, insertion, a rewritten remaining length, a huge declared length.
/// Every choice comes from the caller's seeded <see cref="Random"/>, so a case is replayable.
/// </summary>
internal static class FuzzCorpus
{
    // Every identifier MQTT 5 defines, plus ones it does not, for property blocks.
    private static readonly byte[] PropertyIds = [0x00, 0x01, 0x02, 0x03, 0x08, 0x09, 0x0B, 0x11, 0x12, 0x13, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1A, 0x1C, 0x1F, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2A, 0x2B, 0x40, 0x7F, 0x80, 0xFF];

    public static byte[] RandomBytes(Random random, int maximumLength)
    {
        var bytes = new byte[random.Next(maximumLength + 1)];
        random.NextBytes(bytes);
        return bytes;
    }

    /// <summary>A CONNACK, valid unless mutated later; under MQTT 5 with a random selection of its properties.</summary>
    public static byte[] ConnAck(Random random, MqttProtocolVersion version, bool success = false, bool valid = false)
    {
        var v5 = version == MqttProtocolVersion.V500;
        MqttReasonCode[] codes = v5
            ? [MqttReasonCode.Success, MqttReasonCode.NotAuthorized, MqttReasonCode.ServerBusy, MqttReasonCode.UseAnotherServer]
            : [MqttReasonCode.Success, MqttReasonCode.BadUserNameOrPassword, MqttReasonCode.ServerUnavailable];
        var some = (Func<bool>)(() => v5 && random.Next(3) == 0);
        var packet = new ConnAckPacket
        {
            SessionPresent = random.Next(2) == 0,
            ReasonCode = success ? MqttReasonCode.Success : codes[random.Next(codes.Length)],
            SessionExpiryInterval = some() ? (uint)random.Next() : null,
            ReceiveMaximum = some() ? (ushort)random.Next(1, 65536) : null,
            MaximumQos = some() ? (MqttQualityOfService)random.Next(2) : null,
            RetainAvailable = some() ? random.Next(2) == 0 : null,
            MaximumPacketSize = some() ? (uint)random.Next(1, int.MaxValue) : null,
            AssignedClientIdentifier = some() ? $"assigned-{random.Next()}" : null,
            TopicAliasMaximum = some() ? (ushort)random.Next(65536) : null,
            ReasonString = some() ? "reason ü" : null,

            // A valid answer keeps the keep-alive the client asked for (none), so a case cannot idle for long.
            ServerKeepAlive = !valid && some() ? (ushort)random.Next(65536) : null,
            UserProperties = some() ? [new("k", "v")] : [],
        };
        return Encode(packet, version);
    }

    /// <summary>Any packet a broker sends after CONNACK, valid.</summary>
    public static byte[] AnyBrokerPacket(Random random, MqttProtocolVersion version)
    {
        var v5 = version == MqttProtocolVersion.V500;
        var id = (ushort)random.Next(1, 65536);
        var qos = (MqttQualityOfService)random.Next(3);
        MqttPacket packet = random.Next(9) switch
        {
            0 or 1 => new PublishPacket
            {
                Message = new MqttMessage(random.Next(4) == 0 && v5 ? string.Empty : $"t/{random.Next(100)}", RandomBytes(random, 40), qos, random.Next(2) == 0)
                {
                    Duplicate = qos != MqttQualityOfService.AtMostOnce && random.Next(2) == 0,
                    ContentType = v5 && random.Next(2) == 0 ? "text/plain" : null,
                    UserProperties = v5 && random.Next(2) == 0 ? [new("a", "b")] : [],
                },
                PacketId = qos == MqttQualityOfService.AtMostOnce ? (ushort)0 : id,
                TopicAlias = v5 && random.Next(2) == 0 ? (ushort)random.Next(1, 100) : null,
            },
            2 => new AckPacket(PacketType.PubAck, id, v5 ? MqttReasonCode.NoMatchingSubscribers : MqttReasonCode.Success),
            3 => new AckPacket(PacketType.PubRec, id),
            4 => new AckPacket(PacketType.PubRel, id),
            5 => new AckPacket(PacketType.PubComp, id, MqttReasonCode.Success, v5 ? "done" : null),
            6 => new SubAckPacket(random.Next(2) == 0 ? PacketType.SubAck : PacketType.UnsubAck, id, [MqttReasonCode.GrantedQos1, MqttReasonCode.UnspecifiedError]),
            7 => PingPacket.Response,
            _ => new DisconnectPacket { ReasonCode = v5 ? MqttReasonCode.ServerShuttingDown : MqttReasonCode.Success, ReasonString = v5 ? "bye" : null },
        };
        return random.Next(20) == 0 && v5 ? [0xF0, 0x03, 0x18, 0x01, 0x00] : Encode(packet, version);
    }

    /// <summary>An MQTT 5 CONNACK whose property block holds a random identifier with a random value after it.</summary>
    public static byte[] ConnAckWithRandomProperty(Random random)
    {
        var properties = new List<byte>();
        for (var i = random.Next(1, 4); i > 0; i--)
        {
            properties.Add(PropertyIds[random.Next(PropertyIds.Length)]);
            properties.AddRange(RandomBytes(random, 6));
        }

        return [0x20, (byte)(3 + properties.Count), 0x00, 0x00, (byte)properties.Count, .. properties];
    }

    /// <summary>A fixed header declaring 2 MiB to 256 MiB, followed by a few bytes of it.</summary>
    public static byte[] HugeLength(Random random)
    {
        var first = (byte)((random.Next(1, 16) << 4) | (random.Next(2) == 0 ? 0 : random.Next(16)));
        var length = random.Next(1 << 21, PacketWriter.MaxRemainingLength + 1);
        var header = new byte[4];
        var size = PacketWriter.EncodeVariableInteger(length, header);
        return [first, .. header[..size], .. RandomBytes(random, 32)];
    }

    /// <summary>Breaks a valid packet in one to three ways.</summary>
    public static byte[] Mutate(Random random, byte[] valid)
    {
        var bytes = new List<byte>(valid);
        for (var i = random.Next(1, 4); i > 0; i--)
        {
            var at = bytes.Count == 0 ? 0 : random.Next(bytes.Count);
            switch (random.Next(7))
            {
                case 0 when bytes.Count > 0:
                    bytes[at] ^= (byte)(1 << random.Next(8));
                    break;
                case 1 when bytes.Count > 0:
                    bytes[at] = (byte)random.Next(256);
                    break;
                case 2:
                    bytes.RemoveRange(at, bytes.Count - at);
                    break;
                case 3:
                    bytes.InsertRange(at, RandomBytes(random, 8));
                    break;
                case 4 when bytes.Count > 1:
                    // The remaining length no longer matches the body: a prefix of valid bytes, then garbage.
                    bytes[1] = (byte)random.Next(128);
                    break;
                case 5 when bytes.Count > at + 1:
                    bytes.RemoveAt(at);
                    break;
                default:
                    bytes.AddRange(RandomBytes(random, 16));
                    break;
            }
        }

        return [.. bytes];
    }

    private static byte[] Encode(MqttPacket packet, MqttProtocolVersion version)
    {
        using var writer = new PacketWriter(64);
        PacketEncoder.Write(writer, packet, version);
        return writer.WrittenSpan.ToArray();
    }
}
