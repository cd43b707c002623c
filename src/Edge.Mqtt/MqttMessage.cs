namespace Edge.Mqtt;

/// <summary>
/// An application message: what is published, received, or left as a last will. The MQTT 5
/// properties are ignored on an MQTT 3.1.1 connection.
/// </summary>
public sealed class MqttMessage
{
    /// <summary>Creates a message for a topic.</summary>
    public MqttMessage(string topic, ReadOnlyMemory<byte> payload, MqttQualityOfService qos = MqttQualityOfService.AtMostOnce, bool retain = false)
    {
        ArgumentNullException.ThrowIfNull(topic);
        Topic = topic;
        Payload = payload;
        Qos = qos;
        Retain = retain;
    }

    /// <summary>The topic name.</summary>
    public string Topic { get; }

    /// <summary>The payload bytes.</summary>
    public ReadOnlyMemory<byte> Payload { get; }

    /// <summary>The quality of service: requested when publishing, granted when received.</summary>
    public MqttQualityOfService Qos { get; }

    /// <summary>Whether the broker keeps it as the topic's retained message (publishing), or it was a retained message (receiving).</summary>
    public bool Retain { get; }

    /// <summary>Received only: the broker sent it again after a reconnect (the DUP flag).</summary>
    public bool Duplicate { get; init; }

    /// <summary>MQTT 5: the payload is UTF-8 text (payload format indicator 1).</summary>
    public bool? PayloadIsUtf8 { get; init; }

    /// <summary>MQTT 5: how long the broker keeps it for subscribers that are offline.</summary>
    public TimeSpan? MessageExpiry { get; init; }

    /// <summary>MQTT 5: a MIME type describing the payload, such as <c>application/json</c>.</summary>
    public string? ContentType { get; init; }

    /// <summary>MQTT 5: the topic a responder should reply on.</summary>
    public string? ResponseTopic { get; init; }

    /// <summary>MQTT 5: data that ties a response to its request.</summary>
    public ReadOnlyMemory<byte>? CorrelationData { get; init; }

    /// <summary>MQTT 5: user properties, in order.</summary>
    public IReadOnlyList<MqttUserProperty> UserProperties { get; init; } = [];

    /// <summary>MQTT 5, received only: the identifiers of the subscriptions it matched.</summary>
    public IReadOnlyList<int> SubscriptionIdentifiers { get; init; } = [];

    /// <summary>MQTT 5, last will only: how long the broker waits after a disconnection before sending it.</summary>
    public TimeSpan? WillDelay { get; init; }

    /// <summary>The payload decoded as UTF-8.</summary>
    public string PayloadText => System.Text.Encoding.UTF8.GetString(Payload.Span);

    /// <summary>Received with manual acknowledgement: the packet identifier to acknowledge.</summary>
    internal ushort PacketId { get; init; }

    /// <summary>Received with manual acknowledgement: the connection it came on; an acknowledgement on any other would name a different message.</summary>
    internal MqttConnection? ReceivedOn { get; init; }

    internal MqttMessage WithTopic(string topic) => Copy(topic, PacketId, ReceivedOn);

    internal MqttMessage WithReceipt(ushort packetId, MqttConnection connection) => Copy(Topic, packetId, connection);

    private MqttMessage Copy(string topic, ushort packetId, MqttConnection? receivedOn) => new(topic, Payload, Qos, Retain)
    {
        PacketId = packetId,
        ReceivedOn = receivedOn,
        Duplicate = Duplicate,
        PayloadIsUtf8 = PayloadIsUtf8,
        MessageExpiry = MessageExpiry,
        ContentType = ContentType,
        ResponseTopic = ResponseTopic,
        CorrelationData = CorrelationData,
        UserProperties = UserProperties,
        SubscriptionIdentifiers = SubscriptionIdentifiers,
    };

    internal bool HasProperties =>
        PayloadIsUtf8 is not null || MessageExpiry is not null || ContentType is not null || ResponseTopic is not null
        || CorrelationData is not null || UserProperties.Count > 0 || WillDelay is not null;

    /// <inheritdoc />
    public override string ToString() => $"{Topic} ({Payload.Length} bytes, QoS {(int)Qos}{(Retain ? ", retained" : string.Empty)})";
}

/// <summary>One topic filter to subscribe to, with its options.</summary>
/// <param name="TopicFilter">A topic filter, which may use <c>+</c> and <c>#</c>, or <c>$share/group/filter</c> to share the messages among a group of clients.</param>
/// <param name="MaximumQos">The highest QoS at which the broker should deliver.</param>
public sealed record MqttSubscription(string TopicFilter, MqttQualityOfService MaximumQos = MqttQualityOfService.AtLeastOnce)
{
    /// <summary>MQTT 5: do not receive one's own publications.</summary>
    public bool NoLocal { get; init; }

    /// <summary>MQTT 5: keep the retain flag as published rather than clearing it on live messages.</summary>
    public bool RetainAsPublished { get; init; }

    /// <summary>MQTT 5: when retained messages are sent.</summary>
    public MqttRetainHandling RetainHandling { get; init; }
}
