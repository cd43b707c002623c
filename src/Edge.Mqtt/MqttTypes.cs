namespace Edge.Mqtt;

/// <summary>The MQTT protocol revision spoken on the wire.</summary>
public enum MqttProtocolVersion
{
    /// <summary>MQTT 3.1.1 (protocol level 4).</summary>
    V311 = 4,

    /// <summary>MQTT 5.0 (protocol level 5): properties, reason codes, shared subscriptions by specification.</summary>
    V500 = 5,
}

/// <summary>Delivery guarantee of a message.</summary>
public enum MqttQualityOfService
{
    /// <summary>QoS 0: sent once, never acknowledged.</summary>
    AtMostOnce = 0,

    /// <summary>QoS 1: acknowledged with PUBACK; may arrive more than once.</summary>
    AtLeastOnce = 1,

    /// <summary>QoS 2: the PUBREC/PUBREL/PUBCOMP handshake; arrives exactly once.</summary>
    ExactlyOnce = 2,
}

/// <summary>MQTT 5 retain handling of a subscription: when the broker sends retained messages.</summary>
public enum MqttRetainHandling
{
    /// <summary>Send retained messages whenever the subscription is made.</summary>
    SendAtSubscribe = 0,

    /// <summary>Send retained messages only when the subscription did not exist before.</summary>
    SendAtNewSubscribe = 1,

    /// <summary>Never send retained messages for this subscription.</summary>
    DoNotSend = 2,
}

/// <summary>
/// MQTT reason codes (MQTT 5 section 2.4), also used for MQTT 3.1.1 CONNACK return codes after
/// translation. Values of 0x80 and above are failures.
/// </summary>
public enum MqttReasonCode
{
    /// <summary>0x00: success, normal disconnection or granted QoS 0.</summary>
    Success = 0x00,

    /// <summary>0x01: granted QoS 1.</summary>
    GrantedQos1 = 0x01,

    /// <summary>0x02: granted QoS 2.</summary>
    GrantedQos2 = 0x02,

    /// <summary>0x04: disconnect and send the will message.</summary>
    DisconnectWithWillMessage = 0x04,

    /// <summary>0x10: the message was accepted but nobody subscribes to it.</summary>
    NoMatchingSubscribers = 0x10,

    /// <summary>0x11: no subscription existed to remove.</summary>
    NoSubscriptionExisted = 0x11,

    /// <summary>0x18: continue authentication.</summary>
    ContinueAuthentication = 0x18,

    /// <summary>0x19: re-authenticate.</summary>
    ReAuthenticate = 0x19,

    /// <summary>0x80: unspecified error.</summary>
    UnspecifiedError = 0x80,

    /// <summary>0x81: malformed packet.</summary>
    MalformedPacket = 0x81,

    /// <summary>0x82: protocol error.</summary>
    ProtocolError = 0x82,

    /// <summary>0x83: implementation-specific error.</summary>
    ImplementationSpecificError = 0x83,

    /// <summary>0x84: the broker does not speak the requested protocol version.</summary>
    UnsupportedProtocolVersion = 0x84,

    /// <summary>0x85: the client identifier is not valid.</summary>
    ClientIdentifierNotValid = 0x85,

    /// <summary>0x86: bad user name or password.</summary>
    BadUserNameOrPassword = 0x86,

    /// <summary>0x87: not authorized.</summary>
    NotAuthorized = 0x87,

    /// <summary>0x88: server unavailable.</summary>
    ServerUnavailable = 0x88,

    /// <summary>0x89: server busy.</summary>
    ServerBusy = 0x89,

    /// <summary>0x8A: banned.</summary>
    Banned = 0x8A,

    /// <summary>0x8B: the server is shutting down.</summary>
    ServerShuttingDown = 0x8B,

    /// <summary>0x8C: bad authentication method.</summary>
    BadAuthenticationMethod = 0x8C,

    /// <summary>0x8D: keep-alive timeout.</summary>
    KeepAliveTimeout = 0x8D,

    /// <summary>0x8E: another connection took over the session.</summary>
    SessionTakenOver = 0x8E,

    /// <summary>0x8F: topic filter invalid.</summary>
    TopicFilterInvalid = 0x8F,

    /// <summary>0x90: topic name invalid.</summary>
    TopicNameInvalid = 0x90,

    /// <summary>0x91: packet identifier in use.</summary>
    PacketIdentifierInUse = 0x91,

    /// <summary>0x92: packet identifier not found.</summary>
    PacketIdentifierNotFound = 0x92,

    /// <summary>0x93: receive maximum exceeded.</summary>
    ReceiveMaximumExceeded = 0x93,

    /// <summary>0x94: topic alias invalid.</summary>
    TopicAliasInvalid = 0x94,

    /// <summary>0x95: packet too large.</summary>
    PacketTooLarge = 0x95,

    /// <summary>0x96: message rate too high.</summary>
    MessageRateTooHigh = 0x96,

    /// <summary>0x97: quota exceeded.</summary>
    QuotaExceeded = 0x97,

    /// <summary>0x98: administrative action.</summary>
    AdministrativeAction = 0x98,

    /// <summary>0x99: payload format invalid.</summary>
    PayloadFormatInvalid = 0x99,

    /// <summary>0x9A: retain not supported.</summary>
    RetainNotSupported = 0x9A,

    /// <summary>0x9B: QoS not supported.</summary>
    QosNotSupported = 0x9B,

    /// <summary>0x9C: use another server.</summary>
    UseAnotherServer = 0x9C,

    /// <summary>0x9D: server moved.</summary>
    ServerMoved = 0x9D,

    /// <summary>0x9E: shared subscriptions not supported.</summary>
    SharedSubscriptionsNotSupported = 0x9E,

    /// <summary>0x9F: connection rate exceeded.</summary>
    ConnectionRateExceeded = 0x9F,

    /// <summary>0xA0: maximum connect time.</summary>
    MaximumConnectTime = 0xA0,

    /// <summary>0xA1: subscription identifiers not supported.</summary>
    SubscriptionIdentifiersNotSupported = 0xA1,

    /// <summary>0xA2: wildcard subscriptions not supported.</summary>
    WildcardSubscriptionsNotSupported = 0xA2,
}

/// <summary>An MQTT 5 user property: a name/value pair; names may repeat.</summary>
/// <param name="Name">The property name.</param>
/// <param name="Value">The property value.</param>
public readonly record struct MqttUserProperty(string Name, string Value);

/// <summary>A failure reported by the broker or detected in the protocol, with the MQTT reason code when there is one.</summary>
public class MqttException : Exception
{
    /// <summary>Creates an exception with a message.</summary>
    public MqttException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception with a message and a cause.</summary>
    public MqttException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates an exception for a reason code, adding the broker's reason string to the message.</summary>
    public MqttException(string message, MqttReasonCode reasonCode, string? reasonString)
        : base(Describe(message, reasonCode, reasonString))
    {
        ReasonCode = reasonCode;
        ReasonString = reasonString;
    }

    /// <summary>Creates an exception with no message.</summary>
    public MqttException()
    {
    }

    /// <summary>The reason code the broker gave, when it gave one.</summary>
    public MqttReasonCode? ReasonCode { get; }

    /// <summary>The MQTT 5 reason string the broker gave, when it gave one.</summary>
    public string? ReasonString { get; }

    private static string Describe(string message, MqttReasonCode code, string? reasonString)
    {
        // A code MQTT does not define would otherwise print as a bare number, which reads like a bug of ours.
        var name = Enum.IsDefined(code) ? code.ToString() : "a reason code MQTT does not define";
        return reasonString is { Length: > 0 }
            ? $"{message}: {name} (0x{(int)code:X2}): {reasonString}"
            : $"{message}: {name} (0x{(int)code:X2})";
    }
}

/// <summary>A packet broke the MQTT specification: malformed, truncated or with forbidden flags. The connection is closed.</summary>
public sealed class MqttProtocolException : MqttException
{
    /// <summary>Creates the exception.</summary>
    public MqttProtocolException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with no message.</summary>
    public MqttProtocolException()
    {
    }

    /// <summary>Creates the exception with a cause.</summary>
    public MqttProtocolException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
