using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace Edge.Mqtt.Tests.Fuzz;

/// <summary>Runs alone, so that the allocation measured in one test is that test's own.</summary>
[CollectionDefinition(nameof(HostileBrokerFuzzTests), DisableParallelization = true)]
public sealed class HostileBrokerCollection;

/// <summary>
/// Our client against a broker that answers CONNECT with random, mutated, truncated and oversized
/// packets. Whatever it sends, the client must end each case within a deadline with an
/// <see cref="MqttException"/> that says what was wrong (an <see cref="IOException"/> where the socket
/// itself failed), allocate nothing in proportion to a length it was merely told, and never take the
/// process down. Seeded, so a failing case can be replayed from the number it prints.
/// </summary>
[Collection(nameof(HostileBrokerFuzzTests))]
public sealed partial class HostileBrokerFuzzTests(ITestOutputHelper output)
{
    private const int Workers = 4;

    // Far above what a case needs (the broker closes right after its bytes); only a hang reaches it.
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    [Fact]
    public Task Connect_AnsweredWithMutatedConnAck_FailsClearly() =>
        RunAsync(1, 3_000, (random, version) => FuzzCorpus.Mutate(random, FuzzCorpus.ConnAck(random, version)));

    [Fact]
    public Task Connect_AnsweredWithRandomBytes_FailsClearly() =>
        RunAsync(2, 3_000, (random, _) => FuzzCorpus.RandomBytes(random, 64));

    [Fact]
    public Task ValidConnAck_ThenMutatedOrRandomPackets_LosesTheConnectionClearly() =>
        RunAsync(3, 4_000, (random, version) =>
        [
            .. FuzzCorpus.ConnAck(random, version, success: true, valid: true),
            .. random.Next(4) == 0 ? FuzzCorpus.RandomBytes(random, 64) : FuzzCorpus.Mutate(random, FuzzCorpus.AnyBrokerPacket(random, version)),
        ]);

    [Fact]
    public Task Connect_AnsweredWithWrongPropertyIds_FailsNamingTheProperty() =>
        RunAsync(4, 2_000, (random, _) => FuzzCorpus.ConnAckWithRandomProperty(random), version: MqttProtocolVersion.V500);

    [Fact]
    public async Task HugeDeclaredLengths_AllocateNothingInProportion_AndFailClearly()
    {
        // Each case declares 2 MiB to 256 MiB and sends a few bytes of it: tens of GiB declared in all.
        const int cases = 400;
        var before = GC.GetTotalAllocatedBytes(precise: true);
        await RunAsync(5, cases, (random, version) => random.Next(2) == 0
            ? FuzzCorpus.HugeLength(random)
            : [.. FuzzCorpus.ConnAck(random, version, success: true, valid: true), .. FuzzCorpus.HugeLength(random)]);
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;

        output.WriteLine($"{allocated / 1024.0 / cases:0.#} KiB allocated per case");
        Assert.True(allocated < cases * 256L * 1024, $"{allocated / 1024 / 1024} MiB allocated for {cases} cases: a declared length was allocated");
    }

    [Theory]
    [InlineData(false, new byte[] { 0x20, 0xFF, 0xFF, 0xFF, 0xFF, 0x01 }, "remaining length of a CONNACK packet uses more than 4 bytes")]
    [InlineData(false, new byte[] { 0x20, 0x02, 0x00 }, "closed the connection in the middle of a packet (CONNACK, 3 of its 4 bytes) instead of answering CONNECT")]
    [InlineData(false, new byte[] { 0x20, 0x80 }, "closed the connection in the middle of a packet's fixed header (CONNACK, 2 byte(s))")]
    [InlineData(false, new byte[] { 0x20, 0x03, 0x00, 0x00, 0x00 }, "Malformed CONNACK: 1 byte(s) left over")]
    [InlineData(false, new byte[] { 0x20, 0x02, 0x02, 0x00 }, "Malformed CONNACK: acknowledge flags 0x02 set reserved bits")]
    [InlineData(false, new byte[] { 0x20, 0x02, 0x00, 0x09 }, "Malformed CONNACK: return code 9 is not one MQTT 3.1.1 defines")]
    [InlineData(false, new byte[] { 0x0F, 0x00 }, "Malformed packet: type 0 is reserved")]
    [InlineData(false, new byte[] { 0xD0, 0x00 }, "answered CONNECT with PingResp, not CONNACK")]
    [InlineData(false, new byte[] { 0x20, 0x02, 0x00, 0x00, 0x30, 0x03, 0x00, 0x00, 0x41 }, "Malformed PUBLISH: topic name is empty")]
    [InlineData(false, new byte[] { 0x20, 0x02, 0x00, 0x00, 0x30, 0x0A, 0x00 }, "closed the connection in the middle of a packet (PUBLISH, 3 of its 12 bytes)")]
    [InlineData(false, new byte[] { 0x20, 0x02, 0x00, 0x00, 0xC0, 0x00 }, "The broker sent PingReq, which a client never receives")]
    [InlineData(true, new byte[] { 0x20, 0x03, 0x00, 0x1C, 0x00 }, "refused the connection: a reason code MQTT does not define (0x1C)")]
    [InlineData(true, new byte[] { 0x20, 0x05, 0x00, 0x00, 0x02, 0x7E, 0x00 }, "Malformed CONNACK: unknown property identifier 0x7E")]
    [InlineData(true, new byte[] { 0x20, 0x06, 0x00, 0x00, 0x03, 0x21, 0x00, 0x00 }, "Malformed CONNACK: receive maximum 0 is not allowed")]
    [InlineData(true, new byte[] { 0x20, 0x03, 0x00, 0x00, 0x00, 0x30, 0x04, 0x00, 0x00, 0x00, 0x41 }, "Malformed PUBLISH: topic name is empty and no topic alias is given")]
    public async Task KnownHostileAnswers_NameTheFault(bool v5, byte[] answer, string expected)
    {
        await using var broker = new HostileBroker(async (stream, ct) => await stream.WriteAsync(answer, ct));

        var outcome = await RunCaseAsync(broker.Port, v5 ? MqttProtocolVersion.V500 : MqttProtocolVersion.V311);

        Assert.Contains(expected, outcome);
    }

    [Fact]
    public async Task Connect_BrokerSendsHalfAPacketAndGoesSilent_EndsAtTheConnectTimeout()
    {
        await using var broker = new HostileBroker(async (stream, ct) =>
        {
            await stream.WriteAsync(new byte[] { 0x20, 0xFF, 0xFF, 0xFF, 0x7F, 0x00 }, ct);
            await Task.Delay(Timeout.Infinite, ct);
        });
        var options = Options(broker.Port, MqttProtocolVersion.V311);
        options.ConnectTimeout = TimeSpan.FromMilliseconds(500);
        await using var client = new MqttClient(options);

        var e = await Assert.ThrowsAsync<MqttException>(() => client.ConnectAsync().WaitAsync(Deadline));
        Assert.Contains("did not answer CONNECT within 0.5 s", e.Message);
    }

    [Fact]
    public async Task Connected_BrokerSendsHalfAPacketAndGoesSilent_KeepAliveEndsTheConnection()
    {
        await using var broker = new HostileBroker(async (stream, ct) =>
        {
            await stream.WriteAsync(new byte[] { 0x20, 0x02, 0x00, 0x00, 0x30, 0xFF, 0xFF, 0xFF, 0x7F, 0x00 }, ct);
            await Task.Delay(Timeout.Infinite, ct);
        });
        var options = Options(broker.Port, MqttProtocolVersion.V311);
        options.KeepAlive = TimeSpan.FromSeconds(1);
        await using var client = new MqttClient(options);
        var lost = new TaskCompletionSource<Exception?>(TaskCreationOptions.RunContinuationsAsynchronously);
        client.ConnectionChanged += (_, e) =>
        {
            if (!e.IsConnected)
            {
                lost.TrySetResult(e.Error);
            }
        };
        await client.ConnectAsync();

        var error = await lost.Task.WaitAsync(Deadline);
        Assert.Contains("No packet from the broker in", Assert.IsType<MqttException>(error).Message);
    }

    [Fact]
    public async Task Publish_Qos2AnsweredWithPubAck_Completes()
    {
        // Regression: RabbitMQ's MQTT plugin answers a QoS 2 PUBLISH with PUBACK; the publish waited for a PUBREC for ever.
        await using var broker = new HostileBroker(async (stream, ct) =>
        {
            await stream.WriteAsync(new byte[] { 0x20, 0x02, 0x00, 0x00 }, ct);
            while (await HostileBroker.ReadPacketAsync(stream, ct) is { } packet)
            {
                if (packet[0] >> 4 == 3)
                {
                    var id = packet.AsSpan(2 + 2 + ((packet[2] << 8) | packet[3]), 2);
                    await stream.WriteAsync(new byte[] { 0x40, 0x02, id[0], id[1] }, ct);
                }
            }
        });
        await using var client = new MqttClient(Options(broker.Port, MqttProtocolVersion.V311));
        await client.ConnectAsync();

        await client.PublishAsync("t", "x"u8.ToArray(), MqttQualityOfService.ExactlyOnce).AsTask().WaitAsync(Deadline);
        Assert.Equal(0, client.PendingMessages);
    }

    private static MqttClientOptions Options(int port, MqttProtocolVersion version) => new()
    {
        Host = "127.0.0.1",
        Port = port,
        ProtocolVersion = version,
        AutoReconnect = false,
        ConnectTimeout = TimeSpan.FromSeconds(5),
        KeepAlive = TimeSpan.Zero,
    };

    /// <summary>Connects to the broker, lets it do its worst, and returns how the client ended: the message it gave.</summary>
    private static async Task<string> RunCaseAsync(int port, MqttProtocolVersion version)
    {
        var client = new MqttClient(Options(port, version));
        var lost = new TaskCompletionSource<Exception?>(TaskCreationOptions.RunContinuationsAsynchronously);
        client.ConnectionChanged += (_, e) =>
        {
            if (!e.IsConnected)
            {
                lost.TrySetResult(e.Error);
            }
        };
        try
        {
            try
            {
                await client.ConnectAsync().WaitAsync(Deadline);
            }
            catch (MqttException e)
            {
                return $"refused: {e.Message}";
            }

            // The broker closes once its bytes are out, so a connected client loses the connection soon after.
            var error = await lost.Task.WaitAsync(Deadline);
            return error switch
            {
                null => "closed",
                MqttException or IOException => $"lost: {error.Message}",
                _ => throw new InvalidOperationException($"The connection was lost with {error.GetType().Name}, not MqttException", error),
            };
        }
        finally
        {
            await client.DisposeAsync().AsTask().WaitAsync(Deadline);
        }
    }

    /// <summary>Runs numbered cases, each against its own answer, on a few brokers at once; fails naming the first case that broke a rule.</summary>
    private async Task RunAsync(int seed, int cases, Func<Random, MqttProtocolVersion, byte[]> answer, MqttProtocolVersion? version = null)
    {
        var outcomes = new ConcurrentDictionary<string, int>();
        var next = -1;
        async Task WorkAsync()
        {
            byte[] bytes = [];
            await using var broker = new HostileBroker(async (stream, ct) => await stream.WriteAsync(bytes, ct));
            for (var n = Interlocked.Increment(ref next); n < cases; n = Interlocked.Increment(ref next))
            {
                // One generator per case, so case n is the same bytes whichever worker runs it.
                var random = new Random((seed * 1_000_003) + n);
                var v = version ?? (random.Next(2) == 0 ? MqttProtocolVersion.V311 : MqttProtocolVersion.V500);
                bytes = answer(random, v);
                string outcome;
                try
                {
                    outcome = await RunCaseAsync(broker.Port, v);
                }
                catch (Exception e)
                {
                    throw new InvalidOperationException($"Case {seed}/{n} ({v}, answer {Convert.ToHexString(bytes.AsSpan(0, Math.Min(bytes.Length, 48)))}) ended with {e.GetType().Name}: {e.Message}", e);
                }

                Assert.True(NamesTheFault(outcome), $"Case {seed}/{n} ({v}, answer {Convert.ToHexString(bytes.AsSpan(0, Math.Min(bytes.Length, 48)))}) ended unclearly: {outcome}");
                outcomes.AddOrUpdate(Shape().Replace(outcome, "#"), 1, (_, count) => count + 1);
            }
        }

        await Task.WhenAll(Enumerable.Range(0, Workers).Select(_ => Task.Run(WorkAsync)));
        foreach (var (shape, count) in outcomes.OrderByDescending(o => o.Value))
        {
            output.WriteLine($"{count,5}  {shape}");
        }
    }

    /// <summary>Whether an outcome says what went wrong, rather than only that something did.</summary>
    private static bool NamesTheFault(string outcome) =>
        outcome == "closed" || FaultNamed().IsMatch(outcome);

    [GeneratedRegex(@"Malformed|CONNACK|closed the connection|refused the connection|exceeds the maximum packet size|sent DISCONNECT|which a client never receives|topic alias|Connection reset|Broken pipe")]
    private static partial Regex FaultNamed();

    // Numbers and quoted text vary from case to case; without them, outcomes group by kind.
    [GeneratedRegex(@"\d+|'[^']*'|0x[0-9A-F]+")]
    private static partial Regex Shape();
}
