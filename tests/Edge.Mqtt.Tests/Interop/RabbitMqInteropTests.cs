using Xunit.Abstractions;

namespace Edge.Mqtt.Tests.Interop;

/// <summary>
/// The interop tests against RabbitMQ's MQTT plugin (3.10: MQTT 3.1.1 only), a broker many edge sites
/// already run for AMQP, plus what it does differently: no MQTT 5, and QoS 2 taken as QoS 1.
/// </summary>
public sealed class RabbitMqInteropTests(RabbitMqInteropBroker broker, ITestOutputHelper output)
    : BrokerInteropTests<RabbitMqInteropBroker>(broker, output)
{
    [Fact]
    public async Task Connect_V5_FailsSayingTheBrokerHungUpOnCONNECT()
    {
        await using var client = new MqttClient(new MqttClientOptions { Host = "127.0.0.1", Port = Broker.Port, ProtocolVersion = MqttProtocolVersion.V500 });

        var e = await Assert.ThrowsAsync<MqttException>(() => client.ConnectAsync());
        Assert.Contains($"127.0.0.1:{Broker.Port} closed the connection instead of answering CONNECT", e.Message);
        Assert.Contains("protocol version", e.Message);
    }

    [Fact]
    public async Task Publish_Qos2_CompletesOnTheBrokersPubAck_InsteadOfHanging()
    {
        // Regression: the client waited for a PUBREC that RabbitMQ never sends, so PublishAsync never completed.
        var topic = Topic("downgraded");
        await using var subscriber = await ConnectAsync(MqttProtocolVersion.V311);
        await subscriber.SubscribeAsync(topic, MqttQualityOfService.ExactlyOnce);
        await using var publisher = await ConnectAsync(MqttProtocolVersion.V311);

        for (var i = 0; i < 3; i++)
        {
            await publisher.PublishAsync(topic, "once?"u8.ToArray(), MqttQualityOfService.ExactlyOnce).AsTask().WaitAsync(TimeSpan.FromSeconds(15));
        }

        Assert.Equal(0, publisher.PendingMessages);
        Assert.Equal(MqttQualityOfService.AtLeastOnce, (await NextAsync(subscriber)).Qos);
    }
}
