using Xunit.Abstractions;

namespace Edge.Mqtt.Tests.Interop;

/// <summary>The interop tests against mosquitto, the reference the other brokers are measured by.</summary>
public sealed class MosquittoBrokerInteropTests(MosquittoInteropBroker broker, ITestOutputHelper output)
    : BrokerInteropTests<MosquittoInteropBroker>(broker, output);
