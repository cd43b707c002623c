namespace Edge.Mqtt;

/// <summary>MQTT control packet types (the high nibble of the first byte).</summary>
internal enum PacketType : byte
{
    Connect = 1,
    ConnAck = 2,
    Publish = 3,
    PubAck = 4,
    PubRec = 5,
    PubRel = 6,
    PubComp = 7,
    Subscribe = 8,
    SubAck = 9,
    Unsubscribe = 10,
    UnsubAck = 11,
    PingReq = 12,
    PingResp = 13,
    Disconnect = 14,
    Auth = 15,
}

internal abstract class MqttPacket
{
    public abstract PacketType Type { get; }
}

internal sealed class ConnectPacket : MqttPacket
{
    public override PacketType Type => PacketType.Connect;

    public MqttProtocolVersion ProtocolVersion { get; init; } = MqttProtocolVersion.V311;

    public string ClientId { get; init; } = string.Empty;

    public bool CleanStart { get; init; } = true;

    public ushort KeepAliveSeconds { get; init; }

    public string? UserName { get; init; }

    public ReadOnlyMemory<byte>? Password { get; init; }

    public MqttMessage? Will { get; init; }

    public uint SessionExpiryInterval { get; init; }

    public ushort? ReceiveMaximum { get; init; }

    public ushort TopicAliasMaximum { get; init; }

    public uint? MaximumPacketSize { get; init; }

    public IReadOnlyList<MqttUserProperty> UserProperties { get; init; } = [];
}

internal sealed class ConnAckPacket : MqttPacket
{
    public override PacketType Type => PacketType.ConnAck;

    public bool SessionPresent { get; init; }

    public MqttReasonCode ReasonCode { get; init; }

    public uint? SessionExpiryInterval { get; init; }

    public ushort? ReceiveMaximum { get; init; }

    public MqttQualityOfService? MaximumQos { get; init; }

    public bool? RetainAvailable { get; init; }

    public uint? MaximumPacketSize { get; init; }

    public string? AssignedClientIdentifier { get; init; }

    public ushort? TopicAliasMaximum { get; init; }

    public string? ReasonString { get; init; }

    public ushort? ServerKeepAlive { get; init; }

    public bool? SharedSubscriptionAvailable { get; init; }

    public string? ServerReference { get; init; }

    public IReadOnlyList<MqttUserProperty> UserProperties { get; init; } = [];
}

internal sealed class PublishPacket : MqttPacket
{
    public override PacketType Type => PacketType.Publish;

    /// <summary>The message; its topic is empty when the broker sent only a topic alias.</summary>
    public required MqttMessage Message { get; init; }

    public ushort PacketId { get; init; }

    public ushort? TopicAlias { get; init; }
}

/// <summary>PUBACK, PUBREC, PUBREL or PUBCOMP.</summary>
internal sealed class AckPacket(PacketType type, ushort packetId, MqttReasonCode reasonCode = MqttReasonCode.Success, string? reasonString = null) : MqttPacket
{
    public override PacketType Type { get; } = type;

    public ushort PacketId { get; } = packetId;

    public MqttReasonCode ReasonCode { get; } = reasonCode;

    public string? ReasonString { get; } = reasonString;

    public IReadOnlyList<MqttUserProperty> UserProperties { get; init; } = [];
}

internal sealed class SubscribePacket : MqttPacket
{
    public override PacketType Type => PacketType.Subscribe;

    public ushort PacketId { get; init; }

    public required IReadOnlyList<MqttSubscription> Subscriptions { get; init; }

    public int? SubscriptionIdentifier { get; init; }

    public IReadOnlyList<MqttUserProperty> UserProperties { get; init; } = [];
}

/// <summary>SUBACK or UNSUBACK: one reason code per topic filter.</summary>
internal sealed class SubAckPacket(PacketType type, ushort packetId, IReadOnlyList<MqttReasonCode> reasonCodes, string? reasonString = null) : MqttPacket
{
    public override PacketType Type { get; } = type;

    public ushort PacketId { get; } = packetId;

    public IReadOnlyList<MqttReasonCode> ReasonCodes { get; } = reasonCodes;

    public string? ReasonString { get; } = reasonString;
}

internal sealed class UnsubscribePacket : MqttPacket
{
    public override PacketType Type => PacketType.Unsubscribe;

    public ushort PacketId { get; init; }

    public required IReadOnlyList<string> TopicFilters { get; init; }
}

internal sealed class DisconnectPacket : MqttPacket
{
    public override PacketType Type => PacketType.Disconnect;

    public MqttReasonCode ReasonCode { get; init; }

    public string? ReasonString { get; init; }

    public uint? SessionExpiryInterval { get; init; }

    public string? ServerReference { get; init; }
}

internal sealed class AuthPacket : MqttPacket
{
    public override PacketType Type => PacketType.Auth;

    public MqttReasonCode ReasonCode { get; init; }

    public string? AuthenticationMethod { get; init; }

    public string? ReasonString { get; init; }
}

/// <summary>PINGREQ or PINGRESP, which carry nothing.</summary>
internal sealed class PingPacket : MqttPacket
{
    public static readonly PingPacket Request = new(PacketType.PingReq);
    public static readonly PingPacket Response = new(PacketType.PingResp);

    private PingPacket(PacketType type) => Type = type;

    public override PacketType Type { get; }
}
