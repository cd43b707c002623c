using System.Globalization;
using System.Text;
using Edge.Mqtt;
using Edge.Testing;

namespace Edge.Mqtt.Tests;

/// <summary>The broker restarts in the middle of a stream of QoS 1 messages: nothing may be lost.</summary>
public sealed class MqttFaultTests : IAsyncLifetime
{
    private const int Count = 10_000;
    private MosquittoBroker _broker = null!;

    public async Task InitializeAsync() => _broker = await MosquittoBroker.StartAsync();

    public async Task DisposeAsync() => await _broker.DisposeAsync();

    [Theory]
    [InlineData(MqttProtocolVersion.V311)]
    [InlineData(MqttProtocolVersion.V500)]
    public async Task BrokerRestart_During10000QoS1Messages_LosesNone(MqttProtocolVersion version)
    {
        MqttClientOptions Persistent(string id) => new()
        {
            Host = "127.0.0.1",
            Port = _broker.Port,
            ProtocolVersion = version,
            ClientId = id,
            CleanSession = false,
            ReconnectMaxDelay = TimeSpan.FromSeconds(1),
            IncomingCapacity = Count,
        };

        await using var subscriber = new MqttClient(Persistent("fault-subscriber"));
        await subscriber.ConnectAsync();
        await subscriber.SubscribeAsync("fault/stream", MqttQualityOfService.AtLeastOnce);

        var received = new HashSet<int>();
        var duplicates = 0;
        var reading = Task.Run(async () =>
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
            while (received.Count < Count)
            {
                var message = await subscriber.Messages.ReadAsync(timeout.Token);
                if (!received.Add(int.Parse(message.PayloadText, CultureInfo.InvariantCulture)))
                {
                    duplicates++;
                }
            }
        });

        await using var publisher = new MqttClient(Persistent("fault-publisher"));
        await publisher.ConnectAsync();
        var acknowledged = 0;
        var before = 0;
        var stopping = new TaskCompletionSource<Task>(TaskCreationOptions.RunContinuationsAsynchronously);
        var sends = new List<Task>(Count);
        for (var i = 0; i < Count; i++)
        {
            sends.Add(Send(i));
        }

        async Task Send(int i)
        {
            await publisher.PublishAsync("fault/stream", Encoding.ASCII.GetBytes(i.ToString(CultureInfo.InvariantCulture)), MqttQualityOfService.AtLeastOnce);

            // Stop the broker once a good part is through, with much still in flight or queued. The
            // acknowledgement itself sends the SIGTERM: a polling loop starved on a busy machine could
            // wake only after all were through.
            if (Interlocked.Increment(ref acknowledged) == Count / 4)
            {
                var stop = _broker.StopAsync();
                Volatile.Write(ref before, Volatile.Read(ref acknowledged));
                stopping.TrySetResult(stop);
            }
        }

        await await stopping.Task.WaitAsync(TimeSpan.FromMinutes(3));
        await _broker.StartAgainAsync();

        await Task.WhenAll(sends).WaitAsync(TimeSpan.FromMinutes(3));
        await reading.WaitAsync(TimeSpan.FromMinutes(3));

        Assert.True(before < Count, $"the restart came after all {Count} were acknowledged; it tested nothing");
        Assert.Equal(Count, received.Count);
        Assert.Equal(Enumerable.Range(0, Count), received.Order());
        await _broker.WaitForLogAsync("Saving in-memory database");
        Console.WriteLine($"{version}: restart after {before} acknowledged; {duplicates} duplicate(s) received, 0 lost");
    }
}
