using System.Text;
using Edge.Mqtt;
using Edge.Testing;

namespace Edge.Mqtt.Tests;

/// <summary>Our client against a real mosquitto and its own command-line clients.</summary>
public sealed class MosquittoInteropTests : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private MosquittoBroker _broker = null!;

    public async Task InitializeAsync() => _broker = await MosquittoBroker.StartAsync();

    public async Task DisposeAsync() => await _broker.DisposeAsync();

    private MqttClientOptions Options(MqttProtocolVersion version, string? clientId = null) => new()
    {
        Host = "127.0.0.1",
        Port = _broker.Port,
        ProtocolVersion = version,
        ClientId = clientId ?? string.Empty,
    };

    private static string V(MqttProtocolVersion version) => version == MqttProtocolVersion.V500 ? "mqttv5" : "mqttv311";

    /// <summary>Starts mosquitto_sub and returns once the broker has acknowledged its subscription.</summary>
    private async Task<BackgroundProgram> SubscribeWithMosquittoSubAsync(string topic, int count, MqttProtocolVersion version, string format, params string[] extra)
    {
        var id = $"sub-{Guid.NewGuid():N}"[..16];
        var program = MosquittoBroker.Launch("mosquitto_sub", ["-h", "127.0.0.1", "-p", _broker.Port.ToString(), "-V", V(version), "-i", id, "-t", topic, "-C", count.ToString(), "-W", "30", "-q", "2", "-F", format, .. extra]);
        await _broker.WaitForLogAsync($"Sending SUBACK to {id}");
        return program;
    }

    public static TheoryData<MqttProtocolVersion, MqttQualityOfService> VersionsAndQos()
    {
        var data = new TheoryData<MqttProtocolVersion, MqttQualityOfService>();
        foreach (var v in new[] { MqttProtocolVersion.V311, MqttProtocolVersion.V500 })
        {
            foreach (var q in new[] { MqttQualityOfService.AtMostOnce, MqttQualityOfService.AtLeastOnce, MqttQualityOfService.ExactlyOnce })
            {
                data.Add(v, q);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(VersionsAndQos))]
    public async Task Publish_IsReceivedByMosquittoSub(MqttProtocolVersion version, MqttQualityOfService qos)
    {
        using var sub = await SubscribeWithMosquittoSubAsync("edge/test/#", 3, version, "%t %q %p");
        await using var client = new MqttClient(Options(version));
        await client.ConnectAsync();

        for (var i = 0; i < 3; i++)
        {
            await client.PublishAsync($"edge/test/{i}", Encoding.UTF8.GetBytes($"message {i}"), qos);
        }

        var result = await sub.WaitAsync(Wait);
        Assert.Equal(0, result.ExitCode);
        var lines = result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal([$"edge/test/0 {(int)qos} message 0", $"edge/test/1 {(int)qos} message 1", $"edge/test/2 {(int)qos} message 2"], lines);
    }

    [Theory]
    [MemberData(nameof(VersionsAndQos))]
    public async Task MosquittoPub_IsReceivedBySubscriber(MqttProtocolVersion version, MqttQualityOfService qos)
    {
        await using var client = new MqttClient(Options(version));
        await client.ConnectAsync();
        var granted = await client.SubscribeAsync("in/+", MqttQualityOfService.ExactlyOnce);
        Assert.Equal(MqttReasonCode.GrantedQos2, granted);

        var pub = Tool.Run("mosquitto_pub", ["-h", "127.0.0.1", "-p", _broker.Port.ToString(), "-V", V(version), "-t", "in/a", "-q", ((int)qos).ToString(), "-m", "from mosquitto_pub"]);
        Assert.Equal(0, pub.ExitCode);

        using var timeout = new CancellationTokenSource(Wait);
        var message = await client.Messages.ReadAsync(timeout.Token);
        Assert.Equal("in/a", message.Topic);
        Assert.Equal("from mosquitto_pub", message.PayloadText);
        Assert.Equal(qos, message.Qos);
    }

    [Fact]
    public async Task V5Properties_TravelBothWays()
    {
        using var sub = await SubscribeWithMosquittoSubAsync("props", 1, MqttProtocolVersion.V500, "%C|%R|%D|%P|%p");
        await using var client = new MqttClient(Options(MqttProtocolVersion.V500));
        await client.ConnectAsync();
        await client.SubscribeAsync("back");

        await client.PublishAsync(new MqttMessage("props", "{\"v\":1}"u8.ToArray(), MqttQualityOfService.AtLeastOnce)
        {
            ContentType = "application/json",
            ResponseTopic = "reply/here",
            CorrelationData = "req-7"u8.ToArray(),
            MessageExpiry = TimeSpan.FromMinutes(5),
            UserProperties = [new("camera", "bottom")],
        });
        var seen = await sub.WaitAsync(Wait);
        Assert.Equal("application/json|reply/here|req-7|camera:bottom|{\"v\":1}", seen.StandardOutput.Trim());

        var pub = Tool.Run("mosquitto_pub", ["-h", "127.0.0.1", "-p", _broker.Port.ToString(), "-V", "mqttv5", "-t", "back", "-q", "1", "-m", "answer",
            "-D", "publish", "user-property", "job", "42", "-D", "publish", "content-type", "text/plain", "-D", "publish", "correlation-data", "req-7", "-D", "publish", "response-topic", "r/t"]);
        Assert.Equal(0, pub.ExitCode);
        using var timeout = new CancellationTokenSource(Wait);
        var message = await client.Messages.ReadAsync(timeout.Token);
        Assert.Equal([new MqttUserProperty("job", "42")], message.UserProperties);
        Assert.Equal("text/plain", message.ContentType);
        Assert.Equal("r/t", message.ResponseTopic);
        Assert.Equal("req-7"u8.ToArray(), message.CorrelationData!.Value.ToArray());
    }

    [Theory]
    [InlineData(MqttProtocolVersion.V311)]
    [InlineData(MqttProtocolVersion.V500)]
    public async Task Retained_IsDeliveredToALaterMosquittoSub(MqttProtocolVersion version)
    {
        await using var client = new MqttClient(Options(version));
        await client.ConnectAsync();
        await client.PublishAsync("status/plugin", "running"u8.ToArray(), MqttQualityOfService.AtLeastOnce, retain: true);

        var sub = Tool.Run("mosquitto_sub", ["-h", "127.0.0.1", "-p", _broker.Port.ToString(), "-V", V(version), "-t", "status/plugin", "-C", "1", "-W", "10", "-F", "%r %p"], timeout: Wait);

        Assert.Equal(0, sub.ExitCode);
        Assert.Equal("1 running", sub.StandardOutput.Trim());
    }

    [Theory]
    [InlineData(MqttProtocolVersion.V311)]
    [InlineData(MqttProtocolVersion.V500)]
    public async Task LastWill_IsPublishedWhenTheClientVanishes_AndNotOnDisconnect(MqttProtocolVersion version)
    {
        using var sub = await SubscribeWithMosquittoSubAsync("will/#", 1, version, "%t %p");
        var options = Options(version);
        options.AutoReconnect = false;

        // A clean DISCONNECT discards the will: the first client's will must never arrive.
        options.Will = new MqttMessage("will/polite", "should not appear"u8.ToArray(), MqttQualityOfService.AtLeastOnce);
        await using (var polite = new MqttClient(options))
        {
            await polite.ConnectAsync();
            await polite.DisconnectAsync();
        }

        options.Will = new MqttMessage("will/crashed", "plugin gone"u8.ToArray(), MqttQualityOfService.AtLeastOnce);
        await using var client = new MqttClient(options);
        await client.ConnectAsync();
        client.Abort();

        var seen = await sub.WaitAsync(Wait);
        Assert.Equal("will/crashed plugin gone", seen.StandardOutput.Trim());
    }

    [Theory]
    [InlineData(MqttProtocolVersion.V311)]
    [InlineData(MqttProtocolVersion.V500)]
    public async Task SharedSubscription_SpreadsMessagesAcrossClients(MqttProtocolVersion version)
    {
        await using var first = new MqttClient(Options(version));
        await using var second = new MqttClient(Options(version));
        await first.ConnectAsync();
        await second.ConnectAsync();
        await first.SubscribeAsync("$share/workers/jobs");
        await second.SubscribeAsync("$share/workers/jobs");

        var lines = string.Join('\n', Enumerable.Range(0, 40).Select(i => $"job-{i}"));
        var pub = Tool.Run("mosquitto_pub", ["-h", "127.0.0.1", "-p", _broker.Port.ToString(), "-V", V(version), "-t", "jobs", "-q", "1", "-l"], standardInput: Encoding.UTF8.GetBytes(lines + "\n"));
        Assert.Equal(0, pub.ExitCode);

        var got = new List<string>[] { [], [] };
        using var timeout = new CancellationTokenSource(Wait);
        while (got[0].Count + got[1].Count < 40)
        {
            var a = first.Messages.WaitToReadAsync(timeout.Token).AsTask();
            var b = second.Messages.WaitToReadAsync(timeout.Token).AsTask();
            await Task.WhenAny(a, b);
            while (first.Messages.TryRead(out var m))
            {
                got[0].Add(m.PayloadText);
            }

            while (second.Messages.TryRead(out var m))
            {
                got[1].Add(m.PayloadText);
            }
        }

        Assert.NotEmpty(got[0]);
        Assert.NotEmpty(got[1]);
        Assert.Equal(Enumerable.Range(0, 40).Select(i => $"job-{i}").Order(), got[0].Concat(got[1]).Order());
    }

    [Fact]
    public async Task PersistentSession_ReceivesWhatWasPublishedWhileAway()
    {
        var options = Options(MqttProtocolVersion.V311, "persistent-reader");
        options.CleanSession = false;
        await using (var reader = new MqttClient(options))
        {
            await reader.ConnectAsync();
            await reader.SubscribeAsync("queued", MqttQualityOfService.AtLeastOnce);
            await reader.DisconnectAsync();
        }

        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(0, Tool.Run("mosquitto_pub", ["-h", "127.0.0.1", "-p", _broker.Port.ToString(), "-t", "queued", "-q", "1", "-m", $"m{i}"]).ExitCode);
        }

        await using var again = new MqttClient(options);
        Assert.True(await again.ConnectAsync());
        using var timeout = new CancellationTokenSource(Wait);
        var received = new List<string>();
        while (received.Count < 5)
        {
            received.Add((await again.Messages.ReadAsync(timeout.Token)).PayloadText);
        }

        Assert.Equal(["m0", "m1", "m2", "m3", "m4"], received);
    }

    [Theory]
    [InlineData(MqttProtocolVersion.V311)]
    [InlineData(MqttProtocolVersion.V500)]
    public async Task BrokerRestart_ClientReconnectsAndResubscribes(MqttProtocolVersion version)
    {
        var options = Options(version);
        options.ReconnectMaxDelay = TimeSpan.FromSeconds(1);
        await using var client = new MqttClient(options);
        var reconnected = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        var lost = false;
        client.ConnectionChanged += (_, e) =>
        {
            if (!e.IsConnected)
            {
                lost = true;
            }
            else if (lost)
            {
                reconnected.TrySetResult(e.SessionPresent);
            }
        };
        await client.ConnectAsync();
        await client.SubscribeAsync("after/restart");

        await _broker.RestartAsync();
        Assert.False(await reconnected.Task.WaitAsync(Wait));

        // The client resubscribes after it reports the reconnection; the first SUBACK in the log is from before the restart.
        await _broker.WaitForLogAsync($"Sending SUBACK to {client.ClientId}", occurrences: 2);

        Assert.Equal(0, Tool.Run("mosquitto_pub", ["-h", "127.0.0.1", "-p", _broker.Port.ToString(), "-t", "after/restart", "-q", "1", "-m", "still here"]).ExitCode);
        using var timeout = new CancellationTokenSource(Wait);
        Assert.Equal("still here", (await client.Messages.ReadAsync(timeout.Token)).PayloadText);
    }

    [Fact]
    public async Task KeepAlive_PingsKeepAnIdleConnectionOpen()
    {
        var options = Options(MqttProtocolVersion.V311);
        // mosquitto checks keep-alives every few seconds in whole seconds and allows 1.5 periods: with a
        // 1 s period one slipped ping on a busy machine is a drop, with 2 s it is not.
        options.KeepAlive = TimeSpan.FromSeconds(2);
        await using var client = new MqttClient(options);
        var drops = 0;
        client.ConnectionChanged += (_, e) =>
        {
            if (!e.IsConnected)
            {
                Interlocked.Increment(ref drops);
            }
        };
        await client.ConnectAsync();

        // mosquitto drops a client silent for 1.5 keep-alive periods; only PINGREQ keeps this one. Idle
        // long enough for the broker to have checked the connection at least once after the pings began.
        await _broker.WaitForLogAsync($"Received PINGREQ from {client.ClientId}", occurrences: 2);
        await Task.Delay(TimeSpan.FromSeconds(7));

        Assert.Equal(0, Volatile.Read(ref drops));
        Assert.True(client.IsConnected);
        await client.PublishAsync("alive", "yes"u8.ToArray(), MqttQualityOfService.AtLeastOnce);
    }

    [Fact]
    public async Task Publish_WithWildcardTopic_IsRejectedBeforeSending()
    {
        await using var client = new MqttClient(Options(MqttProtocolVersion.V311));
        await client.ConnectAsync();

        var e = await Assert.ThrowsAsync<ArgumentException>(async () => await client.PublishAsync("a/+/b", "x"u8.ToArray()));
        Assert.Contains("'a/+/b'", e.Message);
        await client.PublishAsync("a/ok", "x"u8.ToArray(), MqttQualityOfService.AtLeastOnce);
    }

    [Theory]
    [InlineData("a/#/b", "'#' must be a whole level and the last one")]
    [InlineData("a/b+", "'+' must be a whole level")]
    [InlineData("$share/+/t", "group name free of wildcards")]
    [InlineData("$share/g", "$share/<group>/<filter>")]
    public async Task Subscribe_InvalidFilter_IsRejectedAndTheConnectionStays(string filter, string problem)
    {
        await using var client = new MqttClient(Options(MqttProtocolVersion.V500));
        await client.ConnectAsync();

        var e = await Assert.ThrowsAsync<ArgumentException>(() => client.SubscribeAsync(filter));
        Assert.Contains(filter, e.Message);
        Assert.Contains(problem, e.Message);
        Assert.Equal(MqttReasonCode.GrantedQos1, await client.SubscribeAsync("a/+/b/#"));
    }

    [Fact]
    public async Task Connect_NothingListening_FailsNamingTheEndpoint()
    {
        var port = Ports.Free();
        await using var client = new MqttClient(new MqttClientOptions { Host = "127.0.0.1", Port = port });

        var e = await Assert.ThrowsAsync<MqttException>(() => client.ConnectAsync());
        Assert.Contains($"127.0.0.1:{port}", e.Message);
    }
}
