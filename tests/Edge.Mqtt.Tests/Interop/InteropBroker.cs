using System.Net;
using Edge.Testing;
using MQTTnet.Server;

namespace Edge.Mqtt.Tests.Interop;

/// <summary>What a broker speaks, known before it starts, since xunit lists a theory's cases first.</summary>
public interface IInteropBroker
{
    static abstract IReadOnlyList<MqttProtocolVersion> Versions { get; }
}

/// <summary>
/// A real broker on 127.0.0.1, started once per test class, that can be stopped and started again
/// with its sessions kept, as an operator's restart would. Tests share it, so each uses its own topics and client ids.
/// </summary>
public abstract class InteropBroker : IAsyncLifetime
{
    public abstract string Name { get; }

    public abstract int Port { get; }

    /// <summary>
    /// Whether <see cref="StopAsync"/> and <see cref="StartAgainAsync"/> take moments, so that a stop lands in
    /// the middle of a stream of messages and a test stays short. Otherwise a relay in front of the broker
    /// drops and refuses the client's connections instead, as a network failure would.
    /// </summary>
    public virtual bool StopsAtOnce => true;

    /// <summary>The QoS the broker grants a subscription that asks for QoS 2.</summary>
    public virtual MqttQualityOfService GrantedForQos2 => MqttQualityOfService.ExactlyOnce;

    public abstract Task InitializeAsync();

    public abstract Task DisposeAsync();

    /// <summary>Stops the broker; every client connection drops and new ones are refused until <see cref="StartAgainAsync"/>.</summary>
    public abstract Task StopAsync();

    /// <summary>Starts the broker again on the same port, with the sessions it had.</summary>
    public abstract Task StartAgainAsync();
}

/// <summary>Debian's mosquitto, with persistence, stopped by SIGTERM.</summary>
public sealed class MosquittoInteropBroker : InteropBroker, IInteropBroker
{
    private MosquittoBroker? _broker;

    public static IReadOnlyList<MqttProtocolVersion> Versions { get; } = [MqttProtocolVersion.V311, MqttProtocolVersion.V500];

    public override string Name => "mosquitto";

    public override int Port => Broker.Port;

    private MosquittoBroker Broker => _broker ?? throw new InvalidOperationException("The broker is not started.");

    public override async Task InitializeAsync() => _broker = await MosquittoBroker.StartAsync();

    public override async Task DisposeAsync() => await Broker.DisposeAsync();

    public override Task StopAsync() => Broker.StopAsync();

    public override Task StartAgainAsync() => Broker.StartAgainAsync();
}

/// <summary>
/// MQTTnet's server in this process. Sessions live in the server object, so with persistent sessions
/// on they outlive a stop and start, as a persisting broker's would.
/// </summary>
public sealed class MqttNetInteropBroker : InteropBroker, IInteropBroker
{
    private MqttServer? _server;
    private int _port;

    public static IReadOnlyList<MqttProtocolVersion> Versions => MosquittoInteropBroker.Versions;

    public override string Name => "MQTTnet.Server";

    public override int Port => _port;

    private MqttServer Server => _server ?? throw new InvalidOperationException("The broker is not started.");

    public override async Task InitializeAsync()
    {
        _port = Ports.Free();
        var options = new MqttServerOptionsBuilder()
            .WithDefaultEndpoint()
            .WithDefaultEndpointBoundIPAddress(IPAddress.Loopback)
            .WithDefaultEndpointPort(_port)
            .WithDefaultEndpointReuseAddress()
            .WithPersistentSessions()

            // Its default of 250 queued messages per client drops the oldest beyond that; mosquitto's config is raised likewise.
            .WithMaxPendingMessagesPerClient(100_000)
            .Build();
        _server = new MqttServerFactory().CreateMqttServer(options);
        await _server.StartAsync();
    }

    public override async Task DisposeAsync()
    {
        if (Server.IsStarted)
        {
            await StopAsync();
        }

        Server.Dispose();
    }

    public override Task StopAsync() => Server.StopAsync(new MqttServerStopOptions());

    public override Task StartAgainAsync() => Server.StartAsync();
}

/// <summary>
/// RabbitMQ 3.10 with its MQTT plugin (MQTT 3.1.1 only). It grants QoS 1 for QoS 2 subscriptions and
/// takes QoS 2 publications at QoS 1; its sessions are durable queues, so they survive a restart.
/// </summary>
public sealed class RabbitMqInteropBroker : InteropBroker, IInteropBroker
{
    private RabbitMqBroker? _broker;

    public static IReadOnlyList<MqttProtocolVersion> Versions { get; } = [MqttProtocolVersion.V311];

    public override string Name => "RabbitMQ MQTT";

    public override int Port => Broker.MqttPort;

    public override MqttQualityOfService GrantedForQos2 => MqttQualityOfService.AtLeastOnce;

    // rabbitmqctl needs about 2 s to reach the node, by when a stream of 2,000 messages has finished, and a
    // restart took 8 s, 19 s on a loaded machine.
    public override bool StopsAtOnce => false;

    private RabbitMqBroker Broker => _broker ?? throw new InvalidOperationException("The broker is not started.");

    public override async Task InitializeAsync() => _broker = await RabbitMqBroker.StartAsync(mqtt: true);

    public override async Task DisposeAsync() => await Broker.DisposeAsync();

    public override Task StopAsync() => Broker.StopAsync();

    public override Task StartAgainAsync() => Broker.StartAgainAsync();
}
