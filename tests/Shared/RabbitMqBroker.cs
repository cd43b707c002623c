using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Edge.Testing;

/// <summary>
/// A real RabbitMQ (Debian <c>rabbitmq-server</c>) on 127.0.0.1: free AMQP, distribution and epmd
/// ports, its own node name, data and logs in a temporary folder, user plugin/plugin. It can be
/// stopped and started again on the same port and data, as a broker restart on a node would.
/// With <c>mqtt: true</c> the node also runs the rabbitmq_mqtt plugin (shipped with rabbitmq-server)
/// on a free port of its own, as a third MQTT broker for the client's interop tests.
/// </summary>
internal sealed class RabbitMqBroker : IAsyncDisposable
{
    private const string ServerScript = "/usr/lib/rabbitmq/bin/rabbitmq-server";
    private const string ControlScript = "/usr/lib/rabbitmq/bin/rabbitmqctl";
    private readonly string _root;
    private readonly int _distributionPort;
    private readonly int _epmdPort;
    private Process? _server;

    private RabbitMqBroker(string root, bool mqtt)
    {
        _root = root;
        Port = Ports.Free();
        MqttPort = mqtt ? Ports.Free() : 0;
        _distributionPort = Ports.Free();
        _epmdPort = Ports.Free();
        NodeName = $"rabbit-{Guid.NewGuid():N}@localhost";
    }

    public int Port { get; }

    /// <summary>The MQTT listener's port; 0 unless started with <c>mqtt: true</c>.</summary>
    public int MqttPort { get; }

    public string NodeName { get; }

    public string LogFolder => Path.Combine(_root, "log");

    public static async Task<RabbitMqBroker> StartAsync(bool mqtt = false)
    {
        if (!File.Exists(ServerScript))
        {
            throw new InvalidOperationException($"{ServerScript} is missing: run build/setup.sh --test, which installs the Debian package rabbitmq-server.");
        }

        var root = Directory.CreateTempSubdirectory("rabbitmq-").FullName;
        var broker = new RabbitMqBroker(root, mqtt);
        var conf = $"""
            listeners.tcp.1 = 127.0.0.1:{broker.Port}
            default_user = plugin
            default_pass = plugin
            loopback_users = none

            """;

        // Anonymous MQTT clients log in as plugin, so tests need no credentials, as with mosquitto.
        var mqttConf = $"""
            mqtt.listeners.tcp.1 = 127.0.0.1:{broker.MqttPort}
            mqtt.allow_anonymous = true
            mqtt.default_user = plugin
            mqtt.default_pass = plugin

            """;
        await File.WriteAllTextAsync(Path.Combine(root, "rabbitmq.conf"), mqtt ? conf + mqttConf : conf);
        await File.WriteAllTextAsync(Path.Combine(root, "enabled_plugins"), mqtt ? "[rabbitmq_mqtt]." : "[].");
        await broker.StartAgainAsync();
        return broker;
    }

    /// <summary>Starts the broker (again) on the same port and data folder, and waits until it speaks AMQP.</summary>
    public async Task StartAgainAsync()
    {
        var info = new ProcessStartInfo(ServerScript) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        Environment(info);
        var server = Process.Start(info) ?? throw new InvalidOperationException("rabbitmq-server did not start");
        var output = new System.Text.StringBuilder();
        server.OutputDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        server.ErrorDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        server.BeginOutputReadLine();
        server.BeginErrorReadLine();
        _server = server;
        await Poll.UntilAsync(
            async () =>
            {
                if (server.HasExited)
                {
                    throw new InvalidOperationException($"rabbitmq-server exited with {server.ExitCode}:\n{output}");
                }

                // The MQTT listener comes up with its plugin, apart from AMQP's, so such a node is ready once both accept.
                return await SpeaksAmqpAsync() && (MqttPort == 0 || await AcceptsAsync(MqttPort));
            },
            TimeSpan.FromSeconds(120),
            () => $"rabbitmq-server accepts AMQP on 127.0.0.1:{Port}:\n{output}",
            interval: TimeSpan.FromMilliseconds(250));
    }

    /// <summary>Stops the broker gracefully, as an operator would, and waits until it has exited.</summary>
    public async Task StopAsync()
    {
        var server = _server;
        if (server is null || server.HasExited)
        {
            return;
        }

        var info = new ProcessStartInfo(ControlScript) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add("-n");
        info.ArgumentList.Add(NodeName);
        info.ArgumentList.Add("stop");
        Environment(info);
        using (var control = Process.Start(info)!)
        {
            await control.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token);
        }

        using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await server.WaitForExitAsync(wait.Token);
        }
        catch (OperationCanceledException)
        {
            server.Kill(entireProcessTree: true);
            await server.WaitForExitAsync();
        }

        server.Dispose();
        _server = null;
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();

        // The epmd this broker started listens on our own port; stop it by that port, touching no other.
        var info = new ProcessStartInfo("epmd") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add("-kill");
        info.Environment["ERL_EPMD_PORT"] = _epmdPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        try
        {
            using var epmd = Process.Start(info)!;
            await epmd.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(10)).Token);
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or OperationCanceledException)
        {
        }

        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private void Environment(ProcessStartInfo info)
    {
        var env = info.Environment;
        env["HOME"] = _root;
        env["RABBITMQ_NODE_IP_ADDRESS"] = "127.0.0.1";
        env["RABBITMQ_NODE_PORT"] = Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        env["RABBITMQ_DIST_PORT"] = _distributionPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        env["ERL_EPMD_PORT"] = _epmdPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        env["ERL_EPMD_ADDRESS"] = "127.0.0.1";
        env["RABBITMQ_NODENAME"] = NodeName;
        env["RABBITMQ_MNESIA_BASE"] = Path.Combine(_root, "mnesia");
        env["RABBITMQ_LOG_BASE"] = LogFolder;
        env["RABBITMQ_CONFIG_FILE"] = Path.Combine(_root, "rabbitmq.conf");
        env["RABBITMQ_ENABLED_PLUGINS_FILE"] = Path.Combine(_root, "enabled_plugins");
        env["RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS"] = "-kernel inet_dist_use_interface {127,0,0,1}";
    }

    private static async Task<bool> AcceptsAsync(int port)
    {
        try
        {
            using var client = new TcpClient();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await client.ConnectAsync(IPAddress.Loopback, port, timeout.Token);
            return true;
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            return false;
        }
    }

    private async Task<bool> SpeaksAmqpAsync()
    {
        try
        {
            using var client = new TcpClient();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await client.ConnectAsync(IPAddress.Loopback, Port, timeout.Token);
            var stream = client.GetStream();
            await stream.WriteAsync("AMQP\0\0\u0009\u0001"u8.ToArray(), timeout.Token);
            var first = new byte[1];
            return await stream.ReadAsync(first, timeout.Token) == 1 && first[0] == 1;
        }
        catch (Exception e) when (e is SocketException or IOException or OperationCanceledException)
        {
            return false;
        }
    }
}
