using System.Threading.Tasks.Sources;

namespace Edge.Mqtt;

/// <summary>Where an outgoing message stands in the QoS flow.</summary>
internal enum PublishStage
{
    /// <summary>Accepted, not yet sent (window full or disconnected).</summary>
    Queued,

    /// <summary>Sent at QoS 1, waiting for PUBACK.</summary>
    AwaitingPubAck,

    /// <summary>Sent at QoS 2, waiting for PUBREC.</summary>
    AwaitingPubRec,

    /// <summary>PUBREL sent, waiting for PUBCOMP.</summary>
    AwaitingPubComp,
}

/// <summary>
/// An accepted message until it is acknowledged: its encoded PUBLISH (kept for retransmission),
/// its place in the in-flight order, and the completion its publisher awaits. Pooled, so a
/// QoS 1 publish allocates nothing once the pool is warm.
/// </summary>
internal sealed class PendingPublish : IValueTaskSource, IDisposable
{
    private readonly Action<PendingPublish> _return;
    private ManualResetValueTaskSourceCore<bool> _core = new() { RunContinuationsAsynchronously = true };

    public PendingPublish(Action<PendingPublish> returnToPool) => _return = returnToPool;

    /// <summary>The encoded PUBLISH packet.</summary>
    public PacketWriter Packet { get; } = new(256);

    public ushort PacketId { get; set; }

    public MqttQualityOfService Qos { get; set; }

    public PublishStage Stage { get; set; }

    public bool Retain { get; set; }

    /// <summary>Sent at least once, so a resend carries DUP.</summary>
    public bool Sent { get; set; }

    public PendingPublish? Previous { get; set; }

    public PendingPublish? Next { get; set; }

    public short Version => _core.Version;

    public void Complete() => _core.SetResult(true);

    public void Fail(Exception error) => _core.SetException(error);

    public void GetResult(short token)
    {
        try
        {
            _core.GetResult(token);
        }
        finally
        {
            _core.Reset();
            Packet.Clear();
            Previous = Next = null;
            Sent = false;
            _return(this);
        }
    }

    public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);

    public void Dispose() => Packet.Dispose();
}
