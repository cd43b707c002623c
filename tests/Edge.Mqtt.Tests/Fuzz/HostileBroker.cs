using System.Buffers;
using System.Net;
using System.Net.Sockets;

namespace Edge.Mqtt.Tests.Fuzz;

/// <summary>
/// A TCP listener on 127.0.0.1 posing as a broker: it reads the client's CONNECT and then does whatever
/// its script says, so a test can answer with malformed, truncated or hostile bytes no real broker sends.
/// </summary>
internal sealed class HostileBroker : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly Func<NetworkStream, CancellationToken, Task> _script;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _accepting;

    /// <param name="script">Runs once per connection, after the CONNECT was read; the connection closes when it returns.</param>
    public HostileBroker(Func<NetworkStream, CancellationToken, Task> script)
    {
        _script = script;
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _accepting = AcceptAsync();
    }

    public int Port { get; }

    /// <summary>Reads one whole MQTT packet from the client; null when it closed first.</summary>
    public static async Task<byte[]?> ReadPacketAsync(Stream stream, CancellationToken cancellationToken)
    {
        var buffer = new ArrayBufferWriter<byte>();
        while (true)
        {
            if (buffer.WrittenCount > 0 && PacketDecoder.TryReadFrame(new ReadOnlySequence<byte>(buffer.WrittenMemory), out _, out var header, out var length))
            {
                return buffer.WrittenSpan[..(header + length)].ToArray();
            }

            var read = await stream.ReadAsync(buffer.GetMemory(4096), cancellationToken);
            if (read == 0)
            {
                return null;
            }

            buffer.Advance(read);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        _listener.Stop();
        await _accepting;
        _stopping.Dispose();
    }

    private async Task AcceptAsync()
    {
        var connections = new List<Task>();
        while (true)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stopping.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                break;
            }

            connections.Add(ServeAsync(client));
        }

        await Task.WhenAll(connections);
    }

    private async Task ServeAsync(TcpClient client)
    {
        using (client)
        {
            try
            {
                var stream = client.GetStream();
                if (await ReadPacketAsync(stream, _stopping.Token) is not null)
                {
                    await _script(stream, _stopping.Token);
                }
            }
            catch (Exception e) when (e is IOException or SocketException or OperationCanceledException)
            {
                // The client gave up first, which is what many cases expect of it.
            }
        }
    }
}
