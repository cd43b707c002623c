using Xunit.Abstractions;

namespace Edge.Mqtt.Tests.Interop;

/// <summary>The interop tests against MQTTnet's server, in this process, MQTT 3.1.1 and 5.0.</summary>
public sealed class MqttNetServerInteropTests(MqttNetInteropBroker broker, ITestOutputHelper output)
    : BrokerInteropTests<MqttNetInteropBroker>(broker, output)
{
    [Fact]
    public async Task V5Properties_TravelThroughTheBroker()
    {
        var topic = Topic("props");
        await using var subscriber = await ConnectAsync(MqttProtocolVersion.V500);
        await subscriber.SubscribeAsync(topic);
        await using var publisher = await ConnectAsync(MqttProtocolVersion.V500);

        await publisher.PublishAsync(new MqttMessage(topic, "{\"v\":1}"u8.ToArray(), MqttQualityOfService.AtLeastOnce)
        {
            ContentType = "application/json",
            ResponseTopic = "reply/here",
            CorrelationData = "req-7"u8.ToArray(),
            PayloadIsUtf8 = true,
            UserProperties = [new("camera", "bottom"), new("camera", "top")],
        });

        var message = await NextAsync(subscriber);
        Assert.Equal("application/json", message.ContentType);
        Assert.Equal("reply/here", message.ResponseTopic);
        Assert.Equal("req-7"u8.ToArray(), message.CorrelationData!.Value.ToArray());
        Assert.True(message.PayloadIsUtf8);
        Assert.Equal([new MqttUserProperty("camera", "bottom"), new MqttUserProperty("camera", "top")], message.UserProperties);
    }
}
