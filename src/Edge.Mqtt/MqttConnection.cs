using System.IO.Pipelines;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;

namespace Edge.Mqtt;

/// <summary>
/// One network connection to the broker: the socket or TLS stream, the read pipe, and the two
/// outgoing buffers (one filling under the client's lock while the other is on the wire).
/// The session outlives it; a reconnect makes a new one.
/// </summary>
internal sealed class MqttConnection : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly TaskCompletionSource<Exception?> _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private string?[] _topicAliases = [];

    private MqttConnection(Socket socket, Stream stream, MqttProtocolVersion version)
    {
        _socket = socket;
        Stream = stream;
        Version = version;
        Reader = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 65536, minimumReadSize: 4096, leaveOpen: true));
    }

    public Stream Stream { get; }

    public PipeReader Reader { get; }

    public MqttProtocolVersion Version { get; }

    /// <summary>Filled by publishers under the client's lock.</summary>
    public PacketWriter Outgoing { get; set; } = new(128 * 1024);

    /// <summary>On the wire, or empty.</summary>
    public PacketWriter Writing { get; set; } = new(128 * 1024);

    public AsyncSignal WriteSignal { get; } = new();

    public CancellationTokenSource Stopping { get; } = new();

    /// <summary>DISCONNECT is queued: close once everything is written.</summary>
    public bool Disconnecting { get; set; }

    /// <summary>The read, write and keep-alive loops together.</summary>
    public Task Loops { get; set; } = Task.CompletedTask;

    public long LastSentTicks { get; set; } = Environment.TickCount64;

    public long LastReceivedTicks { get; set; } = Environment.TickCount64;

    public int MaximumOutgoingPacketSize { get; set; } = PacketWriter.MaxRemainingLength + 5;

    public MqttQualityOfService MaximumQos { get; set; } = MqttQualityOfService.ExactlyOnce;

    public bool RetainAvailable { get; set; } = true;

    /// <summary>The broker's downgrade of QoS 2 to QoS 1 was logged, so a stream of them logs once.</summary>
    public bool QosDowngradeLogged { get; set; }

    /// <summary>Completes with the cause once the connection is closed.</summary>
    public Task<Exception?> Closed => _closed.Task;

    public bool IsClosed => _closed.Task.IsCompleted;

    public static async Task<MqttConnection> OpenAsync(MqttClientOptions options, CancellationToken cancellationToken)
    {
        var port = options.Port != 0 ? options.Port : options.Tls is null ? 1883 : 8883;
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(options.Host, port, cancellationToken).ConfigureAwait(false);
            Stream stream = new NetworkStream(socket, ownsSocket: false);
            if (options.Tls is { } tls)
            {
                var ssl = new SslStream(stream, leaveInnerStreamOpen: false);
                stream = ssl;
                await ssl.AuthenticateAsClientAsync(TlsOptions(options.Host, tls), cancellationToken).ConfigureAwait(false);
            }

            return new MqttConnection(socket, stream, options.ProtocolVersion);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public void SetTopicAliasMaximum(int maximum) => _topicAliases = new string?[maximum + 1];

    /// <summary>Applies an incoming topic alias (MQTT 5 section 3.3.2.3.4): a topic sets it, an empty topic uses it.</summary>
    public string ResolveTopicAlias(string topic, ushort alias)
    {
        if (alias >= _topicAliases.Length)
        {
            throw new MqttProtocolException($"The broker used topic alias {alias}, above the maximum of {_topicAliases.Length - 1} this client allows.");
        }

        if (topic.Length > 0)
        {
            _topicAliases[alias] = topic;
            return topic;
        }

        return _topicAliases[alias] ?? throw new MqttProtocolException($"The broker used topic alias {alias} before giving its topic.");
    }

    /// <summary>Marks the connection closed (the first cause wins) and stops its loops.</summary>
    public bool Close(Exception? cause)
    {
        if (!_closed.TrySetResult(cause))
        {
            return false;
        }

        try
        {
            Stopping.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }

        // Shutting the socket unblocks a read or write in progress at once.
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
        }
        catch (ObjectDisposedException)
        {
        }

        WriteSignal.Set();
        return true;
    }

    public async ValueTask DisposeAsync()
    {
        Close(null);
        await Reader.CompleteAsync().ConfigureAwait(false);
        await Stream.DisposeAsync().ConfigureAwait(false);
        _socket.Dispose();
        Stopping.Dispose();

        // Called once the loops have ended, so nothing writes into the buffers any more: back to the pool.
        Outgoing.Dispose();
        Writing.Dispose();
    }

    private static SslClientAuthenticationOptions TlsOptions(string host, MqttTlsOptions tls)
    {
        var auth = new SslClientAuthenticationOptions
        {
            TargetHost = tls.TargetHost ?? host,
            EnabledSslProtocols = tls.Protocols,
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
        };
        if (tls.ClientCertificate is { } certificate)
        {
            auth.ClientCertificates = [certificate];
        }

        if (tls.CaCertificates is { Count: > 0 } cas)
        {
            var policy = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, RevocationMode = X509RevocationMode.NoCheck };
            policy.CustomTrustStore.AddRange(cas);
            auth.CertificateChainPolicy = policy;
        }

        return auth;
    }
}
