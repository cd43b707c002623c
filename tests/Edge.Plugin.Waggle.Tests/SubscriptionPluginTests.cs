using System.Text.Json;
using Edge.Plugin.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Edge.Plugin.Waggle.Tests;

/// <summary>Says when the plugin has subscribed: what is published before that is not received.</summary>
internal sealed class Subscribed
{
    public TaskCompletionSource Ready { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}

/// <summary>A whole subscription plugin: env.temperature in Celsius in, env.temperature.fahrenheit out, at the same time.</summary>
internal sealed class Fahrenheit(Subscribed subscribed) : SubscriptionPlugin
{
    public override IReadOnlyList<string> Topics { get; } = ["env.temperature"];

    protected internal override ValueTask StartAsync(PluginContext context, CancellationToken cancellationToken)
    {
        subscribed.Ready.TrySetResult();
        return ValueTask.CompletedTask;
    }

    protected internal override ValueTask ReceiveAsync(Measurement measurement, PluginContext context, CancellationToken cancellationToken)
    {
        var celsius = measurement.Value.Kind == MeasurementKind.WholeNumber ? measurement.Value.AsInt64 : measurement.Value.AsDouble;
        var meta = new Dictionary<string, string> { ["source"] = measurement.Name, ["unit"] = "F" };
        return context.PublishAsync(new Measurement("env.temperature.fahrenheit", (celsius * 9 / 5) + 32, measurement.TimestampNs, meta), cancellationToken);
    }
}

[Collection("rabbitmq")]
public sealed class SubscriptionPluginTests(RabbitMqFixture rabbit) : IDisposable
{
    private const long Ts = 1_795_262_400_123_456_789;
    private readonly string _dir = Directory.CreateTempSubdirectory("waggle-plugin-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task SubscriptionPlugin_RepublishesWhatItReceives_ThroughTheNodesBroker()
    {
        var results = await rabbit.BindQueueAsync();
        var builder = EdgePlugin.CreateBuilder(["-mode", "prod"]);
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Plugin:MaxTicks"] = "3",
            ["Publishing:Waggle:Host"] = "127.0.0.1",
            ["Publishing:Waggle:Port"] = rabbit.Broker.Port.ToString(),
            ["Publishing:Waggle:AppId"] = "fahrenheit-test",
            ["Publishing:Waggle:Spool:Directory"] = Path.Combine(_dir, "spool"),
        });
        builder.Services.AddWaggle(force: true);
        var subscribed = new Subscribed();
        builder.Services.AddSingleton(subscribed);
        builder.AddPlugin<Fahrenheit>();
        await using var plugin = builder.Build();

        var run = plugin.RunAsync();
        await subscribed.Ready.Task.WaitAsync(TimeSpan.FromMinutes(1));
        await rabbit.PublishDataAsync(
            ("env.temperature", RabbitMqFixture.Body("env.temperature", "20.0", Ts)),
            ("env.humidity", RabbitMqFixture.Body("env.humidity", "55", Ts + 1)),
            ("env.temperature", RabbitMqFixture.Body("env.temperature", "100", Ts + 2)),
            ("env.temperature", RabbitMqFixture.Body("env.temperature", "-40.0", Ts + 3)));

        // Plugin:MaxTicks=3: it stops by itself after the third temperature.
        Assert.Equal(ExitCodes.Success, await run.WaitAsync(TimeSpan.FromMinutes(1)));
        var published = await rabbit.ReadMessagesAsync(results, count: 3, TimeSpan.FromSeconds(30));

        Assert.Equal(["env.temperature.fahrenheit"], published.Select(p => p.Body.GetProperty("name").GetString()).Distinct());
        Assert.Equal([68.0, 212.0, -40.0], published.Select(p => p.Body.GetProperty("val").GetDouble()));
        Assert.Equal([Ts, Ts + 2, Ts + 3], published.Select(p => p.Body.GetProperty("ts").GetInt64()));
        Assert.All(published, p => Assert.Equal(("all", "fahrenheit-test", "env.temperature"), (p.RoutingKey, p.AppId, p.Body.GetProperty("meta").GetProperty("source").GetString())));
    }
}
