namespace Edge.Mqtt;

/// <summary>MQTT 5 property identifiers (MQTT 5 section 2.2.2.2).</summary>
internal enum PropertyId : byte
{
    PayloadFormatIndicator = 0x01,
    MessageExpiryInterval = 0x02,
    ContentType = 0x03,
    ResponseTopic = 0x08,
    CorrelationData = 0x09,
    SubscriptionIdentifier = 0x0B,
    SessionExpiryInterval = 0x11,
    AssignedClientIdentifier = 0x12,
    ServerKeepAlive = 0x13,
    AuthenticationMethod = 0x15,
    AuthenticationData = 0x16,
    RequestProblemInformation = 0x17,
    WillDelayInterval = 0x18,
    RequestResponseInformation = 0x19,
    ResponseInformation = 0x1A,
    ServerReference = 0x1C,
    ReasonString = 0x1F,
    ReceiveMaximum = 0x21,
    TopicAliasMaximum = 0x22,
    TopicAlias = 0x23,
    MaximumQos = 0x24,
    RetainAvailable = 0x25,
    UserProperty = 0x26,
    MaximumPacketSize = 0x27,
    WildcardSubscriptionAvailable = 0x28,
    SubscriptionIdentifierAvailable = 0x29,
    SharedSubscriptionAvailable = 0x2A,
}

/// <summary>
/// Every MQTT 5 property one packet carried, decoded. Which properties a packet may carry is
/// checked while reading, so a PUBLISH carrying, say, a session expiry is rejected as malformed.
/// </summary>
internal sealed class PacketProperties
{
    // Bit n allows the property in packet type n; bit 0 stands for a CONNECT's will properties.
    private const int Will = 1 << 0;
    private const int Connect = 1 << 1;
    private const int ConnAck = 1 << 2;
    private const int Publish = 1 << 3;
    private const int Acks = (1 << 4) | (1 << 5) | (1 << 6) | (1 << 7);
    private const int Subscribe = 1 << 8;
    private const int SubAck = 1 << 9;
    private const int UnsubAck = 1 << 11;
    private const int Disconnect = 1 << 14;
    private const int Auth = 1 << 15;
    private const int Everywhere = 0xFFFF;

    public byte? PayloadFormatIndicator { get; private set; }

    public uint? MessageExpiryInterval { get; private set; }

    public string? ContentType { get; private set; }

    public string? ResponseTopic { get; private set; }

    public byte[]? CorrelationData { get; private set; }

    public List<int>? SubscriptionIdentifiers { get; private set; }

    public uint? SessionExpiryInterval { get; private set; }

    public string? AssignedClientIdentifier { get; private set; }

    public ushort? ServerKeepAlive { get; private set; }

    public string? AuthenticationMethod { get; private set; }

    public byte? RequestProblemInformation { get; private set; }

    public uint? WillDelayInterval { get; private set; }

    public string? ResponseInformation { get; private set; }

    public string? ServerReference { get; private set; }

    public string? ReasonString { get; private set; }

    public ushort? ReceiveMaximum { get; private set; }

    public ushort? TopicAliasMaximum { get; private set; }

    public ushort? TopicAlias { get; private set; }

    public byte? MaximumQos { get; private set; }

    public byte? RetainAvailable { get; private set; }

    public List<MqttUserProperty>? UserProperties { get; private set; }

    public uint? MaximumPacketSize { get; private set; }

    public byte? SharedSubscriptionAvailable { get; private set; }

    public IReadOnlyList<MqttUserProperty> UserPropertiesOrEmpty => (IReadOnlyList<MqttUserProperty>?)UserProperties ?? [];

    /// <summary>Reads a property block; null when it is empty, which saves an allocation for the common bare acknowledgement.</summary>
    /// <param name="reader">Positioned at the property length.</param>
    /// <param name="context">The packet type, or 0 for will properties.</param>
    public static PacketProperties? Read(ref PacketReader reader, int context)
    {
        var length = reader.ReadVariableInteger("property length");
        if (length == 0)
        {
            return null;
        }

        if (length > reader.Remaining)
        {
            throw reader.Malformed($"property length {length} exceeds the {reader.Remaining} bytes left");
        }

        var end = reader.Position + length;
        var properties = new PacketProperties();
        var seen = 0UL;
        while (reader.Position < end)
        {
            var id = reader.ReadByte("property identifier");
            var allowed = Allowed((PropertyId)id);
            if (allowed == 0)
            {
                throw reader.Malformed($"unknown property identifier 0x{id:X2}");
            }

            if ((allowed & (1 << context)) == 0)
            {
                throw reader.Malformed($"property {(PropertyId)id} is not allowed in this packet");
            }

            var repeatable = id is (byte)PropertyId.UserProperty or (byte)PropertyId.SubscriptionIdentifier;
            if (!repeatable && (seen & (1UL << id)) != 0)
            {
                throw reader.Malformed($"property {(PropertyId)id} appears more than once");
            }

            seen |= 1UL << id;
            properties.ReadValue(ref reader, (PropertyId)id);
        }

        if (reader.Position != end)
        {
            throw reader.Malformed($"the last property runs {reader.Position - end} byte(s) past the property length");
        }

        return properties;
    }

    private static int Allowed(PropertyId id) => id switch
    {
        PropertyId.PayloadFormatIndicator or PropertyId.MessageExpiryInterval or PropertyId.ContentType
            or PropertyId.ResponseTopic or PropertyId.CorrelationData => Will | Publish,
        PropertyId.SubscriptionIdentifier => Publish | Subscribe,
        PropertyId.SessionExpiryInterval => Connect | ConnAck | Disconnect,
        PropertyId.AssignedClientIdentifier or PropertyId.ServerKeepAlive or PropertyId.ResponseInformation
            or PropertyId.MaximumQos or PropertyId.RetainAvailable or PropertyId.WildcardSubscriptionAvailable
            or PropertyId.SubscriptionIdentifierAvailable or PropertyId.SharedSubscriptionAvailable => ConnAck,
        PropertyId.AuthenticationMethod or PropertyId.AuthenticationData => Connect | ConnAck | Auth,
        PropertyId.RequestProblemInformation or PropertyId.RequestResponseInformation => Connect,
        PropertyId.WillDelayInterval => Will,
        PropertyId.ServerReference => ConnAck | Disconnect,
        PropertyId.ReasonString => ConnAck | Acks | SubAck | UnsubAck | Disconnect | Auth,
        PropertyId.ReceiveMaximum or PropertyId.TopicAliasMaximum or PropertyId.MaximumPacketSize => Connect | ConnAck,
        PropertyId.TopicAlias => Publish,
        PropertyId.UserProperty => Everywhere,
        _ => 0,
    };

    private void ReadValue(ref PacketReader reader, PropertyId id)
    {
        var name = id.ToString();
        switch (id)
        {
            case PropertyId.PayloadFormatIndicator:
                PayloadFormatIndicator = ReadFlag(ref reader, name);
                break;
            case PropertyId.MessageExpiryInterval:
                MessageExpiryInterval = reader.ReadUInt32(name);
                break;
            case PropertyId.ContentType:
                ContentType = reader.ReadString(name);
                break;
            case PropertyId.ResponseTopic:
                ResponseTopic = reader.ReadString(name);
                break;
            case PropertyId.CorrelationData:
                CorrelationData = reader.ReadBinarySpan(name).ToArray();
                break;
            case PropertyId.SubscriptionIdentifier:
                var subscription = reader.ReadVariableInteger(name);
                if (subscription == 0)
                {
                    throw reader.Malformed("subscription identifier 0 is not allowed");
                }

                (SubscriptionIdentifiers ??= []).Add(subscription);
                break;
            case PropertyId.SessionExpiryInterval:
                SessionExpiryInterval = reader.ReadUInt32(name);
                break;
            case PropertyId.AssignedClientIdentifier:
                AssignedClientIdentifier = reader.ReadString(name);
                break;
            case PropertyId.ServerKeepAlive:
                ServerKeepAlive = reader.ReadUInt16(name);
                break;
            case PropertyId.AuthenticationMethod:
                AuthenticationMethod = reader.ReadString(name);
                break;
            case PropertyId.AuthenticationData:
                reader.ReadBinarySpan(name);
                break;
            case PropertyId.RequestProblemInformation:
                RequestProblemInformation = ReadFlag(ref reader, name);
                break;
            case PropertyId.WillDelayInterval:
                WillDelayInterval = reader.ReadUInt32(name);
                break;
            case PropertyId.RequestResponseInformation:
                ReadFlag(ref reader, name);
                break;
            case PropertyId.ResponseInformation:
                ResponseInformation = reader.ReadString(name);
                break;
            case PropertyId.ServerReference:
                ServerReference = reader.ReadString(name);
                break;
            case PropertyId.ReasonString:
                ReasonString = reader.ReadString(name);
                break;
            case PropertyId.ReceiveMaximum:
                ReceiveMaximum = reader.ReadUInt16(name);
                if (ReceiveMaximum == 0)
                {
                    throw reader.Malformed("receive maximum 0 is not allowed");
                }

                break;
            case PropertyId.TopicAliasMaximum:
                TopicAliasMaximum = reader.ReadUInt16(name);
                break;
            case PropertyId.TopicAlias:
                TopicAlias = reader.ReadUInt16(name);
                if (TopicAlias == 0)
                {
                    throw reader.Malformed("topic alias 0 is not allowed");
                }

                break;
            case PropertyId.MaximumQos:
                MaximumQos = ReadFlag(ref reader, name);
                break;
            case PropertyId.RetainAvailable:
                RetainAvailable = ReadFlag(ref reader, name);
                break;
            case PropertyId.UserProperty:
                var key = reader.ReadString("user property name");
                (UserProperties ??= []).Add(new MqttUserProperty(key, reader.ReadString("user property value")));
                break;
            case PropertyId.MaximumPacketSize:
                MaximumPacketSize = reader.ReadUInt32(name);
                if (MaximumPacketSize == 0)
                {
                    throw reader.Malformed("maximum packet size 0 is not allowed");
                }

                break;
            case PropertyId.SharedSubscriptionAvailable:
                SharedSubscriptionAvailable = ReadFlag(ref reader, name);
                break;
            default:
                ReadFlag(ref reader, name);
                break;
        }
    }

    private static byte ReadFlag(ref PacketReader reader, string name)
    {
        var value = reader.ReadByte(name);
        return value <= 1 ? value : throw reader.Malformed($"{name} is {value}; only 0 or 1 is allowed");
    }
}
