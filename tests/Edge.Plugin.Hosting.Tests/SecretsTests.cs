using System.Text;
using Edge.Testing;
using Xunit;

namespace Edge.Plugin.Hosting.Tests;

/// <summary>
/// Plants a distinct canary in every place a user can put a secret (command-line flags, environment
/// variables, appsettings), runs real plugin processes against real servers with trace logging, on
/// paths that fail (wrong passwords, unreachable hosts, 5xx and 404 answers), and checks that no
/// canary reaches stdout or stderr while the output still names the host, so errors stay useful.
/// </summary>
public sealed class SecretsTests : IDisposable
{
    private const string TestEnvironment = "Secrets";

    private readonly DirectoryInfo _temp = Directory.CreateTempSubdirectory("secrets-");

    public void Dispose()
    {
        _temp.Delete(recursive: true);
        File.Delete(AppSettingsFile);
    }

    // appsettings.{TestEnvironment}.json next to the program is one of the places a user keeps settings;
    // a test-only environment name keeps it away from every other test's runs.
    private static string AppSettingsFile => Path.Combine(AppContext.BaseDirectory, $"appsettings.{TestEnvironment}.json");

    [Fact]
    public async Task Camera_url_credentials_stay_out_of_input_errors()
    {
        var closed = Ports.Free();
        using var plugin = PluginProcess.Start(["plugin", "-input", $"http://camuser:CANARYcam1@127.0.0.1:{closed}/x.jpg?token=CANARYcam2"], Trace());
        await plugin.WaitForLogAsync($"***@127.0.0.1:{closed}");
        plugin.Terminate();
        await plugin.WaitForExitAsync();
        AssertClean(plugin, "CANARYcam1", "CANARYcam2", "camuser");
    }

    [Fact]
    public async Task Rest_and_mqtt_publisher_secrets_stay_out_of_retries()
    {
        await using var broker = await MosquittoBroker.StartAsync(new MosquittoSettings { Credentials = ("mquser", "right-password") });
        using var callbacks = new CallbackServer((_, _) => (503, TimeSpan.Zero));
        var url = $"http://restuser:CANARYrest1@127.0.0.1:{callbacks.BaseUrl.Port}/measurements?token=CANARYrest2&X-Amz-Signature=CANARYrest3";
        await File.WriteAllTextAsync(AppSettingsFile, """{ "Publishing": { "Mqtt": { "UserName": "mquser", "Password": "CANARYmqtt1" } } }""");
        var environment = Trace();
        environment["Publishing__Rest__Url"] = url;
        environment["Publishing__Rest__Callback__MaxAttempts"] = "2";
        environment["Publishing__Rest__Spool__Directory"] = Path.Combine(_temp.FullName, "rest-spool");
        environment["Publishing__Mqtt__Server"] = "127.0.0.1";
        environment["Publishing__Mqtt__Port"] = broker.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        environment["Publishing__Mqtt__Spool__Directory"] = Path.Combine(_temp.FullName, "mqtt-spool");
        using var plugin = PluginProcess.Start(["plugin", "-input", "pattern://?fps=5&width=16&height=16"], environment);

        // The callback client's own retry line, the spool's "unreachable" line and the MQTT publisher's refusals.
        await plugin.WaitForLogAsync("retrying in");
        await plugin.WaitForLogAsync($"***@127.0.0.1:{callbacks.BaseUrl.Port}/measurements?token=***");
        await plugin.WaitForLogAsync("MQTT publisher cannot connect yet");
        plugin.Terminate();
        await plugin.WaitForExitAsync();
        AssertClean(plugin, "CANARYrest1", "CANARYrest2", "CANARYrest3", "CANARYmqtt1", "restuser");
        Assert.Contains("127.0.0.1", plugin.Log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Model_url_credentials_and_signatures_stay_out_of_fetch_errors()
    {
        using var store = new CallbackServer((_, _) => (404, TimeSpan.Zero));
        var environment = Trace();
        environment["Storage__Cache__Directory"] = Path.Combine(_temp.FullName, "cache");
        var missing = $"http://modeluser:CANARYmodel1@127.0.0.1:{store.BaseUrl.Port}/models/m.onnx?X-Amz-Credential=CANARYmodel2&X-Amz-Signature=CANARYmodel3";
        using (var plugin = PluginProcess.Start(["model", "-input", "pattern://?frames=1&width=8&height=8", "-model", missing], environment))
        {
            Assert.NotEqual(0, await plugin.WaitForExitAsync());
            AssertClean(plugin, "CANARYmodel1", "CANARYmodel2", "CANARYmodel3", "modeluser");
            Assert.Contains($"***@127.0.0.1:{store.BaseUrl.Port}/models/m.onnx", plugin.Log, StringComparison.Ordinal);
        }

        // Unreachable: the store's error, quoted inside "could not be fetched (...)", is the other path.
        var closed = Ports.Free();
        var unreachable = $"https://modeluser:CANARYmodel4@127.0.0.1:{closed}/m.onnx?sig=CANARYmodel5#sha256=zz";
        using (var plugin = PluginProcess.Start(["model", "-input", "pattern://?frames=1&width=8&height=8", "-model", unreachable], environment))
        {
            Assert.NotEqual(0, await plugin.WaitForExitAsync());
            AssertClean(plugin, "CANARYmodel4", "CANARYmodel5");
        }

        using (var plugin = PluginProcess.Start(["model", "-input", "pattern://?frames=1&width=8&height=8", "-model", unreachable[..unreachable.IndexOf('#', StringComparison.Ordinal)]], environment))
        {
            Assert.NotEqual(0, await plugin.WaitForExitAsync());
            AssertClean(plugin, "CANARYmodel4", "CANARYmodel5");
            Assert.Contains($"***@127.0.0.1:{closed}", plugin.Log, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task S3_keys_stay_out_of_fetch_errors()
    {
        await using var s3 = await S3Server.StartAsync();
        var environment = Trace();
        environment["Storage__Cache__Directory"] = Path.Combine(_temp.FullName, "cache");
        environment["Storage__S3__Endpoint"] = s3.Endpoint;
        environment["Storage__S3__AccessKey"] = "CANARYs3access";
        environment["Storage__S3__SecretKey"] = "CANARYs3secret";
        environment["AWS_SESSION_TOKEN"] = "CANARYs3token";
        environment["Storage__S3__MaxRetries"] = "0";
        using var plugin = PluginProcess.Start(["model", "-input", "pattern://?frames=1&width=8&height=8", "-model", $"s3://{S3Server.Bucket}/none/m.onnx"], environment);
        Assert.NotEqual(0, await plugin.WaitForExitAsync());
        AssertClean(plugin, "CANARYs3access", "CANARYs3secret", "CANARYs3token");
        Assert.Contains($"s3://{S3Server.Bucket}/none/m.onnx", plugin.Log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Aicsd_password_stays_out_of_connect_failures()
    {
        await using var broker = await MosquittoBroker.StartAsync(new MosquittoSettings { Credentials = ("aiuser", "right-password") });
        var environment = Trace();
        environment["Triggers__AiCsd__Server"] = "127.0.0.1";
        environment["Triggers__AiCsd__Port"] = broker.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        environment["Triggers__AiCsd__UserName"] = "aiuser";
        environment["Triggers__AiCsd__Password"] = "CANARYaicsd1";
        using var plugin = PluginProcess.Start(["plugin", "-mode", "aicsd"], environment);
        await plugin.WaitForLogAsync("AiCSD worker cannot reach the broker 127.0.0.1");
        plugin.Terminate();
        await plugin.WaitForExitAsync();
        AssertClean(plugin, "CANARYaicsd1");
    }

    [Fact]
    public async Task Waggle_password_stays_out_of_subscription_failures()
    {
        await using var rabbit = await RabbitMqBroker.StartAsync();
        var environment = Trace();
        environment["Publishing__Waggle__Host"] = "127.0.0.1";
        environment["Publishing__Waggle__Port"] = rabbit.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        environment["WAGGLE_PLUGIN_PASSWORD"] = "CANARYamqp1";
        environment["Publishing__Waggle__Spool__Directory"] = Path.Combine(_temp.FullName, "waggle-spool");
        using var plugin = PluginProcess.Start(["subscriber", Path.Combine(_temp.FullName, "release")], environment);
        await plugin.WaitForLogAsync("Cannot subscribe to");
        plugin.Terminate();
        await plugin.WaitForExitAsync();
        AssertClean(plugin, "CANARYamqp1");
        Assert.Contains($"127.0.0.1:{rabbit.Port}", plugin.Log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Settings_refused_at_start_do_not_echo_their_secrets()
    {
        // A URL given where a host name belongs (exit 3), and a URL the binder cannot convert (exit 2): both stop start-up.
        foreach (var (key, value, canary) in new[]
        {
            ("Publishing__Mqtt__Server", "mqtt://mquser:CANARYset1@127.0.0.1:1883", "CANARYset1"),
            ("Publishing__Waggle__Host", "amqp://plugin:CANARYset2@127.0.0.1:5672", "CANARYset2"),
            ("Triggers__AiCsd__Server", "tcp://aiuser:CANARYset3@127.0.0.1", "CANARYset3"),
            ("Publishing__Rest__Url", "http://restuser:CANARYset4@[127.0.0.1/x", "CANARYset4"),
        })
        {
            var environment = Trace();
            environment[key] = value;
            string[] args = key.StartsWith("Triggers", StringComparison.Ordinal) ? ["plugin", "-mode", "aicsd"]
                : key.Contains("Waggle", StringComparison.Ordinal) ? ["subscriber", Path.Combine(_temp.FullName, "release")]
                : ["plugin", "-input", "pattern://?frames=1&width=8&height=8"];
            using var plugin = PluginProcess.Start(args, environment);
            var exit = await plugin.WaitForExitAsync();
            AssertClean(plugin, canary);
            Assert.NotEqual(0, exit);
            Assert.Contains(key.Replace("__", ":", StringComparison.Ordinal), plugin.Log, StringComparison.Ordinal);
        }
    }

    private Dictionary<string, string?> Trace() => new()
    {
        ["Logging__LogLevel__Default"] = "Trace",
        ["Logging__LogLevel__Microsoft"] = "Trace",
        ["Logging__LogLevel__System"] = "Trace",
        ["DOTNET_ENVIRONMENT"] = TestEnvironment,
        ["HOME"] = _temp.FullName,
    };

    private static void AssertClean(PluginProcess plugin, params string[] secrets)
    {
        var output = new StringBuilder().AppendJoin('\n', plugin.Output).Append('\n').Append(plugin.Log).ToString();
        Assert.True(output.Length > 0, "the plugin wrote nothing at all");
        foreach (var secret in secrets)
        {
            Assert.False(output.Contains(secret, StringComparison.Ordinal), $"'{secret}' appears in the plugin's output:\n{output}");
        }
    }
}
