using System.Globalization;
using System.Text;
using System.Text.Json;
using Edge.Mqtt;
using Edge.Plugin.Hosting;
using Edge.Plugin.Hosting.Publishing;
using Edge.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Edge.Plugin.Mqtt.Tests;

/// <summary>
/// The MQTT publisher's spool, through real plugin processes (the probe, which publishes each
/// image's width and height) and a real mosquitto, read back with mosquitto_sub.
/// </summary>
public sealed class MqttSpoolTests : IAsyncLifetime
{
    private const long Ts = 1_795_262_400_123_456_789;
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private static readonly string Images = Path.Combine(RepoPaths.Root, "samples", "ColourClassifier", "data");
    private readonly string _dir = Directory.CreateTempSubdirectory("mqtt-spool-").FullName;
    private MosquittoBroker _broker = null!;

    private string Spool => Path.Combine(_dir, "spool");

    public async Task InitializeAsync() => _broker = await MosquittoBroker.StartAsync();

    public async Task DisposeAsync()
    {
        await _broker.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    private Dictionary<string, string?> Mqtt() => new()
    {
        ["Publishing__Mqtt__Server"] = "127.0.0.1",
        ["Publishing__Mqtt__Port"] = _broker.Port.ToString(CultureInfo.InvariantCulture),
        ["Publishing__Mqtt__Topic"] = "probe/{name}",
        ["Publishing__Mqtt__Spool__Directory"] = Spool,
    };

    private async Task<BackgroundProgram> SubscribeAsync(int count)
    {
        var id = $"spooltest-{Guid.NewGuid():N}"[..16];
        var sub = MosquittoBroker.Launch("mosquitto_sub", ["-h", "127.0.0.1", "-p", _broker.Port.ToString(CultureInfo.InvariantCulture), "-i", id, "-t", "probe/#", "-C", count.ToString(CultureInfo.InvariantCulture), "-W", "60", "-q", "1", "-F", "%t %p"]);
        await _broker.WaitForLogAsync($"Sending SUBACK to {id}");
        return sub;
    }

    private static List<(string Topic, string Name, long Ts, long Value)> Messages(Tool.Result sub) =>
        [.. sub.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line =>
        {
            var space = line.IndexOf(' ', StringComparison.Ordinal);
            using var json = JsonDocument.Parse(line[(space + 1)..]);
            var root = json.RootElement;
            return (line[..space], root.GetProperty("name").GetString()!, root.GetProperty("ts").GetInt64(), root.GetProperty("val").GetInt64());
        })];

    [Fact]
    public async Task BrokerDownForAWholeRun_ItsResultsAreSpooled_AndTheNextRunDeliversThemFirst_InOrder()
    {
        await _broker.StopAsync();
        using (var first = PluginProcess.Start(["plugin", "-input", Images], Mqtt()))
        {
            var exitCode = await first.WaitForExitAsync();

            // Spooled is accepted, not lost, as for REST and Waggle: exit 0, and the log says what is held and where.
            Assert.True(exitCode == ExitCodes.Success, $"exit {exitCode}. Log:\n{first.Log}");
            Assert.Contains("Finished: 3 frame(s), 0 failure(s)", first.Log);
            Assert.Contains($"6 record(s) remain spooled in {Spool}; they will be sent on the next start", first.Log);
        }

        await _broker.StartAgainAsync();
        using var sub = await SubscribeAsync(8);
        var secondStarted = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000;
        using var second = PluginProcess.Start(["plugin", "-input", Path.Combine(Images, "sky.jpg")], Mqtt());
        var secondExit = await second.WaitForExitAsync();
        var messages = Messages(await sub.WaitAsync(TimeSpan.FromSeconds(90)));

        Assert.True(secondExit == ExitCodes.Success, $"exit {secondExit}. Log:\n{second.Log}");
        Assert.Contains($"Spool {Spool}: 6 record(s)", second.Log);
        Assert.DoesNotContain("remain spooled", second.Log);
        Assert.Equal(Enumerable.Repeat(new[] { "image.width", "image.height" }, 4).SelectMany(n => n), messages.Select(m => m.Name));
        Assert.All(messages, m => Assert.Equal("probe/" + m.Name, m.Topic));
        Assert.All(messages, m => Assert.Equal(m.Name == "image.width" ? 320 : 240, m.Value));

        // The first run's six, stamped before the second run began, come before the second run's own two.
        Assert.All(messages.Take(6), m => Assert.True(m.Ts < secondStarted, $"{m.Name} at {m.Ts} is not from the first run"));
        Assert.Equal(messages.Select(m => m.Ts).Order(), messages.Select(m => m.Ts));
    }

    [Fact]
    public async Task Sigterm_MidFrame_TheFramesResultsReachTheBroker()
    {
        var release = Path.Combine(_dir, "release");
        using var sub = await SubscribeAsync(2);
        using var plugin = PluginProcess.Start(["slow", release, "ignore", "-input", Images], Mqtt());
        await plugin.WaitForLogAsync("in flight: forest.png");
        plugin.Terminate();
        await plugin.WaitForLogAsync("Stopping: frame");
        await File.WriteAllTextAsync(release, "");
        var exitCode = await plugin.WaitForExitAsync();
        var messages = Messages(await sub.WaitAsync(TimeSpan.FromSeconds(90)));

        Assert.True(exitCode == ExitCodes.Success, $"exit {exitCode}. Log:\n{plugin.Log}");
        Assert.Equal([("image.width", 320L), ("image.height", 240L)], messages.Select(m => (m.Name, m.Value)));
        Assert.Contains("Finished: 1 frame(s), 0 failure(s)", plugin.Log);
        Assert.DoesNotContain("remain spooled", plugin.Log);
    }

    [Fact]
    public async Task AcknowledgementThatComesLate_IsWaitedFor_InsteadOfPublishingASecondCopy()
    {
        // QoS 2 end to end: a second copy would be a second message, not a duplicate the broker could drop.
        await using var reader = new MqttClient(new MqttClientOptions { Host = "127.0.0.1", Port = _broker.Port, ClientId = "late-ack-reader", CleanSession = false });
        await reader.ConnectAsync();
        await reader.SubscribeAsync("edge/#", MqttQualityOfService.ExactlyOnce);
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [] });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Publishing:Mqtt:Server"] = "127.0.0.1",
            ["Publishing:Mqtt:Port"] = _broker.Port.ToString(CultureInfo.InvariantCulture),
            ["Publishing:Mqtt:Qos"] = "2",
            ["Publishing:Mqtt:Payload"] = "Value",
            ["Publishing:Mqtt:AckTimeoutSeconds"] = "1",
            ["Publishing:Mqtt:Spool:Directory"] = Spool,
        });
        builder.Services.AddMqttPublisher();
        using var host = builder.Build();
        await host.StartAsync();
        var publisher = host.Services.GetRequiredService<MqttPublisher>();
        await Poll.UntilAsync(() => publisher.Client.IsConnected, Wait, "the publisher connects");

        _broker.Pause();
        try
        {
            // The first is sent and waits out its second for PUBREC; then it and the two after it are spooled.
            for (var i = 0; i < 3; i++)
            {
                await publisher.PublishAsync(new Measurement("env.late", (long)i, Ts), default).AsTask().WaitAsync(Wait);
            }

            Assert.Equal(3, publisher.Queued);
        }
        finally
        {
            _broker.Resume();
        }

        await Poll.UntilAsync(() => publisher.Delivered == 3 && publisher.Queued == 0, Wait, () => $"the spool empties; {publisher.Delivered} delivered, {publisher.Queued} spooled");

        // A second copy of the first would have gone out before this one.
        await publisher.PublishAsync(new Measurement("env.late", 99L, Ts), default);
        var values = new List<string>();
        using (var timeout = new CancellationTokenSource(Wait))
        {
            while (values.LastOrDefault() != "99")
            {
                values.Add(Encoding.UTF8.GetString((await reader.Messages.ReadAsync(timeout.Token)).Payload.Span));
            }
        }

        Assert.Equal(["0", "1", "2", "99"], values);
        await host.StopAsync();
    }

    [Fact]
    public async Task RefusedByTheBroker_ThePublishFails_AndNothingIsSpooled()
    {
        // MQTT 5 lets mosquitto say NotAuthorized in the PUBACK; spooling the message would only have it refused again.
        await using var secured = await MosquittoBroker.StartAsync(new MosquittoSettings { Credentials = ("plugin", "s3cret"), Acl = "user plugin\ntopic readwrite open/#\n" });
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [] });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Publishing:Mqtt:Server"] = "127.0.0.1",
            ["Publishing:Mqtt:Port"] = secured.Port.ToString(CultureInfo.InvariantCulture),
            ["Publishing:Mqtt:ProtocolVersion"] = "V500",
            ["Publishing:Mqtt:UserName"] = "plugin",
            ["Publishing:Mqtt:Password"] = "s3cret",
            ["Publishing:Mqtt:Topic"] = "secret/{name}",
            ["Publishing:Mqtt:Spool:Directory"] = Spool,
        });
        builder.Services.AddMqttPublisher();
        using var host = builder.Build();
        await host.StartAsync();
        var publisher = host.Services.GetRequiredService<MqttPublisher>();
        await Poll.UntilAsync(() => publisher.Client.IsConnected, Wait, "the publisher connects");

        var refused = await Assert.ThrowsAsync<DeliveryRejectedException>(async () => await publisher.PublishAsync(new Measurement("env.x", 1L, Ts), default));

        Assert.Contains("NotAuthorized", refused.Message);
        Assert.Equal(0, publisher.Queued);
        Assert.Equal(0, publisher.Delivered);
        await host.StopAsync();
    }
}
