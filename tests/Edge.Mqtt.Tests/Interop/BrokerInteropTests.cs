using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;
using Edge.Testing;
using Xunit.Abstractions;

namespace Edge.Mqtt.Tests.Interop;

/// <summary>
/// What our client must do with every broker it claims to work with. Each broker's test class derives
/// from this one with its broker type, whose <see cref="IInteropBroker.Versions"/> decides which
/// protocol versions every theory runs with.
/// </summary>
[SuppressMessage("Design", "CA1000:Do not declare static members on generic types", Justification = "xunit reads theory data from static members of the test class; one closed type per broker.")]
public abstract class BrokerInteropTests<TBroker>(TBroker broker, ITestOutputHelper output) : IClassFixture<TBroker>
    where TBroker : InteropBroker, IInteropBroker
{
    // Generous for a loaded 2-core machine; a passing test waits only as long as the broker needs.
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);

    public static TheoryData<MqttProtocolVersion> Versions => [.. TBroker.Versions];

    public static TheoryData<MqttProtocolVersion, MqttQualityOfService> VersionsAndQos =>
        WithQos(MqttQualityOfService.AtMostOnce, MqttQualityOfService.AtLeastOnce, MqttQualityOfService.ExactlyOnce);

    /// <summary>QoS 1 and 2: what must survive a restart.</summary>
    public static TheoryData<MqttProtocolVersion, MqttQualityOfService> VersionsAndReliableQos =>
        WithQos(MqttQualityOfService.AtLeastOnce, MqttQualityOfService.ExactlyOnce);

    protected TBroker Broker { get; } = broker;

    private static TheoryData<MqttProtocolVersion, MqttQualityOfService> WithQos(params MqttQualityOfService[] qos)
    {
        var data = new TheoryData<MqttProtocolVersion, MqttQualityOfService>();
        foreach (var version in TBroker.Versions)
        {
            foreach (var q in qos)
            {
                data.Add(version, q);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Versions))]
    public async Task Connect_CleanSession_IsAcceptedWithoutASession(MqttProtocolVersion version)
    {
        await using var client = new MqttClient(Options(version));

        Assert.False(await client.ConnectAsync());
        Assert.True(client.IsConnected);
        await client.DisconnectAsync();
        Assert.False(client.IsConnected);
    }

    [Theory]
    [MemberData(nameof(VersionsAndQos))]
    public async Task PublishSubscribe_RoundTripsAtTheLowerOfPublishedAndGrantedQos(MqttProtocolVersion version, MqttQualityOfService qos)
    {
        var topic = Topic("qos");
        await using var subscriber = await ConnectAsync(version);
        var granted = await subscriber.SubscribeAsync(topic, MqttQualityOfService.ExactlyOnce);
        Assert.Equal((MqttReasonCode)Broker.GrantedForQos2, granted);
        await using var publisher = await ConnectAsync(version);

        await publisher.PublishAsync(topic, Encoding.UTF8.GetBytes($"at qos {(int)qos}"), qos).AsTask().WaitAsync(Wait);

        var message = await NextAsync(subscriber);
        Assert.Equal(topic, message.Topic);
        Assert.Equal($"at qos {(int)qos}", message.PayloadText);
        Assert.Equal((MqttQualityOfService)Math.Min((int)qos, (int)Broker.GrantedForQos2), message.Qos);
        Assert.False(message.Retain);
    }

    [Theory]
    [MemberData(nameof(Versions))]
    public async Task Retained_IsDeliveredToALaterSubscriberWithTheRetainFlag(MqttProtocolVersion version)
    {
        var topic = Topic("status");
        await using (var publisher = await ConnectAsync(version))
        {
            await publisher.PublishAsync(topic, "running"u8.ToArray(), MqttQualityOfService.AtLeastOnce, retain: true);
        }

        await using var later = await ConnectAsync(version);
        await later.SubscribeAsync(topic);

        var message = await NextAsync(later);
        Assert.Equal("running", message.PayloadText);
        Assert.True(message.Retain);
    }

    [Theory]
    [MemberData(nameof(Versions))]
    public async Task Wildcards_PlusMatchesOneLevel_HashMatchesEveryLevelBelow(MqttProtocolVersion version)
    {
        var root = Topic("site");
        await using var plus = await ConnectAsync(version);
        await using var hash = await ConnectAsync(version);
        await plus.SubscribeAsync($"{root}/+/temp");
        await hash.SubscribeAsync($"{root}/#");
        await using var publisher = await ConnectAsync(version);

        // The last one matches both filters, so each reader knows when it has seen everything.
        string[] topics = [$"{root}/a/temp", $"{root}/a/b/temp", $"{root}/a/humidity", root, $"{root}/b/temp", $"{root}/end/temp"];
        foreach (var topic in topics)
        {
            await publisher.PublishAsync(topic, Encoding.UTF8.GetBytes(topic), MqttQualityOfService.AtLeastOnce);
        }

        Assert.Equal([$"{root}/a/temp", $"{root}/b/temp", $"{root}/end/temp"], await TopicsUntilAsync(plus, $"{root}/end/temp"));
        Assert.Equal(topics, await TopicsUntilAsync(hash, $"{root}/end/temp"));
    }

    [Theory]
    [MemberData(nameof(Versions))]
    public async Task PersistentSession_ResumesAfterReconnect_WithWhatArrivedMeanwhile(MqttProtocolVersion version)
    {
        var topic = Topic("queued");
        var options = Options(version, ClientId("reader"), persistent: true);
        await using (var reader = new MqttClient(options))
        {
            Assert.False(await reader.ConnectAsync());
            await reader.SubscribeAsync(topic, MqttQualityOfService.AtLeastOnce);
            await reader.DisconnectAsync();
        }

        await using var publisher = await ConnectAsync(version);
        for (var i = 0; i < 5; i++)
        {
            await publisher.PublishAsync(topic, Encoding.UTF8.GetBytes($"m{i}"), MqttQualityOfService.AtLeastOnce);
        }

        // A new client object knows no subscriptions, so whatever arrives comes from the session the broker kept.
        await using var again = new MqttClient(options);
        Assert.True(await again.ConnectAsync());
        await publisher.PublishAsync(topic, "after"u8.ToArray(), MqttQualityOfService.AtLeastOnce);

        Assert.Equal(["m0", "m1", "m2", "m3", "m4", "after"], await PayloadsAsync(again, 6));
    }

    [Theory]
    [MemberData(nameof(Versions))]
    public async Task PublishedWhileDisconnected_AreSentAfterReconnecting_InOrder_WithoutDup(MqttProtocolVersion version)
    {
        const int count = 50;
        var topic = Topic("offline");
        await using var subscriber = new MqttClient(Options(version, ClientId("sub"), persistent: true));
        await subscriber.ConnectAsync();
        await subscriber.SubscribeAsync(topic, MqttQualityOfService.AtLeastOnce);
        await using var tap = new MqttWireTap(Broker.Port, version);
        await using var publisher = new MqttClient(Options(version, ClientId("pub"), persistent: true, port: tap.Port));
        await publisher.ConnectAsync();

        await GoAwayAsync(tap);
        await Poll.UntilAsync(() => !publisher.IsConnected, Wait, "the publisher notices the broker is gone");
        var sends = Enumerable.Range(0, count).Select(i => publisher.PublishAsync(topic, Encoding.UTF8.GetBytes($"m{i}"), MqttQualityOfService.AtLeastOnce).AsTask()).ToList();
        Assert.Equal(count, publisher.PendingMessages);
        Assert.DoesNotContain(sends, s => s.IsCompleted);
        await ComeBackAsync(tap);

        await Task.WhenAll(sends).WaitAsync(Wait);
        var received = await PayloadsAsync(subscriber, count);
        Assert.Equal(Enumerable.Range(0, count).Select(i => $"m{i}"), received);

        // They never went out before the broker came back, so none is a resend.
        var sent = tap.Sent.Where(p => p.Type == PacketType.Publish).ToList();
        Assert.Equal(count, sent.Count);
        Assert.All(sent, p => Assert.False(p.Duplicate, $"{p.Payload} carried DUP on its first send"));
    }

    [Theory]
    [MemberData(nameof(VersionsAndReliableQos))]
    public async Task InFlightWhenTheConnectionDrops_AreResentWithDup_NoneLost_InOrder(MqttProtocolVersion version, MqttQualityOfService qos)
    {
        const int count = 2_000;
        var topic = Topic("stream");
        await using var subscriber = new MqttClient(Options(version, ClientId("sub"), persistent: true, incoming: count * 2));
        await subscriber.ConnectAsync();

        // QoS 1 downstream: this test is about the publisher's resends, whatever the broker then does with QoS 2 towards subscribers.
        await subscriber.SubscribeAsync(topic, MqttQualityOfService.AtLeastOnce);
        var reading = Task.Run(() => FirstArrivalsAsync(subscriber, count));

        await using var tap = new MqttWireTap(Broker.Port, version);
        var options = Options(version, ClientId("pub"), persistent: true, port: tap.Port);

        // mosquitto 2.0.11 (Debian 12) acknowledges, then silently drops, incoming QoS 2 messages from an MQTT 3.1.1
        // client beyond its max_inflight_messages of 20 (2.0.13 reworked that accounting, #2306); MQTT 3.1.1 cannot say the limit.
        // Under MQTT 5 it announces a receive maximum of 20, which the client honours. 20 leaves a full window in flight.
        options.MaxInflight = 20;
        await using var publisher = new MqttClient(options);
        await publisher.ConnectAsync();
        var acknowledged = 0;
        var before = 0;
        var gone = new TaskCompletionSource<Task>(TaskCreationOptions.RunContinuationsAsynchronously);
        async Task SendAsync(int i)
        {
            await publisher.PublishAsync(topic, Encoding.ASCII.GetBytes(i.ToString(CultureInfo.InvariantCulture)), qos);

            // The acknowledgement itself takes the broker away, with a window of messages still in flight; a
            // polling loop starved on a loaded machine could wake only after all were through.
            if (Interlocked.Increment(ref acknowledged) == count / 4)
            {
                var stop = GoAwayAsync(tap);
                Volatile.Write(ref before, Volatile.Read(ref acknowledged));
                gone.TrySetResult(stop);
            }
        }

        var sends = Enumerable.Range(0, count).Select(SendAsync).ToList();
        await await gone.Task.WaitAsync(Wait);
        await ComeBackAsync(tap);

        await Task.WhenAll(sends).WaitAsync(Wait);
        var (order, duplicates) = await reading.WaitAsync(Wait);

        Assert.Equal(Enumerable.Range(0, count), order);
        var sent = tap.Sent;
        var resumed = AssertResendsCarryDup(sent);
        Assert.True(resumed > 0, $"the connection dropped after {before} acknowledged with no message in flight; it tested nothing");
        output.WriteLine($"{Broker.Name} {version} QoS {(int)qos}: {(Broker.StopsAtOnce ? "restart" : "connection cut")} after {before} acknowledged; {resumed} in flight carried over (PUBLISH resent with DUP, or PUBREL); {duplicates} duplicate(s) received, 0 lost, in order");
    }

    /// <summary>Takes the broker away from the client behind <paramref name="tap"/>: stops it where that is quick, else the relay drops and refuses the connection.</summary>
    private Task GoAwayAsync(MqttWireTap tap)
    {
        if (Broker.StopsAtOnce)
        {
            return Broker.StopAsync();
        }

        tap.Refusing = true;
        tap.Cut();
        return Task.CompletedTask;
    }

    private Task ComeBackAsync(MqttWireTap tap)
    {
        tap.Refusing = false;
        return Broker.StopsAtOnce ? Broker.StartAgainAsync() : Task.CompletedTask;
    }

    /// <summary>
    /// Checks each PUBLISH sent again kept its packet id and carried DUP, and that no QoS 2 message was
    /// published again once released; returns how many messages went on across a lost connection.
    /// </summary>
    private static int AssertResendsCarryDup(IReadOnlyList<SentPacket> sent)
    {
        var first = new Dictionary<string, SentPacket>();
        var byId = new Dictionary<ushort, SentPacket>();
        var released = new HashSet<ushort>();
        var resumed = new HashSet<ushort>();
        foreach (var p in sent)
        {
            if (p.Type == PacketType.PubRel)
            {
                released.Add(p.PacketId);

                // A PUBREL on a later connection than its PUBLISH finishes a QoS 2 exchange the restart interrupted.
                if (byId.TryGetValue(p.PacketId, out var publish) && p.Connection > publish.Connection)
                {
                    resumed.Add(p.PacketId);
                }

                continue;
            }

            byId[p.PacketId] = p;
            if (!first.TryGetValue(p.Payload, out var original))
            {
                // A first send the dying connection swallowed before it reached the relay shows up only as its resend.
                first[p.Payload] = p;
                Assert.True(!p.Duplicate || p.Connection > 1, $"message {p.Payload} carried DUP on its first send");
                if (p.Duplicate)
                {
                    resumed.Add(p.PacketId);
                }

                continue;
            }

            resumed.Add(p.PacketId);
            Assert.True(p.Duplicate, $"message {p.Payload} was sent again on connection {p.Connection} without DUP");
            Assert.Equal(original.PacketId, p.PacketId);
            Assert.True(p.Connection > original.Connection, $"message {p.Payload} was sent twice on one connection");

            // Once the broker answered PUBREC it owns a QoS 2 message: it may be released again, never published again.
            Assert.False(released.Contains(p.PacketId), $"message {p.Payload} was published again after its PUBREL");
        }

        return resumed.Count;
    }

    private MqttClientOptions Options(MqttProtocolVersion version, string? clientId = null, bool persistent = false, int? port = null, int incoming = 1_000) => new()
    {
        Host = "127.0.0.1",
        Port = port ?? Broker.Port,
        ProtocolVersion = version,
        ClientId = clientId ?? string.Empty,
        CleanSession = !persistent,
        ReconnectMaxDelay = TimeSpan.FromSeconds(1),
        IncomingCapacity = incoming,
    };

    protected async Task<MqttClient> ConnectAsync(MqttProtocolVersion version)
    {
        var client = new MqttClient(Options(version));
        await client.ConnectAsync();
        return client;
    }

    /// <summary>A topic no other test uses, since the broker is shared by the class.</summary>
    protected static string Topic(string name) => $"interop/{Guid.NewGuid():N}/{name}";

    /// <summary>Letters and digits, at most 23: what every MQTT 3.1.1 broker must accept as a client id.</summary>
    private static string ClientId(string role) => $"{role}{Guid.NewGuid():N}"[..23];

    protected static async Task<MqttMessage> NextAsync(MqttClient client)
    {
        using var timeout = new CancellationTokenSource(Wait);
        return await client.Messages.ReadAsync(timeout.Token);
    }

    private static async Task<List<string>> PayloadsAsync(MqttClient client, int count)
    {
        var payloads = new List<string>();
        while (payloads.Count < count)
        {
            payloads.Add((await NextAsync(client)).PayloadText);
        }

        return payloads;
    }

    private static async Task<List<string>> TopicsUntilAsync(MqttClient client, string last)
    {
        var topics = new List<string>();
        while (topics.Count == 0 || topics[^1] != last)
        {
            topics.Add((await NextAsync(client)).Topic);
        }

        return topics;
    }

    /// <summary>Reads until every number below <paramref name="count"/> arrived; returns them in order of first arrival, and how many came twice.</summary>
    private static async Task<(List<int> Order, int Duplicates)> FirstArrivalsAsync(MqttClient client, int count)
    {
        var seen = new HashSet<int>();
        var order = new List<int>(count);
        var duplicates = 0;
        while (order.Count < count)
        {
            var n = int.Parse((await NextAsync(client)).PayloadText, CultureInfo.InvariantCulture);
            if (seen.Add(n))
            {
                order.Add(n);
            }
            else
            {
                duplicates++;
            }
        }

        return (order, duplicates);
    }
}
