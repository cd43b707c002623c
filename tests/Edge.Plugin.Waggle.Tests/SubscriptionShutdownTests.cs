using System.Globalization;
using Edge.Plugin.Hosting;
using Edge.Testing;

namespace Edge.Plugin.Waggle.Tests;

/// <summary>SIGTERM while a subscription plugin process is handling a measurement, against the real broker.</summary>
[Collection("rabbitmq")]
public sealed class SubscriptionShutdownTests(RabbitMqFixture rabbit) : IDisposable
{
    private const long Ts = 1_795_262_400_123_456_789;
    private readonly string _dir = Directory.CreateTempSubdirectory("waggle-shutdown-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Sigterm_WhileAMeasurementIsHandled_ItsRepublishReachesTheBroker()
    {
        var results = await rabbit.BindQueueAsync();
        var release = Path.Combine(_dir, "release");
        using var plugin = PluginProcess.Start(["subscriber", release], new Dictionary<string, string?>
        {
            ["WAGGLE_PLUGIN_HOST"] = "127.0.0.1",
            ["WAGGLE_PLUGIN_PORT"] = rabbit.Broker.Port.ToString(CultureInfo.InvariantCulture),
            ["WAGGLE_APP_ID"] = "shutdown-echo",
            ["Publishing__Waggle__Spool__Directory"] = Path.Combine(_dir, "spool"),
        });

        // Logged once subscribed: what is published before that is not received.
        await plugin.WaitForLogAsync("Starting SlowEcho");
        await rabbit.PublishDataAsync(("env.temperature", RabbitMqFixture.Body("env.temperature", "21.5", Ts)));
        await plugin.WaitForLogAsync("in flight: env.temperature");
        plugin.Terminate();
        await plugin.WaitForLogAsync("Stopping: measurement env.temperature");
        await File.WriteAllTextAsync(release, "");
        var exitCode = await plugin.WaitForExitAsync();

        Assert.True(exitCode == ExitCodes.Success, $"exit {exitCode}. Log:\n{plugin.Log}");
        var published = await rabbit.ReadMessagesAsync(results, count: 1, TimeSpan.FromSeconds(30));
        var echo = Assert.Single(published);
        Assert.Equal(("env.temperature.echo", 21.5, Ts), (echo.Body.GetProperty("name").GetString(), echo.Body.GetProperty("val").GetDouble(), echo.Body.GetProperty("ts").GetInt64()));
        Assert.Contains("Finished: 1 frame(s), 0 failure(s)", plugin.Log);
    }
}
