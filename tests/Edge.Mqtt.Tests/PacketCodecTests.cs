using System.Buffers;
using System.Text;
using Edge.Mqtt;

namespace Edge.Mqtt.Tests;

public sealed class PacketCodecTests
{
    public static TheoryData<MqttProtocolVersion> Versions => new() { MqttProtocolVersion.V311, MqttProtocolVersion.V500 };

    private static byte[] Encode(MqttPacket packet, MqttProtocolVersion version)
    {
        using var writer = new PacketWriter(16);
        PacketEncoder.Write(writer, packet, version);
        return writer.WrittenSpan.ToArray();
    }

    private static MqttPacket Decode(byte[] bytes, MqttProtocolVersion version)
    {
        var sequence = new ReadOnlySequence<byte>(bytes);
        Assert.True(PacketDecoder.TryReadFrame(sequence, out var first, out var header, out var length));
        Assert.Equal(bytes.Length, header + length);
        return PacketDecoder.Decode(first, bytes.AsSpan(header, length), version);
    }

    private static T RoundTrip<T>(T packet, MqttProtocolVersion version)
        where T : MqttPacket => Assert.IsType<T>(Decode(Encode(packet, version), version));

    [Theory]
    [InlineData(0, new byte[] { 0x00 })]
    [InlineData(127, new byte[] { 0x7F })]
    [InlineData(128, new byte[] { 0x80, 0x01 })]
    [InlineData(16_383, new byte[] { 0xFF, 0x7F })]
    [InlineData(16_384, new byte[] { 0x80, 0x80, 0x01 })]
    [InlineData(2_097_151, new byte[] { 0xFF, 0xFF, 0x7F })]
    [InlineData(2_097_152, new byte[] { 0x80, 0x80, 0x80, 0x01 })]
    [InlineData(268_435_455, new byte[] { 0xFF, 0xFF, 0xFF, 0x7F })]
    public void VariableInteger_EncodesTheSpecificationExamples(int value, byte[] expected)
    {
        var buffer = new byte[4];
        var count = PacketWriter.EncodeVariableInteger(value, buffer);

        Assert.Equal(expected, buffer[..count]);
        Assert.Equal(expected.Length, PacketWriter.VariableIntegerSize(value));
    }

    [Fact]
    public void VariableInteger_AboveTheMaximum_IsRejected() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => PacketWriter.EncodeVariableInteger(268_435_456, new byte[4]));

    [Fact]
    public void Connect_V311_MatchesTheSpecificationBytes()
    {
        var bytes = Encode(new ConnectPacket { ClientId = "c", KeepAliveSeconds = 60, CleanStart = true }, MqttProtocolVersion.V311);

        // 0x10, remaining 13, "MQTT", level 4, flags clean, keep alive 60, client id "c".
        Assert.Equal(new byte[] { 0x10, 13, 0, 4, (byte)'M', (byte)'Q', (byte)'T', (byte)'T', 4, 0x02, 0, 60, 0, 1, (byte)'c' }, bytes);
    }

    [Theory]
    [MemberData(nameof(Versions))]
    public void Connect_WithEverything_RoundTrips(MqttProtocolVersion version)
    {
        var v5 = version == MqttProtocolVersion.V500;
        var will = new MqttMessage("edge/status", "offline"u8.ToArray(), MqttQualityOfService.AtLeastOnce, retain: true)
        {
            ContentType = v5 ? "text/plain" : null,
            WillDelay = v5 ? TimeSpan.FromSeconds(5) : null,
        };
        var packet = new ConnectPacket
        {
            ProtocolVersion = version,
            ClientId = "plugin-1",
            CleanStart = false,
            KeepAliveSeconds = 30,
            UserName = "plugin",
            Password = "sécret"u8.ToArray(),
            Will = will,
            SessionExpiryInterval = v5 ? 3600u : 0,
            ReceiveMaximum = v5 ? (ushort)50 : null,
            TopicAliasMaximum = v5 ? (ushort)10 : (ushort)0,
            UserProperties = v5 ? [new("app", "edge"), new("app", "twice")] : [],
        };

        var decoded = RoundTrip(packet, version);

        Assert.Equal(version, decoded.ProtocolVersion);
        Assert.Equal("plugin-1", decoded.ClientId);
        Assert.False(decoded.CleanStart);
        Assert.Equal(30, decoded.KeepAliveSeconds);
        Assert.Equal("plugin", decoded.UserName);
        Assert.Equal("sécret"u8.ToArray(), decoded.Password!.Value.ToArray());
        Assert.Equal("edge/status", decoded.Will!.Topic);
        Assert.Equal("offline", decoded.Will.PayloadText);
        Assert.Equal(MqttQualityOfService.AtLeastOnce, decoded.Will.Qos);
        Assert.True(decoded.Will.Retain);
        Assert.Equal(packet.SessionExpiryInterval, decoded.SessionExpiryInterval);
        Assert.Equal(packet.ReceiveMaximum, decoded.ReceiveMaximum);
        Assert.Equal(packet.UserProperties, decoded.UserProperties);
        Assert.Equal(will.ContentType, decoded.Will.ContentType);
        Assert.Equal(will.WillDelay, decoded.Will.WillDelay);
    }

    [Theory]
    [MemberData(nameof(Versions))]
    public void ConnAck_RoundTripsReasonAndSessionPresent(MqttProtocolVersion version)
    {
        var v5 = version == MqttProtocolVersion.V500;
        var decoded = RoundTrip(
            new ConnAckPacket
            {
                SessionPresent = false,
                ReasonCode = MqttReasonCode.BadUserNameOrPassword,
                ReasonString = v5 ? "wrong password" : null,
                ReceiveMaximum = v5 ? (ushort)20 : null,
                AssignedClientIdentifier = v5 ? "auto-1" : null,
                MaximumQos = v5 ? MqttQualityOfService.AtLeastOnce : null,
            },
            version);

        Assert.Equal(MqttReasonCode.BadUserNameOrPassword, decoded.ReasonCode);
        Assert.False(decoded.SessionPresent);
        if (v5)
        {
            Assert.Equal("wrong password", decoded.ReasonString);
            Assert.Equal((ushort)20, decoded.ReceiveMaximum);
            Assert.Equal("auto-1", decoded.AssignedClientIdentifier);
            Assert.Equal(MqttQualityOfService.AtLeastOnce, decoded.MaximumQos);
        }

        Assert.True(RoundTrip(new ConnAckPacket { SessionPresent = true }, version).SessionPresent);
    }

    [Theory]
    [MemberData(nameof(Versions))]
    public void Publish_RoundTripsFlagsIdAndPayload(MqttProtocolVersion version)
    {
        var payload = new byte[300];
        new Random(7).NextBytes(payload);
        var decoded = RoundTrip(new PublishPacket { Message = new MqttMessage("a/b/ü", payload, MqttQualityOfService.ExactlyOnce, retain: true) { Duplicate = true }, PacketId = 4242 }, version);

        Assert.Equal("a/b/ü", decoded.Message.Topic);
        Assert.Equal(payload, decoded.Message.Payload.ToArray());
        Assert.Equal(MqttQualityOfService.ExactlyOnce, decoded.Message.Qos);
        Assert.True(decoded.Message.Retain);
        Assert.True(decoded.Message.Duplicate);
        Assert.Equal(4242, decoded.PacketId);
    }

    [Fact]
    public void Publish_V5_RoundTripsEveryMessageProperty()
    {
        var message = new MqttMessage("jobs/1", "{}"u8.ToArray(), MqttQualityOfService.AtLeastOnce)
        {
            PayloadIsUtf8 = true,
            MessageExpiry = TimeSpan.FromSeconds(90),
            ContentType = "application/json",
            ResponseTopic = "jobs/1/reply",
            CorrelationData = new byte[] { 1, 2, 3 },
            UserProperties = [new("k", "v1"), new("k", "v2")],
            SubscriptionIdentifiers = [7, 300],
        };

        var decoded = RoundTrip(new PublishPacket { Message = message, PacketId = 1, TopicAlias = 3 }, MqttProtocolVersion.V500);

        var m = decoded.Message;
        Assert.True(m.PayloadIsUtf8);
        Assert.Equal(TimeSpan.FromSeconds(90), m.MessageExpiry);
        Assert.Equal("application/json", m.ContentType);
        Assert.Equal("jobs/1/reply", m.ResponseTopic);
        Assert.Equal(new byte[] { 1, 2, 3 }, m.CorrelationData!.Value.ToArray());
        Assert.Equal(message.UserProperties, m.UserProperties);
        Assert.Equal([7, 300], m.SubscriptionIdentifiers);
        Assert.Equal((ushort)3, decoded.TopicAlias);
    }

    [Fact]
    public void Publish_V5_EmptyTopicWithAlias_IsAccepted()
    {
        var decoded = RoundTrip(new PublishPacket { Message = new MqttMessage(string.Empty, "x"u8.ToArray()), TopicAlias = 2 }, MqttProtocolVersion.V500);

        Assert.Equal(string.Empty, decoded.Message.Topic);
        Assert.Equal((ushort)2, decoded.TopicAlias);
    }

    [Fact]
    public void Publish_LargePayload_UsesAFourByteRemainingLength()
    {
        var payload = new byte[2_100_000];
        var bytes = Encode(new PublishPacket { Message = new MqttMessage("big", payload) }, MqttProtocolVersion.V311);

        Assert.Equal(1 + 4 + 2 + 3 + payload.Length, bytes.Length);
        Assert.Equal(payload.Length, Assert.IsType<PublishPacket>(Decode(bytes, MqttProtocolVersion.V311)).Message.Payload.Length);
    }

    [Theory]
    [InlineData(4, MqttReasonCode.Success, null)]
    [InlineData(5, MqttReasonCode.NoMatchingSubscribers, null)]
    [InlineData(6, MqttReasonCode.PacketIdentifierNotFound, "gone")]
    [InlineData(7, MqttReasonCode.Success, null)]
    [InlineData(4, MqttReasonCode.QuotaExceeded, "slow down")]
    public void Acks_V5_RoundTripReasonCodeAndString(int packetType, MqttReasonCode reason, string? reasonString)
    {
        var type = (PacketType)packetType;
        var decoded = RoundTrip(new AckPacket(type, 65535, reason, reasonString), MqttProtocolVersion.V500);

        Assert.Equal(type, decoded.Type);
        Assert.Equal(65535, decoded.PacketId);
        Assert.Equal(reason, decoded.ReasonCode);
        Assert.Equal(reasonString, decoded.ReasonString);
    }

    [Fact]
    public void Acks_SuccessIsTheShortTwoByteForm()
    {
        Assert.Equal(new byte[] { 0x40, 2, 0, 9 }, Encode(new AckPacket(PacketType.PubAck, 9), MqttProtocolVersion.V500));
        Assert.Equal(new byte[] { 0x62, 2, 0, 9 }, Encode(new AckPacket(PacketType.PubRel, 9), MqttProtocolVersion.V311));
    }

    [Theory]
    [MemberData(nameof(Versions))]
    public void Subscribe_RoundTripsFiltersAndOptions(MqttProtocolVersion version)
    {
        var v5 = version == MqttProtocolVersion.V500;
        var subscriptions = new[]
        {
            new MqttSubscription("$share/workers/jobs/#", MqttQualityOfService.ExactlyOnce),
            new MqttSubscription("sensors/+/temp", MqttQualityOfService.AtMostOnce) { NoLocal = v5, RetainAsPublished = v5, RetainHandling = v5 ? MqttRetainHandling.DoNotSend : MqttRetainHandling.SendAtSubscribe },
        };

        var decoded = RoundTrip(new SubscribePacket { PacketId = 12, Subscriptions = subscriptions, SubscriptionIdentifier = v5 ? 99 : null }, version);

        Assert.Equal(12, decoded.PacketId);
        Assert.Equal(subscriptions, decoded.Subscriptions);
        Assert.Equal(v5 ? 99 : null, decoded.SubscriptionIdentifier);
    }

    [Theory]
    [MemberData(nameof(Versions))]
    public void SubAck_AndUnsubAck_RoundTrip(MqttProtocolVersion version)
    {
        MqttReasonCode[] codes = [MqttReasonCode.GrantedQos2, MqttReasonCode.UnspecifiedError];
        var subAck = RoundTrip(new SubAckPacket(PacketType.SubAck, 5, codes), version);
        var unsubAck = RoundTrip(new SubAckPacket(PacketType.UnsubAck, 6, [MqttReasonCode.NoSubscriptionExisted]), version);
        var unsubscribe = RoundTrip(new UnsubscribePacket { PacketId = 6, TopicFilters = ["a/#", "b"] }, version);

        Assert.Equal(codes, subAck.ReasonCodes);
        Assert.Equal(6, unsubAck.PacketId);
        Assert.Equal(version == MqttProtocolVersion.V500 ? [MqttReasonCode.NoSubscriptionExisted] : [], unsubAck.ReasonCodes);
        Assert.Equal(["a/#", "b"], unsubscribe.TopicFilters);
    }

    [Fact]
    public void Disconnect_V5_RoundTripsReasonAndString()
    {
        var bytes = Encode(new DisconnectPacket { ReasonCode = MqttReasonCode.SessionTakenOver, ReasonString = "another client" }, MqttProtocolVersion.V500);
        var decoded = Assert.IsType<DisconnectPacket>(Decode(bytes, MqttProtocolVersion.V500));

        Assert.Equal(MqttReasonCode.SessionTakenOver, decoded.ReasonCode);
        Assert.Equal("another client", decoded.ReasonString);
        Assert.Equal(new byte[] { 0xE0, 0 }, Encode(new DisconnectPacket(), MqttProtocolVersion.V311));
        Assert.Same(PingPacket.Response, Decode([0xD0, 0], MqttProtocolVersion.V311));
    }

    [Fact]
    public void TryReadFrame_IncompletePacket_AsksForMore()
    {
        var bytes = Encode(new PublishPacket { Message = new MqttMessage("t", new byte[200]) }, MqttProtocolVersion.V311);

        for (var cut = 0; cut < bytes.Length; cut++)
        {
            Assert.False(PacketDecoder.TryReadFrame(new ReadOnlySequence<byte>(bytes, 0, cut), out _, out _, out _));
        }
    }

    [Fact]
    public void Malformed_RemainingLengthOfFiveBytes_IsRejected()
    {
        var e = Assert.Throws<MqttProtocolException>(() => PacketDecoder.TryReadFrame(new ReadOnlySequence<byte>([0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]), out _, out _, out _));

        Assert.Contains("remaining length", e.Message);
        Assert.Contains("more than 4 bytes", e.Message);
    }

    [Fact]
    public void Malformed_PacketAboveMaximumSize_IsRejected()
    {
        var e = Assert.Throws<MqttProtocolException>(() => PacketDecoder.TryReadFrame(new ReadOnlySequence<byte>([0x30, 0x80, 0x80, 0x01]), out _, out _, out _, maximumPacketSize: 1000));

        Assert.Contains("exceeds the maximum packet size of 1000", e.Message);
    }

    [Theory]
    [InlineData(new byte[] { 0x60, 2, 0, 1 }, "PUBREL", "flags are 0x0; MQTT requires 0x2")]
    [InlineData(new byte[] { 0x41, 2, 0, 1 }, "PUBACK", "flags are 0x1; MQTT requires 0x0")]
    [InlineData(new byte[] { 0x80, 6, 0, 1, 0, 1, (byte)'a', 0 }, "SUBSCRIBE", "flags are 0x0; MQTT requires 0x2")]
    [InlineData(new byte[] { 0x36, 5, 0, 1, (byte)'a', 0, 1 }, "PUBLISH", "QoS bits are 3")]
    [InlineData(new byte[] { 0x38, 3, 0, 1, (byte)'a' }, "PUBLISH", "DUP is set on a QoS 0 message")]
    [InlineData(new byte[] { 0x00, 0 }, "packet", "type 0 is reserved")]
    [InlineData(new byte[] { 0xF0, 0 }, "packet", "AUTH is MQTT 5 only")]
    public void Malformed_WrongFixedHeaderFlags_AreRejected(byte[] bytes, string packet, string problem)
    {
        var e = Assert.Throws<MqttProtocolException>(() => Decode(bytes, MqttProtocolVersion.V311));

        Assert.Contains(packet, e.Message);
        Assert.Contains(problem, e.Message);
    }

    [Fact]
    public void Malformed_TruncatedTopic_NamesTheField()
    {
        // Topic length says 10 but only 3 bytes follow.
        var e = Assert.Throws<MqttProtocolException>(() => Decode([0x30, 5, 0, 10, (byte)'a', (byte)'b', (byte)'c'], MqttProtocolVersion.V311));

        Assert.Contains("Malformed PUBLISH: truncated", e.Message);
        Assert.Contains("topic name needs 10 byte(s) but 3 remain", e.Message);
    }

    [Fact]
    public void Malformed_TruncatedAck_IsRejected()
    {
        var e = Assert.Throws<MqttProtocolException>(() => Decode([0x40, 1, 0], MqttProtocolVersion.V311));

        Assert.Contains("PUBACK", e.Message);
        Assert.Contains("packet identifier", e.Message);
    }

    [Fact]
    public void Malformed_LeftoverBytes_AreRejected()
    {
        var e = Assert.Throws<MqttProtocolException>(() => Decode([0x40, 3, 0, 1, 0], MqttProtocolVersion.V311));

        Assert.Contains("1 byte(s) left over", e.Message);
    }

    [Fact]
    public void Malformed_InvalidUtf8Topic_IsRejected()
    {
        var e = Assert.Throws<MqttProtocolException>(() => Decode([0x30, 4, 0, 2, 0xC3, 0x28], MqttProtocolVersion.V311));

        Assert.Contains("topic name is not valid UTF-8", e.Message);
    }

    [Fact]
    public void Malformed_WildcardInTopicName_IsRejected()
    {
        var e = Assert.Throws<MqttProtocolException>(() => Decode([0x30, 5, 0, 3, (byte)'a', (byte)'/', (byte)'#'], MqttProtocolVersion.V311));

        Assert.Contains("contains a wildcard", e.Message);
    }

    [Fact]
    public void Malformed_V5Properties_DuplicateUnknownOrMisplaced_AreRejected()
    {
        // PUBACK id 1, reason 0x10, properties: reason string twice.
        byte[] twice = [0x40, 11, 0, 1, 0x10, 8, 0x1F, 0, 1, (byte)'a', 0x1F, 0, 1, (byte)'b'];
        byte[] unknown = [0x40, 6, 0, 1, 0x10, 2, 0x7E, 0];
        byte[] misplaced = [0x40, 9, 0, 1, 0x10, 5, 0x11, 0, 0, 0, 1]; // session expiry in a PUBACK
        byte[] tooLong = [0x40, 6, 0, 1, 0x10, 9, 0x1F, 0];

        twice[1] = (byte)(twice.Length - 2);
        Assert.Contains("ReasonString appears more than once", Assert.Throws<MqttProtocolException>(() => Decode(twice, MqttProtocolVersion.V500)).Message);
        Assert.Contains("unknown property identifier 0x7E", Assert.Throws<MqttProtocolException>(() => Decode(unknown, MqttProtocolVersion.V500)).Message);
        Assert.Contains("SessionExpiryInterval is not allowed", Assert.Throws<MqttProtocolException>(() => Decode(misplaced, MqttProtocolVersion.V500)).Message);
        Assert.Contains("property length 9 exceeds", Assert.Throws<MqttProtocolException>(() => Decode(tooLong, MqttProtocolVersion.V500)).Message);
    }

    [Fact]
    public void Malformed_V311SubAckCode_IsRejected()
    {
        var e = Assert.Throws<MqttProtocolException>(() => Decode([0x90, 3, 0, 1, 0x03], MqttProtocolVersion.V311));

        Assert.Contains("return code 0x03", e.Message);
    }

    [Fact]
    public void Malformed_ConnectReservedFlag_IsRejected()
    {
        var bytes = Encode(new ConnectPacket { ClientId = "c" }, MqttProtocolVersion.V311);
        bytes[9] |= 0x01;

        Assert.Contains("reserved connect flag", Assert.Throws<MqttProtocolException>(() => Decode(bytes, MqttProtocolVersion.V311)).Message);
    }

    [Fact]
    public void Writer_StringOver65535Bytes_IsRejected()
    {
        using var writer = new PacketWriter();

        var e = Assert.Throws<ArgumentException>(() => PacketEncoder.WritePublish(writer, MqttProtocolVersion.V311, new string('a', 70_000), default, MqttQualityOfService.AtMostOnce, false, false, 0, null));
        Assert.Contains("at most 65535", e.Message);
    }

    [Fact]
    public void Decoder_PacketsSplitAcrossSegments_DecodeInOrder()
    {
        var first = Encode(new AckPacket(PacketType.PubAck, 1), MqttProtocolVersion.V311);
        var second = Encode(new PublishPacket { Message = new MqttMessage("x", Encoding.UTF8.GetBytes("hello")) }, MqttProtocolVersion.V311);
        var all = first.Concat(second).ToArray();

        var offset = 0;
        var decoded = new List<MqttPacket>();
        while (offset < all.Length)
        {
            var rest = new ReadOnlySequence<byte>(all, offset, all.Length - offset);
            Assert.True(PacketDecoder.TryReadFrame(rest, out var b, out var h, out var l));
            decoded.Add(PacketDecoder.Decode(b, all.AsSpan(offset + h, l), MqttProtocolVersion.V311));
            offset += h + l;
        }

        Assert.Equal(1, Assert.IsType<AckPacket>(decoded[0]).PacketId);
        Assert.Equal("hello", Assert.IsType<PublishPacket>(decoded[1]).Message.PayloadText);
    }
}
