using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace Edge.Mqtt;

/// <summary>How an <see cref="MqttClient"/> connects and behaves.</summary>
public sealed class MqttClientOptions
{
    /// <summary>The broker's host name or address.</summary>
    public string Host { get; set; } = "localhost";

    /// <summary>The broker's port; 0 means 1883, or 8883 with TLS.</summary>
    public int Port { get; set; }

    /// <summary>The protocol version. Default MQTT 3.1.1, which every broker speaks.</summary>
    public MqttProtocolVersion ProtocolVersion { get; set; } = MqttProtocolVersion.V311;

    /// <summary>The client identifier; empty means a random one. A persistent session needs a stable one.</summary>
    public string ClientId { get; set; } = string.Empty;

    /// <summary>The user name, or null for none.</summary>
    public string? UserName { get; set; }

    /// <summary>The password, or null for none.</summary>
    public string? Password { get; set; }

    /// <summary>
    /// True (the default) starts each connection with a fresh session. False resumes the broker's
    /// session: subscriptions survive and QoS 1 and 2 messages queued for the client are delivered.
    /// </summary>
    public bool CleanSession { get; set; } = true;

    /// <summary>MQTT 5: how long the broker keeps the session after a disconnection. Default: 0 for a clean session, forever otherwise.</summary>
    public TimeSpan? SessionExpiry { get; set; }

    /// <summary>The longest silence before a PINGREQ is sent; also how soon a dead broker is noticed. Zero disables it. Default 30 s.</summary>
    public TimeSpan KeepAlive { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The last will: published by the broker when the client vanishes without a DISCONNECT.</summary>
    public MqttMessage? Will { get; set; }

    /// <summary>TLS settings; null for plain TCP.</summary>
    public MqttTlsOptions? Tls { get; set; }

    /// <summary>How long a connection attempt (TCP, TLS and CONNACK) may take. Default 10 s.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Whether a lost connection is re-established automatically. Default true.</summary>
    public bool AutoReconnect { get; set; } = true;

    /// <summary>The first delay before reconnecting; it doubles after each failure. Default 100 ms.</summary>
    public TimeSpan ReconnectMinDelay { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>The longest delay between reconnection attempts. Default 30 s.</summary>
    public TimeSpan ReconnectMaxDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The most QoS 1 and 2 messages sent but not yet acknowledged; MQTT 5 brokers may lower it. Default 100.
    /// Under MQTT 3.1.1 a broker cannot announce its own limit: keep this at or below it for QoS 2
    /// (mosquitto's max_inflight_messages is 20 by default, and mosquitto 2.0.11 drops QoS 2 messages beyond it).
    /// </summary>
    public int MaxInflight { get; set; } = 100;

    /// <summary>
    /// The most messages accepted but not yet acknowledged (in flight, or queued while disconnected).
    /// A publish beyond it waits for room. Default 10,000; at most 60,000, since each holds a packet identifier.
    /// </summary>
    public int MaxPendingMessages { get; set; } = 10_000;

    /// <summary>How many received messages may wait in <see cref="MqttClient.Messages"/> before reading from the broker pauses. Default 1,000.</summary>
    public int IncomingCapacity { get; set; } = 1_000;

    /// <summary>
    /// False (the default) acknowledges a received QoS 1 or 2 message as it enters
    /// <see cref="MqttClient.Messages"/>. True leaves that to <see cref="MqttClient.Acknowledge(MqttMessage)"/>, so
    /// that a message whose handler dies before finishing stays in the broker's session and is sent again.
    /// </summary>
    public bool AcknowledgeManually { get; set; }

    /// <summary>MQTT 5: how many QoS 1 and 2 messages the broker may send before acknowledgement. Default 100.</summary>
    public ushort ReceiveMaximum { get; set; } = 100;

    /// <summary>MQTT 5: how many topic aliases the broker may use towards this client. Default 64.</summary>
    public ushort TopicAliasMaximum { get; set; } = 64;

    /// <summary>MQTT 5: user properties sent with CONNECT.</summary>
    public IReadOnlyList<MqttUserProperty> ConnectUserProperties { get; set; } = [];
}

/// <summary>TLS settings of an MQTT connection.</summary>
public sealed class MqttTlsOptions
{
    /// <summary>The name the server certificate must carry; default the host name.</summary>
    public string? TargetHost { get; set; }

    /// <summary>Certificate authorities to trust instead of the system store, for a private CA.</summary>
    public X509Certificate2Collection? CaCertificates { get; set; }

    /// <summary>A client certificate with its private key, for brokers that require one.</summary>
    public X509Certificate2? ClientCertificate { get; set; }

    /// <summary>TLS versions; default lets the system choose.</summary>
    public SslProtocols Protocols { get; set; } = SslProtocols.None;

    /// <summary>Loads trusted CAs, and optionally a client certificate and key, from PEM files.</summary>
    public static MqttTlsOptions FromPemFiles(string? caFile, string? certificateFile = null, string? keyFile = null)
    {
        var tls = new MqttTlsOptions();
        if (caFile is { Length: > 0 })
        {
            tls.CaCertificates = [];
            tls.CaCertificates.ImportFromPemFile(caFile);
        }

        if (certificateFile is { Length: > 0 })
        {
            tls.ClientCertificate = X509Certificate2.CreateFromPemFile(certificateFile, keyFile is { Length: > 0 } ? keyFile : null);
        }

        return tls;
    }
}
