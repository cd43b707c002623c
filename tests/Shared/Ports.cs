using System.Net;
using System.Net.Sockets;

namespace Edge.Testing;

/// <summary>Loopback ports for servers the tests start and for endpoints that must refuse connections.</summary>
internal static class Ports
{
    /// <summary>
    /// A port on 127.0.0.1 that the OS just handed out and that is free again: mosquitto, RabbitMQ, ffmpeg
    /// and HttpListener must be told their port before they start, and a closed port makes an endpoint that
    /// refuses. Another process may take it meanwhile, so a server that can bind port 0 itself should.
    /// </summary>
    public static int Free()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
