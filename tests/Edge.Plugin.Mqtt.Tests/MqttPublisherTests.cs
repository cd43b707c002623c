using Edge.Plugin.Mqtt;
using System.Text.Json;
using Edge.Mqtt;
using Edge.Plugin.Hosting.Publishing;
using Edge.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Edge.Plugin.Mqtt.Tests;

public sealed class MqttPublisherTests : IAsyncLifetime
{
    private const long Ts = 1_795_262_400_123_456_789;
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private readonly string _spool = Directory.CreateTempSubdirectory("mqtt-publisher-").FullName;
    private MosquittoBroker _broker = null!;

    public async Task InitializeAsync() => _broker = await MosquittoBroker.StartAsync();

    public async Task DisposeAsync()
    {
        await _broker.DisposeAsync();
        Directory.Delete(_spool, recursive: true);
    }

    private static IHost BuildHost(Dictionary<string, string?> settings)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [] });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.AddMqttPublisher();
        return builder.Build();
    }

    private Dictionary<string, string?> Settings(params (string Key, string Value)[] extra)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Publishing:Mqtt:Server"] = "127.0.0.1",
            ["Publishing:Mqtt:Port"] = _broker.Port.ToString(),

            // Its own spool: the default, one per broker address, could hold another run's records on a reused port.
            ["Publishing:Mqtt:Spool:Directory"] = _spool,
        };
        foreach (var (key, value) in extra)
        {
            settings[$"Publishing:Mqtt:{key}"] = value;
        }

        return settings;
    }

    private async Task<BackgroundProgram> SubscribeAsync(string topic, int count)
    {
        var id = $"pubtest-{Guid.NewGuid():N}"[..16];
        var sub = MosquittoBroker.Launch("mosquitto_sub", ["-h", "127.0.0.1", "-p", _broker.Port.ToString(), "-i", id, "-t", topic, "-C", count.ToString(), "-W", "30", "-q", "1", "-F", "%t %p"]);
        await _broker.WaitForLogAsync($"Sending SUBACK to {id}");
        return sub;
    }

    [Theory]
    [InlineData("Server", "", "Publishing:Mqtt:Server is not set")]
    [InlineData("Qos", "3", "Publishing:Mqtt:Qos must be 0, 1 or 2; got 3")]
    [InlineData("Topic", "edge/#", "Publishing:Mqtt:Topic 'edge/#' contains '+' or '#'")]
    [InlineData("CaFile", "/nonexistent/ca.pem", "Publishing:Mqtt:CaFile '/nonexistent/ca.pem' does not exist")]
    [InlineData("Port", "70000", "Publishing:Mqtt:Port 70000 is not a TCP port")]
    [InlineData("QueueCapacity", "0", "Publishing:Mqtt:QueueCapacity must be 1 to 1000000")]
    [InlineData("AckTimeoutSeconds", "0", "Publishing:Mqtt:AckTimeoutSeconds must be more than 0")]
    [InlineData("Spool:SegmentBytes", "10", "Publishing:Mqtt:Spool:SegmentBytes must be at least 1024; got 10")]
    public async Task BadSetting_FailsAtStartNamingTheKey(string key, string value, string expected)
    {
        using var host = BuildHost(Settings((key, value)));

        var e = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public async Task Measurement_ArrivesAsWaggleJsonOnTheTemplatedTopic()
    {
        using var sub = await SubscribeAsync("plugins/#", 2);
        using var host = BuildHost(Settings(("Topic", "plugins/{scope}/{path}")));
        await host.StartAsync();
        var publisher = host.Services.GetServices<IMeasurementPublisher>().Single(p => p.Name == "mqtt");

        await publisher.PublishAsync(new Measurement("env.count.car", 3L, Ts, new Dictionary<string, string> { ["camera"] = "bottom" }), default);
        await publisher.PublishAsync(new Measurement("env.temperature", 21.5, Ts, scope: "node"), default);
        var lines = (await sub.WaitAsync(Wait)).StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        await host.StopAsync();

        Assert.Equal("""plugins/all/env/count/car {"name":"env.count.car","ts":1795262400123456789,"meta":{"camera":"bottom"},"val":3}""", lines[0]);
        using var second = JsonDocument.Parse(lines[1]["plugins/node/env/temperature ".Length..]);
        Assert.Equal(21.5, second.RootElement.GetProperty("val").GetDouble());
    }

    [Fact]
    public async Task AddMqttPublisher_CalledTwice_DeliversEachMeasurementOnce()
    {
        using var sub = await SubscribeAsync("edge/#", 2);
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [] });
        builder.Configuration.AddInMemoryCollection(Settings(("Payload", "Value")));
        builder.Services.AddMqttPublisher().AddMqttPublisher(o => o.Qos = 1);
        using var host = builder.Build();
        await host.StartAsync();

        var publisher = Assert.Single(host.Services.GetServices<IMeasurementPublisher>());
        Assert.Single(host.Services.GetServices<IHostedService>(), s => s is MqttPublisher);
        await publisher.PublishAsync(new Measurement("env.count", 1L, Ts), default);
        await publisher.PublishAsync(new Measurement("env.count", 2L, Ts), default);

        // Two messages were awaited: a doubled publisher would have sent 1 twice before 2.
        Assert.Equal(["edge/env.count 1", "edge/env.count 2"], (await sub.WaitAsync(Wait)).StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        await host.StopAsync();
    }

    [Fact]
    public async Task ValueFormat_SendsTheValueAlone()
    {
        using var sub = await SubscribeAsync("edge/#", 1);
        using var host = BuildHost(Settings(("Payload", "Value"), ("ProtocolVersion", "V500"), ("Qos", "2")));
        await host.StartAsync();
        var publisher = host.Services.GetRequiredService<MqttPublisher>();

        await publisher.PublishAsync(new Measurement("env.mask.detected", "mask", Ts), default);

        Assert.Equal("edge/env.mask.detected mask", (await sub.WaitAsync(Wait)).StandardOutput.Trim());
        await Poll.UntilAsync(() => publisher.Delivered == 1, Wait, "the broker acknowledges the measurement");
        await host.StopAsync();
    }

    [Fact]
    public async Task BrokerThatVanishes_MeasurementsQueueAndArriveAfterItReturns()
    {
        // The reader keeps a persistent session, so the broker holds what arrives while the reader reconnects.
        await using var reader = new MqttClient(new MqttClientOptions { Host = "127.0.0.1", Port = _broker.Port, ClientId = "vanish-reader", CleanSession = false, ReconnectMaxDelay = TimeSpan.FromSeconds(1) });
        await reader.ConnectAsync();
        await reader.SubscribeAsync("edge/#", MqttQualityOfService.AtLeastOnce);

        using var host = BuildHost(Settings());
        await host.StartAsync();
        var publisher = host.Services.GetRequiredService<MqttPublisher>();
        await publisher.PublishAsync(new Measurement("env.before", 0L, Ts), default);
        using (var first = new CancellationTokenSource(Wait))
        {
            Assert.Equal("edge/env.before", (await reader.Messages.ReadAsync(first.Token)).Topic);
        }

        await Poll.UntilAsync(() => publisher.Delivered >= 1, Wait, "the broker acknowledges the first measurement");

        await _broker.StopAsync();
        for (var i = 0; i < 50; i++)
        {
            // Accepted at once although nothing can be delivered.
            await publisher.PublishAsync(new Measurement("env.during", i, Ts), default).AsTask().WaitAsync(Wait);
        }

        Assert.Equal(1, publisher.Delivered);
        await _broker.RestartAsync();

        var values = new HashSet<long>();
        using var timeout = new CancellationTokenSource(Wait);
        while (values.Count < 50)
        {
            var m = await reader.Messages.ReadAsync(timeout.Token);
            using var json = JsonDocument.Parse(m.Payload);
            values.Add(json.RootElement.GetProperty("val").GetInt64());
        }

        Assert.Equal(Enumerable.Range(0, 50).Select(i => (long)i), values.Order());
        await Poll.UntilAsync(() => publisher.Delivered == 51, Wait, () => $"the broker acknowledges all 51 measurements; {publisher.Delivered} so far");
        await host.StopAsync();
    }

    [Fact]
    public async Task QueueCapacity_BoundsTheSpool_TheOldestAreDropped_TheNewestArriveInOrderOnceTheBrokerIsBack()
    {
        // A persistent session: the broker keeps for the reader what arrives while it reconnects after the restart.
        await using var reader = new MqttClient(new MqttClientOptions { Host = "127.0.0.1", Port = _broker.Port, ClientId = "capacity-reader", CleanSession = false, ReconnectMaxDelay = TimeSpan.FromSeconds(1) });
        await reader.ConnectAsync();
        await reader.SubscribeAsync("edge/#", MqttQualityOfService.AtLeastOnce);
        await _broker.StopAsync();

        using var host = BuildHost(Settings(("QueueCapacity", "5"), ("Payload", "Value")));
        await host.StartAsync();
        var publisher = host.Services.GetRequiredService<MqttPublisher>();

        // None waits: with the broker down each is a spool write, and from the sixth on the oldest makes room.
        for (var i = 0; i < 20; i++)
        {
            await publisher.PublishAsync(new Measurement("env.x", (long)i, Ts), default).AsTask().WaitAsync(Wait);
        }

        Assert.Equal(5, publisher.Queued);
        Assert.Equal(15, publisher.Delivery.Spool.DroppedOldest);

        await _broker.StartAgainAsync();
        var values = new List<string>();
        using (var timeout = new CancellationTokenSource(Wait))
        {
            while (values.Count < 5)
            {
                values.Add(System.Text.Encoding.UTF8.GetString((await reader.Messages.ReadAsync(timeout.Token)).Payload.Span));
            }
        }

        Assert.Equal(["15", "16", "17", "18", "19"], values);
        await Poll.UntilAsync(() => publisher.Delivered == 5 && publisher.Queued == 0, Wait, () => $"the five are acknowledged; {publisher.Delivered} so far, {publisher.Queued} spooled");
        await host.StopAsync();
    }
}
