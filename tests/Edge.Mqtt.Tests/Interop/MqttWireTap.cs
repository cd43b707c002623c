using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Edge.Mqtt.Tests.Interop;

/// <summary>What the client put on the wire: one PUBLISH or PUBREL, and the TCP connection (1, 2, ...) it went on.</summary>
internal readonly record struct SentPacket(PacketType Type, ushort PacketId, bool Duplicate, string Payload, int Connection);

/// <summary>
/// A TCP relay on 127.0.0.1 between one client and a broker that records every PUBLISH and PUBREL the
/// client sends. No broker reports the DUP flag or packet id it received, so this is how a test sees
/// that a resend really is a resend. When the broker drops its side, the relay drops the client's too,
/// so the client sees the broker go away exactly as without the relay.
/// </summary>
internal sealed class MqttWireTap : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly int _brokerPort;
    private readonly MqttProtocolVersion _version;
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<SentPacket> _sent = [];
    private readonly List<Task> _relays = [];
    private readonly List<Socket> _open = [];
    private readonly Task _accepting;
    private int _connections;
    private volatile bool _refusing;

    public MqttWireTap(int brokerPort, MqttProtocolVersion version)
    {
        _brokerPort = brokerPort;
        _version = version;
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _accepting = AcceptAsync();
    }

    public int Port { get; }

    /// <summary>While set, new connections are closed at once, as by a broker that is down.</summary>
    public bool Refusing
    {
        get => _refusing;
        set => _refusing = value;
    }

    /// <summary>A snapshot of what was sent so far, in wire order.</summary>
    public IReadOnlyList<SentPacket> Sent
    {
        get
        {
            lock (_sent)
            {
                return [.. _sent];
            }
        }
    }

    /// <summary>Drops every open connection at once, as a network failure would, with whatever was in flight; the broker stays up.</summary>
    public void Cut()
    {
        lock (_sent)
        {
            foreach (var socket in _open)
            {
                socket.Close();
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        _listener.Stop();
        await _accepting;
        Task[] relays;
        lock (_sent)
        {
            relays = [.. _relays];
        }

        await Task.WhenAll(relays);
        _stopping.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptSocketAsync(_stopping.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            var relay = RelayAsync(client, Interlocked.Increment(ref _connections));
            lock (_sent)
            {
                _relays.Add(relay);
            }
        }
    }

    private async Task RelayAsync(Socket client, int connection)
    {
        using var clientSocket = client;
        using var broker = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        if (Refusing)
        {
            return;
        }

        try
        {
            await broker.ConnectAsync(IPAddress.Loopback, _brokerPort, _stopping.Token);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            // The broker is down: refuse as it would, by closing at once.
            return;
        }

        lock (_sent)
        {
            _open.Add(client);
            _open.Add(broker);
        }

        using var ended = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
        var up = CopyAsync(client, broker, connection, ended);
        var down = CopyAsync(broker, client, 0, ended);
        await Task.WhenAny(up, down);
        await ended.CancelAsync();

        // Whichever side went first, the other must see the connection end as well.
        client.Close();
        broker.Close();
        await Task.WhenAll(up, down);
        lock (_sent)
        {
            _open.Remove(client);
            _open.Remove(broker);
        }
    }

    /// <summary>Copies bytes one way; from the client (connection above 0) it also decodes them.</summary>
    private async Task CopyAsync(Socket from, Socket to, int connection, CancellationTokenSource ended)
    {
        var buffer = new byte[64 * 1024];
        var pending = new ArrayBufferWriter<byte>();
        try
        {
            while (true)
            {
                var read = await from.ReceiveAsync(buffer, SocketFlags.None, ended.Token);
                if (read == 0)
                {
                    return;
                }

                if (connection > 0)
                {
                    pending.Write(buffer.AsSpan(0, read));
                    Record(pending, connection);
                }

                await to.SendAsync(buffer.AsMemory(0, read), SocketFlags.None, ended.Token);
            }
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
        {
        }
    }

    /// <summary>Takes every whole packet off the front of <paramref name="pending"/> and notes the ones a test asks about.</summary>
    private void Record(ArrayBufferWriter<byte> pending, int connection)
    {
        var consumed = 0;
        var bytes = pending.WrittenMemory;
        while (PacketDecoder.TryReadFrame(new ReadOnlySequence<byte>(bytes[consumed..]), out var first, out var header, out var length))
        {
            var body = bytes.Span.Slice(consumed + header, length);
            switch (PacketDecoder.Decode(first, body, _version))
            {
                case PublishPacket publish:
                    Add(new SentPacket(PacketType.Publish, publish.PacketId, publish.Message.Duplicate, Encoding.UTF8.GetString(publish.Message.Payload.Span), connection));
                    break;
                case AckPacket { Type: PacketType.PubRel } release:
                    Add(new SentPacket(PacketType.PubRel, release.PacketId, false, string.Empty, connection));
                    break;
            }

            consumed += header + length;
        }

        if (consumed > 0)
        {
            var rest = bytes[consumed..].ToArray();
            pending.Clear();
            pending.Write(rest);
        }
    }

    private void Add(SentPacket packet)
    {
        lock (_sent)
        {
            _sent.Add(packet);
        }
    }
}
