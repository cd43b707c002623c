using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Edge.Storage.Tests;

/// <summary>
/// A minimal HTTP/1.1 file server on 127.0.0.1 (a free port) that can go silent mid-body while keeping
/// the connection open, the way a wedged proxy or a half-dead edge link does. It honours range
/// requests (with If-Range) and conditional GETs, so the resume path is exercised for real.
/// </summary>
internal sealed class StallingHttpServer : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentBag<TcpClient> _clients = [];
    private readonly Task _accepting;
    private int _stallsLeft;

    public StallingHttpServer(byte[] content, string etag)
    {
        Content = content;
        ETag = etag;
        _listener.Start();
        _accepting = AcceptAsync();
    }

    public byte[] Content { get; set; }

    public string ETag { get; set; }

    /// <summary>How many body bytes a stalling response sends before it goes silent.</summary>
    public int StallAfter { get; set; }

    /// <summary>How many of the next GETs that carry a body stall; the rest are served whole.</summary>
    public int StallsLeft { get => Volatile.Read(ref _stallsLeft); set => Volatile.Write(ref _stallsLeft, value); }

    /// <summary>The Range header of every GET received, in order ("" when there was none).</summary>
    public ConcurrentQueue<string> Ranges { get; } = new();

    public string Url(string name) => $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/{name}";

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        foreach (var client in _clients)
        {
            client.Dispose();
        }

        await _accepting.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            var client = await _listener.AcceptTcpClientAsync(_stop.Token);
            _clients.Add(client);
            _ = Task.Run(() => ServeAsync(client));
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        try
        {
            var stream = client.GetStream();
            var headers = await ReadHeadersAsync(stream);
            var range = headers.GetValueOrDefault("range", "");
            Ranges.Enqueue(range);
            var content = Content;
            var etag = ETag;
            if (headers.GetValueOrDefault("if-none-match") == etag)
            {
                await WriteAsync(stream, $"HTTP/1.1 304 Not Modified\r\nETag: {etag}\r\nConnection: close\r\n\r\n");
                return;
            }

            var from = 0;
            var status = "200 OK";
            var ifRange = headers.GetValueOrDefault("if-range");
            if (range.StartsWith("bytes=", StringComparison.Ordinal) && range.EndsWith('-') && (ifRange is null || ifRange == etag))
            {
                from = int.Parse(range["bytes=".Length..^1], System.Globalization.CultureInfo.InvariantCulture);
                status = "206 Partial Content";
            }

            var length = content.Length - from;
            var head = $"HTTP/1.1 {status}\r\nContent-Type: application/octet-stream\r\nContent-Length: {length}\r\nETag: {etag}\r\nAccept-Ranges: bytes\r\n"
                + (from > 0 ? $"Content-Range: bytes {from}-{content.Length - 1}/{content.Length}\r\n" : "")
                + "Connection: close\r\n\r\n";
            await WriteAsync(stream, head);
            if (Interlocked.Decrement(ref _stallsLeft) >= 0)
            {
                await stream.WriteAsync(content.AsMemory(from, Math.Min(StallAfter, length)), _stop.Token);
                await stream.FlushAsync(_stop.Token);

                // Silent, but the socket stays open: only an inactivity timeout on the client notices.
                await Task.Delay(Timeout.Infinite, _stop.Token);
            }

            await stream.WriteAsync(content.AsMemory(from, length), _stop.Token);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
        {
            // The client gave up on this connection, or the server is stopping.
        }
        finally
        {
            client.Dispose();
        }
    }

    private async Task<Dictionary<string, string>> ReadHeadersAsync(NetworkStream stream)
    {
        var bytes = new List<byte>();
        var one = new byte[1];
        while (bytes.Count < 4 || bytes[^4] != '\r' || bytes[^3] != '\n' || bytes[^2] != '\r' || bytes[^1] != '\n')
        {
            if (await stream.ReadAsync(one, _stop.Token) == 0)
            {
                throw new IOException("the client closed before sending its request");
            }

            bytes.Add(one[0]);
        }

        var lines = Encoding.ASCII.GetString([.. bytes]).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("GET ", lines[0], StringComparison.Ordinal);
        return lines.Skip(1)
            .Select(l => l.Split(':', 2))
            .ToDictionary(p => p[0].Trim().ToLowerInvariant(), p => p[1].Trim(), StringComparer.Ordinal);
    }

    private async Task WriteAsync(NetworkStream stream, string text) => await stream.WriteAsync(Encoding.ASCII.GetBytes(text), _stop.Token);
}
