using Edge.Mqtt;
using Edge.Testing;

namespace Edge.Mqtt.Tests;

/// <summary>
/// One mosquitto with a password, an ACL and TLS for all the tests of <see cref="MosquittoSecurityTests"/>:
/// making its certificates is most of a test's time, and the tests leave nothing on it (no retained
/// messages, no sessions, no restarts), each on client ids and topics of its own.
/// </summary>
public sealed class SecureMosquittoFixture : IAsyncLifetime
{
    internal MosquittoBroker Broker { get; private set; } = null!;

    public async Task InitializeAsync() => Broker = await MosquittoBroker.StartAsync(new MosquittoSettings
    {
        Credentials = ("plugin", "s3cret"),
        Acl = "user plugin\ntopic readwrite open/#\n",
        Tls = true,
    });

    public async Task DisposeAsync() => await Broker.DisposeAsync();
}

/// <summary>Passwords, ACLs and TLS (private CA, client certificates) against a real mosquitto.</summary>
public sealed class MosquittoSecurityTests(SecureMosquittoFixture fixture) : IClassFixture<SecureMosquittoFixture>
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private readonly MosquittoBroker _broker = fixture.Broker;

    private MqttClientOptions Options(MqttProtocolVersion version, string password = "s3cret", bool tls = false) => new()
    {
        Host = "127.0.0.1",
        Port = tls ? _broker.TlsPort : _broker.Port,
        ProtocolVersion = version,
        UserName = "plugin",
        Password = password,
        Tls = tls ? MqttTlsOptions.FromPemFiles(_broker.CaFile, _broker.ClientCertificateFile, _broker.ClientKeyFile) : null,
    };

    [Theory]
    [InlineData(MqttProtocolVersion.V311, MqttReasonCode.NotAuthorized)]
    [InlineData(MqttProtocolVersion.V500, MqttReasonCode.NotAuthorized)]
    public async Task WrongPassword_IsRefusedWithTheReasonCode(MqttProtocolVersion version, MqttReasonCode expected)
    {
        await using var client = new MqttClient(Options(version, password: "wrong"));

        var e = await Assert.ThrowsAsync<MqttException>(() => client.ConnectAsync());
        Assert.Equal(expected, e.ReasonCode);
        Assert.Contains("refused the connection", e.Message);
        Assert.Contains(expected.ToString(), e.Message);
    }

    [Theory]
    [InlineData(MqttQualityOfService.AtLeastOnce)]
    [InlineData(MqttQualityOfService.ExactlyOnce)]
    public async Task DeniedPublish_V5_SurfacesTheBrokersReasonCode(MqttQualityOfService qos)
    {
        await using var client = new MqttClient(Options(MqttProtocolVersion.V500));
        await client.ConnectAsync();

        var e = await Assert.ThrowsAsync<MqttException>(async () => await client.PublishAsync("secret/x", "no"u8.ToArray(), qos));
        Assert.Equal(MqttReasonCode.NotAuthorized, e.ReasonCode);
        Assert.Contains("rejected the message", e.Message);

        // The refusal is per message: the connection carries on.
        await client.PublishAsync("open/x", "yes"u8.ToArray(), qos);
    }

    [Theory]
    [InlineData(MqttProtocolVersion.V311)]
    [InlineData(MqttProtocolVersion.V500)]
    public async Task Tls_WithPrivateCaAndClientCertificate_RoundTrips(MqttProtocolVersion version)
    {
        await using var client = new MqttClient(Options(version, tls: true));
        await client.ConnectAsync();
        var topic = $"open/tls/{version}";
        await client.SubscribeAsync(topic);

        var id = $"tls-sub-{Guid.NewGuid():N}"[..16];
        using var sub = MosquittoBroker.Launch("mosquitto_sub", ["-h", "localhost", "-p", _broker.TlsPort.ToString(), "--cafile", _broker.CaFile, "--cert", _broker.ClientCertificateFile, "--key", _broker.ClientKeyFile,
            "-u", "plugin", "-P", "s3cret", "-i", id, "-t", topic, "-C", "2", "-W", "30", "-V", version == MqttProtocolVersion.V500 ? "mqttv5" : "mqttv311"]);
        await _broker.WaitForLogAsync($"Sending SUBACK to {id}");

        await client.PublishAsync(topic, "over tls"u8.ToArray(), MqttQualityOfService.ExactlyOnce);
        using var timeout = new CancellationTokenSource(Wait);
        Assert.Equal("over tls", (await client.Messages.ReadAsync(timeout.Token)).PayloadText);

        var pub = Tool.Run("mosquitto_pub", ["-h", "localhost", "-p", _broker.TlsPort.ToString(), "--cafile", _broker.CaFile, "--cert", _broker.ClientCertificateFile, "--key", _broker.ClientKeyFile, "-u", "plugin", "-P", "s3cret", "-t", topic, "-q", "1", "-m", "from mosquitto_pub"]);
        Assert.Equal(0, pub.ExitCode);
        Assert.Equal("from mosquitto_pub", (await client.Messages.ReadAsync(timeout.Token)).PayloadText);
        var seen = await sub.WaitAsync(Wait);
        Assert.Equal(["over tls", "from mosquitto_pub"], seen.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task Tls_WithoutClientCertificate_IsRefused()
    {
        var options = Options(MqttProtocolVersion.V311, tls: true);
        options.Tls = MqttTlsOptions.FromPemFiles(_broker.CaFile);
        await using var client = new MqttClient(options);

        var e = await Assert.ThrowsAsync<MqttException>(() => client.ConnectAsync());
        Assert.Contains($"127.0.0.1:{_broker.TlsPort}", e.Message);
    }

    [Fact]
    public async Task Tls_ServerFromAnUntrustedCa_IsRefused()
    {
        var other = Directory.CreateTempSubdirectory("other-ca-").FullName;
        TestCertificates.Create(other, prefix: "other-");
        var options = Options(MqttProtocolVersion.V311, tls: true);
        options.Tls = MqttTlsOptions.FromPemFiles(Path.Combine(other, "other-ca.crt"), _broker.ClientCertificateFile, _broker.ClientKeyFile);
        await using var client = new MqttClient(options);

        var e = await Assert.ThrowsAsync<MqttException>(() => client.ConnectAsync());
        Assert.Contains("over TLS", e.Message);
        Assert.IsAssignableFrom<System.Security.Authentication.AuthenticationException>(e.InnerException);
        Directory.Delete(other, recursive: true);
    }
}
