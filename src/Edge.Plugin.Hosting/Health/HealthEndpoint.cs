using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Edge.Plugin.Hosting.Health;

/// <summary>
/// A minimal HTTP/1.1 responder for Kubernetes probes: <c>/healthz</c> (liveness) and <c>/readyz</c>
/// (readiness), 200 or 503 with a JSON body. Hand-written on a socket so a plugin needs no web
/// server framework and stays small and AOT-friendly.
/// </summary>
internal sealed partial class HealthEndpoint(PluginHealth health, IOptions<HealthOptions> options, ILogger<HealthEndpoint> logger) : BackgroundService
{
    private const int MaxRequestBytes = 8192;
    private TcpListener? _listener;

    /// <summary>The bound port once listening; lets tests use port 0.</summary>
    public int? Port { get; private set; }

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        if (settings.Port is { } port)
        {
            // Checked at start by HealthOptionsValidator.
            var address = IPAddress.Parse(settings.Address);

            // Bound here, not in ExecuteAsync, so a taken port fails start-up with its number named.
            _listener = new TcpListener(address, port);
            _listener.Start();
            Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
            LogListening(logger, settings.Address, Port.Value);
        }

        return base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_listener is null)
        {
            return;
        }

        using var registration = stoppingToken.Register(_listener.Stop);
        while (!stoppingToken.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException && stoppingToken.IsCancellationRequested)
            {
                break;
            }

            _ = AnswerAsync(client, stoppingToken);
        }
    }

    private async Task AnswerAsync(TcpClient client, CancellationToken stoppingToken)
    {
        using (client)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(10));
            try
            {
                var stream = client.GetStream();
                var path = await ReadRequestPathAsync(stream, timeout.Token).ConfigureAwait(false);
                var (code, body) = path switch
                {
                    null => (400, "{\"error\":\"expected GET /healthz or GET /readyz\"}"),
                    "/healthz" or "/livez" => Answer(health.Live(TimeSpan.FromSeconds(options.Value.StaleAfterSeconds))),
                    "/readyz" => Answer(health.Ready()),
                    _ => (404, "{\"error\":\"unknown path; use /healthz or /readyz\"}"),
                };
                var content = Encoding.UTF8.GetBytes(body);
                var reason = code switch { 200 => "OK", 400 => "Bad Request", 404 => "Not Found", _ => "Service Unavailable" };
                var head = Encoding.ASCII.GetBytes($"HTTP/1.1 {code} {reason}\r\nContent-Type: application/json\r\nContent-Length: {content.Length}\r\nConnection: close\r\n\r\n");
                await stream.WriteAsync(head, timeout.Token).ConfigureAwait(false);
                await stream.WriteAsync(content, timeout.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or SocketException or OperationCanceledException)
            {
                // A probe that hangs up or stalls is the prober's problem; the next probe gets a fresh answer.
            }
        }

        static (int, string) Answer(HealthReport report) => (report.Healthy ? 200 : 503, report.Json);
    }

    private static async Task<string?> ReadRequestPathAsync(NetworkStream stream, CancellationToken cancellationToken)
    {
        var buffer = new byte[MaxRequestBytes];
        var length = 0;
        while (length < buffer.Length)
        {
            var read = await stream.ReadAsync(buffer.AsMemory(length), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                break;
            }

            length += read;
            if (buffer.AsSpan(0, length).IndexOf("\r\n\r\n"u8) >= 0)
            {
                break;
            }
        }

        var request = Encoding.ASCII.GetString(buffer, 0, length);
        var firstLine = request.Split("\r\n", 2)[0].Split(' ');
        if (firstLine.Length != 3 || firstLine[0] is not ("GET" or "HEAD") || !firstLine[2].StartsWith("HTTP/1.", StringComparison.Ordinal))
        {
            return null;
        }

        return firstLine[1].Split('?', 2)[0];
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        _listener?.Stop();
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
    }

    public override void Dispose()
    {
        _listener?.Dispose();
        base.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Health endpoint on http://{Address}:{Port}/healthz and /readyz")]
    private static partial void LogListening(ILogger logger, string address, int port);
}
