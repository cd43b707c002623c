using System.Diagnostics;
using Edge.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Edge.Plugin.Waggle.Tests;

/// <summary>
/// Subscribe/get against a real RabbitMQ. Measurements are published straight to data.topic with the
/// name as routing key, as the node's data-sharing service forwards what plugins send to-validator:
/// without that service nothing links the two exchanges, and pywaggle's own subscribe test publishes
/// to data.topic the same way.
/// </summary>
[Collection("rabbitmq")]
public sealed class SubscriptionTests(RabbitMqFixture rabbit) : IDisposable
{
    private const long Ts = 1_795_262_400_123_456_789;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
    private static readonly string[] Names = ["env.temperature", "env.temperature.fahrenheit", "env.humidity", "my.sensor.a", "my.sensor.a.b", "my.sensor", "sys", "sys.uptime", "sys.cpu.load", "system.uptime"];
    private readonly string _dir = Directory.CreateTempSubdirectory("waggle-sub-").FullName;
    private readonly LogCapture _logs = new();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData("env.temperature", "env.temperature", new[] { "env.temperature" })]
    [InlineData("my.sensor.*", "my.sensor.last", new[] { "my.sensor.a" })]
    [InlineData("sys.#", "sys.last", new[] { "sys", "sys.uptime", "sys.cpu.load" })]
    public async Task Pattern_ReceivesWhatItMatches_AndNothingElse(string pattern, string last, string[] expected)
    {
        await using var services = Services();
        await using var subscription = await SubscribeAsync(services, pattern);

        // A queue keeps order: once the last message (which matches) is in, all that matched before it is too.
        await rabbit.PublishDataAsync([.. Names.Select((n, i) => (n, RabbitMqFixture.Body(n, i.ToString(), Ts + i))), (last, RabbitMqFixture.Body(last, "-1", Ts))]);
        var received = new List<string>();
        Measurement? measurement;
        while ((measurement = await subscription.GetAsync(Patience, default)) is not null && measurement.Value.AsInt64 != -1)
        {
            received.Add(measurement.Name);
        }

        Assert.True(measurement is not null, $"the last message never came; received {string.Join(", ", received)}");
        Assert.Equal(expected, received);

        // RabbitMQ's routing and the SDK's own reading of a pattern agree.
        Assert.Equal(expected, Names.Where(n => MeasurementPattern.Matches(pattern, n)));
    }

    [Fact]
    public async Task SeveralPatterns_AMeasurementMatchingTwo_ArrivesOnce()
    {
        await using var services = Services();
        await using var subscription = await SubscribeAsync(services, "sys.#", "sys.*", "env.temperature");
        await rabbit.PublishDataAsync(("sys.uptime", RabbitMqFixture.Body("sys.uptime", "1", Ts)), ("env.temperature", RabbitMqFixture.Body("env.temperature", "2", Ts)));

        Assert.Equal("sys.uptime", (await subscription.GetAsync(Patience, default))?.Name);
        Assert.Equal("env.temperature", (await subscription.GetAsync(Patience, default))?.Name);
    }

    // Publishes as the node's data-sharing service forwards a plugin's message: json.dumps of
    // name/ts/meta/val (non-ASCII escaped, as Python does by default), meta tagged with plugin and node.
    private const string PikaForwarder = """
        import json, sys, pika
        port, ts = int(sys.argv[1]), int(sys.argv[2])
        conn = pika.BlockingConnection(pika.ConnectionParameters(host="127.0.0.1", port=port, credentials=pika.PlainCredentials("plugin", "plugin")))
        ch = conn.channel()
        def forward(name, value, ts, meta):
            meta = dict(meta, plugin="plugin-env:1.2.3", node="000048b02d15bc7c")
            body = json.dumps({"name": name, "ts": ts, "meta": meta, "val": value}, separators=(",", ":"))
            ch.basic_publish(exchange="data.topic", routing_key=name, body=body)
        forward("env.count.car", 42, ts, {"camera": "bottom_camera"})
        forward("env.temperature", 2.0, ts + 1, {})
        forward("env.label", "crème brûlée <&>", ts + 2, {})
        conn.close()
        """;

    [Fact]
    public async Task PikaForwarded_Messages_DecodeToNameValueTimestampAndMeta()
    {
        await using var services = Services();
        await using var subscription = await SubscribeAsync(services, "env.#");
        var script = Path.Combine(_dir, "forward.py");
        await File.WriteAllTextAsync(script, PikaForwarder);
        var run = Tool.Run("/usr/bin/python3", [script, rabbit.Broker.Port.ToString(), Ts.ToString()], timeout: TimeSpan.FromMinutes(1));
        Assert.True(run.ExitCode == 0, run.ToString());

        var count = await subscription.GetAsync(Patience, default);
        var temperature = await subscription.GetAsync(Patience, default);
        var label = await subscription.GetAsync(Patience, default);

        Assert.NotNull(count);
        Assert.Equal(("env.count.car", MeasurementKind.WholeNumber, 42L, Ts), (count.Name, count.Value.Kind, count.Value.AsInt64, count.TimestampNs));
        Assert.Equal("bottom_camera", count.Meta["camera"]);
        Assert.Equal("plugin-env:1.2.3", count.Meta["plugin"]);
        Assert.Equal("000048b02d15bc7c", count.Meta["node"]);

        // Python's 2.0 is a float and stays one.
        Assert.NotNull(temperature);
        Assert.Equal((MeasurementKind.RealNumber, 2.0, Ts + 1), (temperature.Value.Kind, temperature.Value.AsDouble, temperature.TimestampNs));

        Assert.NotNull(label);
        Assert.Equal((MeasurementKind.Text, "crème brûlée <&>"), (label.Value.Kind, label.Value.AsString));
    }

    [Fact]
    public async Task GetAsync_NothingComes_ReturnsNullOnceTheTimeoutPasses()
    {
        await using var services = Services();
        await using var subscription = await SubscribeAsync(services, "quiet.#");

        Assert.Null(await subscription.GetAsync(TimeSpan.Zero, default));
        var waited = Stopwatch.StartNew();
        Assert.Null(await subscription.GetAsync(TimeSpan.FromMilliseconds(300), default));
        Assert.InRange(waited.Elapsed, TimeSpan.FromMilliseconds(250), Patience);
    }

    [Fact]
    public async Task GetAsync_ReturnsAMeasurementThatArrivesWhileItWaits()
    {
        await using var services = Services();
        await using var subscription = await SubscribeAsync(services, "late.value");
        var get = subscription.GetAsync(TimeSpan.FromMinutes(2), default).AsTask();
        Assert.False(get.IsCompleted, "nothing was published yet");

        await rabbit.PublishDataAsync(("late.value", RabbitMqFixture.Body("late.value", "\"here\"", Ts)));

        var measurement = await get.WaitAsync(Patience);
        Assert.Equal("here", measurement?.Value.AsString);
    }

    [Fact]
    public async Task MalformedBody_IsLoggedWithItsReason_AndSkipped()
    {
        await using var services = Services();
        await using var subscription = await SubscribeAsync(services, "bad.#");
        await rabbit.PublishDataAsync(
            ("bad.json", "not json at all"),
            ("bad.value", RabbitMqFixture.Body("bad.value", "true", Ts)),
            ("bad.name", RabbitMqFixture.Body("Bad.Name", "1", Ts)),
            ("bad.good", RabbitMqFixture.Body("bad.good", "7", Ts)));

        var measurement = await subscription.GetAsync(Patience, default);

        Assert.Equal(("bad.good", 7L), (measurement?.Name, measurement?.Value.AsInt64));

        // One consumer handles deliveries in order, so the three before the good one are logged by now.
        var skipped = _logs.Lines.Where(l => l.Level == LogLevel.Warning && l.Message.StartsWith("Skipped a message", StringComparison.Ordinal)).Select(l => l.Message).ToList();
        Assert.Equal(3, skipped.Count);
        Assert.Contains("routing key bad.json: not JSON", skipped[0], StringComparison.Ordinal);
        Assert.Contains("routing key bad.value: val is a JSON boolean", skipped[1], StringComparison.Ordinal);
        Assert.Contains("routing key bad.name: Measurement name 'Bad.Name' has an invalid part 'Bad'", skipped[2], StringComparison.Ordinal);
        Assert.Contains("Body: not json at all", skipped[0], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Subscribe_MalformedPattern_IsRefusedNamingIt()
    {
        await using var services = Services();
        var subscriber = services.GetRequiredService<IMeasurementSubscriber>();

        var error = await Assert.ThrowsAsync<ArgumentException>(async () => await subscriber.SubscribeAsync(["env.temp*"], default));
        Assert.Contains("env.temp*", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BrokerRestart_TheSubscriptionReconnects_AndBindsItsPatternsAgain()
    {
        await using var services = Services();
        await using var subscription = await SubscribeAsync(services, "restart.#");
        await rabbit.PublishDataAsync(("restart.before", RabbitMqFixture.Body("restart.before", "1", Ts)));
        Assert.Equal("restart.before", (await subscription.GetAsync(Patience, default))?.Name);

        await rabbit.Broker.StopAsync();
        try
        {
            // While the broker is away, get waits and times out; it does not fail.
            Assert.Null(await subscription.GetAsync(TimeSpan.FromMilliseconds(500), default));
        }
        finally
        {
            await rabbit.Broker.StartAgainAsync();
        }

        var after = await ProbeUntilReceivedAsync(subscription, "restart.after");

        Assert.Equal("restart.after", after?.Name);
        Assert.Equal(2, ((WaggleSubscription)subscription).Attachments);
        Assert.Contains(_logs.Lines, l => l.Level == LogLevel.Warning && l.Message.Contains("was lost", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Subscribe_WhileTheBrokerIsDown_Returns_AndReceivesOnceItIsUp()
    {
        await using var services = Services();
        IMeasurementSubscription subscription;
        await rabbit.Broker.StopAsync();
        try
        {
            subscription = await SubscribeAsync(services, "early.#");
            Assert.Equal(0, ((WaggleSubscription)subscription).Attachments);
        }
        finally
        {
            await rabbit.Broker.StartAgainAsync();
        }

        await using (subscription)
        {
            Assert.Equal("early.bird", (await ProbeUntilReceivedAsync(subscription, "early.bird"))?.Name);
            Assert.Contains(_logs.Lines, l => l.Level == LogLevel.Warning && l.Message.StartsWith("Cannot subscribe to early.#", StringComparison.Ordinal));
        }
    }

    /// <summary>
    /// What is published before the subscription has its queue bound again is lost (as with pywaggle),
    /// so publish again and again until one arrives, within a deadline.
    /// </summary>
    private async Task<Measurement?> ProbeUntilReceivedAsync(IMeasurementSubscription subscription, string name)
    {
        Measurement? received = null;

        // Each try waits a quarter second for its message, which paces the publishing.
        await Poll.UntilAsync(
            async () =>
            {
                await rabbit.PublishDataAsync((name, RabbitMqFixture.Body(name, "1", Ts)));
                received = await subscription.GetAsync(TimeSpan.FromMilliseconds(250), default);
                return received is not null;
            },
            TimeSpan.FromSeconds(90),
            $"a {name} published again and again is received",
            interval: TimeSpan.Zero);
        return received;
    }

    private ServiceProvider Services()
    {
        var services = RabbitMqFixture.Services(logs: _logs);
        services.AddWaggle(o => rabbit.Configure(o, Path.Combine(_dir, "spool")), force: true);
        return services.BuildServiceProvider();
    }

    private static async Task<IMeasurementSubscription> SubscribeAsync(ServiceProvider services, params string[] patterns) =>
        await services.GetRequiredService<IMeasurementSubscriber>().SubscribeAsync(patterns, default);
}
